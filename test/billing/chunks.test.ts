import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';
import type { Clock } from '../../src/core/clock.js';
import { asSystem } from '../../src/store/tenant-scope.js';
import { addDays, executionEnded, injectCall, listAll } from './population.js';

/**
 * An execution performs its actions in chunks, one transaction each, every action in a savepoint.
 * Here one chunk holds three actions on each certification (a forecast and two renewal reminders,
 * each reminder changing the certification after the forecast did), and one locked certification
 * whose actions fail: a reminder queues its e-mail and then fails on the lock, so its e-mail must go
 * with it, while every other action of the chunk is kept.
 */
const TODAY = '2026-06-15';
const clock: Clock = { now: () => new Date(`${TODAY}T09:00:00Z`) };
let t: TestApp;
let f: Factory;

const call = injectCall(() => t);
const finished = (handle: { executionArn: string }) => executionEnded(call, handle);

before(async () => {
  t = await startApp({ clock, env: { WORKER_POLL_MS: '50', SCHEDULER_POLL_MS: '0' } });
  f = new Factory(t, t.admin);
});
after(async () => {
  await t.close();
});

test('a failing action of a chunk is undone alone, its e-mail with it; the others are kept', async () => {
  const program = await f.create('programs', { name: 'Chunked' });
  const fee = await f.create('applicationFees', { name: 'Renewal', price: 175, program_id: program.id });
  await f.create('applicationProcesses', { name: 'Renewal', type: 'renewal', program_id: program.id, application_fee_id: fee.id });
  const notice = (subject: string) =>
    f.create('notices', {
      name: subject,
      email: { subject, body: '<p>Dear {{name}}, certificate {{number}} expires on {{expiration_date}}.</p>' },
    });
  const [first, second] = [await notice('First reminder'), await notice('Second reminder')];
  const exp = addDays(TODAY, 30);
  const certs: any[] = [];
  for (let i = 0; i < 12; i++) {
    certs.push(
      await call(
        'POST',
        '/certifications/acme',
        {
          number: 500 + i,
          contact_id: `k-${i}`,
          program_id: program.id,
          status: 'active',
          name: `Holder ${i}`,
          email_address: `k${i}@example.test`,
          expiration_date: exp,
        },
        201,
      ),
    );
  }
  const locked = certs[5]!;
  await call('PATCH', `/certifications/acme/${locked.id}`, [{ op: 'replace', path: '/sys_locked', value: true }]);
  const window = { expiration_date_range_start: addDays(TODAY, 20), expiration_date_range_end: addDays(TODAY, 40) };
  const run = await call(
    'POST',
    '/billingRuns/acme',
    {
      name: 'One chunk',
      status: 'draft',
      forecast_renewals: true,
      renewal_forecasting_options: { ...window, program_ids: [program.id], program_restriction: 'include' },
      send_renewal_reminders: true,
      renewal_reminder_options: {
        program_ids: [program.id],
        program_restriction: 'include',
        reminders: [
          { id: 1, name: 'first', ...window, reminder_notice_id: first.id },
          { id: 2, name: 'second', ...window, reminder_notice_id: second.id },
        ],
      },
    },
    201,
  );
  assert.equal((await finished(await call('POST', `/billingRuns/acme/refresh/${run.id}`))).status, 'SUCCEEDED');
  const exec = await finished(await call('POST', `/billingRuns/acme/execute/${run.id}`));
  assert.equal(exec.status, 'SUCCEEDED', JSON.stringify(exec));
  assert.deepEqual(exec.output, { performed: 36, errors: 3 });

  const actions = await listAll(call, `/billingRunActions/acme/billingRun/${run.id}`);
  assert.equal(actions.length, 36);
  for (const a of actions) {
    if (a.certification_id === locked.id) {
      assert.equal(a.status, 'error', JSON.stringify(a));
      assert.match(a.error_message, /locked/);
    } else assert.equal(a.status, 'completed', JSON.stringify(a));
  }
  for (const c of certs) {
    const now = await call('GET', `/certifications/acme/${c.id}`);
    if (c.id === locked.id) {
      assert.equal(now.forecasted_renewal_amount, undefined);
      assert.equal(now.last_reminder_sent_date, undefined);
      assert.equal(now.sys_version, c.sys_version + 1); // the lock only
    } else {
      assert.equal(now.forecasted_renewal_amount, 175);
      assert.equal(now.last_reminder_sent_date, TODAY);
      assert.equal(now.sys_version, c.sys_version + 2); // the forecast, then the first reminder
    }
  }
  const outbox = await asSystem(() => t.store.db.selectFrom('outbox').select(['id', 'source']).where('tenant_id', '=', 'acme').execute());
  const bySource = new Map(actions.map((a) => [`billingRunActions/${a.id}`, a]));
  const queued = outbox.filter((o) => bySource.has(String(o.source)));
  assert.equal(queued.length, 22); // two reminders for each of the 11 others
  assert.ok(
    queued.every((o) => bySource.get(String(o.source))!.certification_id !== locked.id),
    'no e-mail for the failed actions',
  );

  const after = await call('GET', `/billingRuns/acme/${run.id}`);
  assert.equal(after.status, 'error');
  assert.match(after.error, /3 action\(s\) ended in error/);
});
