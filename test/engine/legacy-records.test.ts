import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKEND, startApp, type TestApp } from '../helpers.js';
import { asTenant } from '../../src/store/tenant-scope.js';
import type { StoredRecord } from '../../src/store/records.js';
import { RESOURCES } from '../../src/resources/index.js';
import { checkRecords, type Refused } from '../../src/cli/check.js';
import type { Clock } from '../../src/core/clock.js';

/**
 * Records an older release accepted and the current definitions refuse (docs/upgrading.md): they are
 * written here straight through the store, as the older release left them. They stay PATCHable on
 * their other fields, the scheduler marks a recurring run it cannot read once, and `accredit check`
 * lists them.
 */
const FREE_TEXT = 'quarterly, first business day';
let now = new Date('2026-06-15T10:00:00Z');
const clock: Clock = { now: () => now };

describe(`records stored under older rules (${BACKEND})`, () => {
  let t: TestApp;
  before(async () => {
    t = await startApp({ clock });
  });
  after(async () => t.close());

  /** A record as an older release stored it: no check of today's rules. */
  async function legacy(slug: string, id: string, fields: Record<string, unknown>): Promise<void> {
    const table = t.app.services.resource(slug).table;
    const record = {
      id,
      ...fields,
      sys_version: 1,
      sys_created_at: '2025-01-01T00:00:00.000Z',
      sys_created_by_id: 'old-release',
      sys_last_modified_at: '2025-01-01T00:00:00.000Z',
      sys_last_modified_by_id: 'old-release',
    } as StoredRecord;
    await asTenant('acme', () => t.store.transaction((trx) => table.insert(trx, 'acme', record)));
  }
  const get = async (path: string) => (await t.call({ method: 'GET', url: path })).json();
  const patch = (path: string, ops: unknown[]) => t.call({ method: 'PATCH', url: path, payload: ops, auth: t.admin });

  test('a recurring run with a free-text schedule: a PATCH of another field works, of the schedule must make it valid; PUT checks the whole body', async () => {
    await legacy('recurringBillingRuns', 'rbr-legacy-1', { name: 'Quarterly', schedule: FREE_TEXT, pre_processing_lead_time: 2 });
    const url = '/recurringBillingRuns/acme/rbr-legacy-1';
    const renamed = await patch(url, [{ op: 'replace', path: '/name', value: 'Quarterly (old)' }]);
    assert.equal(renamed.statusCode, 200, renamed.body);
    assert.equal(renamed.json().name, 'Quarterly (old)');
    assert.equal(renamed.json().schedule, FREE_TEXT, 'left as it was');

    const stillBad = await patch(url, [{ op: 'replace', path: '/schedule', value: 'every other Tuesday' }]);
    assert.equal(stillBad.statusCode, 422);
    assert.equal(stillBad.json().errors[0].field, 'schedule');

    // a new error elsewhere still refuses the patch, although the schedule was invalid before
    const newError = await patch(url, [{ op: 'replace', path: '/pre_processing_lead_time', value: -1 }]);
    assert.equal(newError.statusCode, 422, newError.body);
    assert.deepEqual(
      newError.json().errors.map((e: { field: string }) => e.field),
      ['pre_processing_lead_time'],
    );

    const put = await t.call({
      method: 'PUT',
      url,
      payload: { name: 'Quarterly', schedule: FREE_TEXT, pre_processing_lead_time: 2 },
      auth: t.admin,
    });
    assert.equal(put.statusCode, 400);
    assert.equal(put.json().errors[0].field, 'schedule');

    // through a batch too
    const batch = await t.call({
      method: 'POST',
      url: '/recurringBillingRuns/acme/batch',
      payload: {
        operations: [{ operation: 'patch', id: 'rbr-legacy-1', patch_directives: [{ op: 'replace', path: '/name', value: 'Q' }] }],
      },
      auth: t.admin,
    });
    assert.equal(batch.json().results[0].status, 200, batch.body);
  });

  test('the same holds for any resource and any rule: a field the definitions no longer know, a value below a minimum', async () => {
    await legacy('billingRuns', 'br-legacy-1', { name: 'Old run', status: 'draft', legacy_note: 'from 2024' });
    const url = '/billingRuns/acme/br-legacy-1';
    const ok = await patch(url, [{ op: 'replace', path: '/name', value: 'Old run, renamed' }]);
    assert.equal(ok.statusCode, 200, ok.body);
    const stored = async () => asTenant('acme', () => t.app.services.resource('billingRuns').table.get(t.store.db, 'acme', 'br-legacy-1'));
    assert.equal((await stored())?.legacy_note, 'from 2024', 'kept as it was (answers leave unknown fields out)');
    const removed = await patch(url, [{ op: 'remove', path: '/legacy_note' }]);
    assert.equal(removed.statusCode, 200, removed.body);
    assert.equal((await stored())?.legacy_note, undefined);

    // two fields below their minimum: a patch that fixes one is allowed, the other is left as it was
    await legacy('recurringBillingRuns', 'rbr-legacy-2', {
      name: 'Negative',
      schedule: '0 6 1 * *',
      pre_processing_lead_time: -3,
      errors_since_last_run: -1,
    });
    const fixOne = await patch('/recurringBillingRuns/acme/rbr-legacy-2', [{ op: 'replace', path: '/errors_since_last_run', value: 0 }]);
    assert.equal(fixOne.statusCode, 200, fixOne.body);
  });

  test('the scheduler marks a recurring run whose schedule it cannot read once, and does not retry it every tick', async () => {
    await legacy('recurringBillingRuns', 'rbr-legacy-3', {
      name: 'Sched',
      schedule: FREE_TEXT,
      pre_processing_lead_time: 1,
      is_active: true,
    });
    const url = '/recurringBillingRuns/acme/rbr-legacy-3';
    const scheduler = t.app.services.scheduler!;
    await scheduler.tick();
    const marked = await get(url);
    assert.match(String(marked.last_error), /^schedule: /);
    assert.equal(marked.errors_since_last_run, 1);
    assert.equal(marked.last_error_date, now.toISOString());
    assert.equal(marked.sys_version, 2);
    for (let i = 0; i < 3; i++) {
      now = new Date(now.getTime() + 60_000);
      await scheduler.tick();
    }
    const after = await get(url);
    assert.equal(after.sys_version, 2, 'no write at later ticks');
    assert.equal(after.errors_since_last_run, 1);

    // corrected: the scheduler takes it up again
    const fixed = await patch(url, [{ op: 'replace', path: '/schedule', value: '0 6 1 * *' }]);
    assert.equal(fixed.statusCode, 200, fixed.body);
    await scheduler.tick();
    const taken = await get(url);
    assert.equal(taken.next_run_date, '2025-01-01T06:00:00.000Z', 'the next occurrence after its creation');
    assert.equal(taken.sys_version, 4);
  });

  test('check lists the stored records the current definitions refuse, per resource, with the field and reason', async () => {
    await legacy('recurringBillingRuns', 'rbr-legacy-4', { name: 'Listed', schedule: FREE_TEXT, pre_processing_lead_time: 1 });
    const found: Refused[] = [];
    const summary = await checkRecords(t.store, RESOURCES, (r) => found.push(r));
    const byId = new Map(found.map((r) => [r.id, r]));
    assert.deepEqual(
      byId.get('rbr-legacy-1')?.errors.map((e) => e.field),
      ['schedule'],
    );
    assert.match(byId.get('rbr-legacy-4')!.errors[0]!.reason, /cron|schedule|field/i);
    assert.equal(byId.get('rbr-legacy-4')?.resource, 'recurringBillingRuns');
    assert.equal(byId.get('rbr-legacy-4')?.tenant_id, 'acme');
    // both of rbr-legacy-2's remaining problem, not only the first
    assert.deepEqual(
      byId.get('rbr-legacy-2')?.errors.map((e) => e.field),
      ['pre_processing_lead_time'],
    );
    assert.ok(!byId.has('rbr-legacy-3'), 'corrected above');
    assert.ok(!byId.has('br-legacy-1'), 'its unknown field was removed above');
    assert.equal(summary.refused.get('recurringBillingRuns'), 3);
    assert.ok(summary.checked >= 5);
  });
});
