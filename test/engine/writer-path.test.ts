import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, minimalRun, type TestApp } from '../helpers.js';
import { asTenant } from '../../src/store/tenant-scope.js';
import { sqliteTxWriter } from '../../src/store/store.js';
import type { StoredRecord } from '../../src/store/records.js';

/**
 * Inside a SQLite transaction, RecordTable's read-for-update and versioned UPDATE run as prepared
 * statements on the transaction's connection, without the query builder. They must stay part of that
 * transaction (undone by its rollback), keep the version check, and update the changed indexed
 * columns. The root instance is never given that path: a statement run through it while another
 * transaction holds the connection would join that transaction. On PostgreSQL the query builder is
 * used throughout; the same behaviour is asserted.
 */
let t: TestApp;
before(async () => {
  t = await startApp();
});
after(() => t.close());

const ctx = {
  tenantId: 'acme',
  actor: { sub: 'tester', tenants: ['acme'], scopes: new Set(['certifications:admin']) },
  requestId: 'r',
} as any;

test("only a transaction's own instance gets the prepared-statement path", async () => {
  assert.equal(sqliteTxWriter(t.store.db), undefined);
  assert.equal(sqliteTxWriter(t.store.read), undefined);
  const inside = await t.store.transaction(async (trx) => sqliteTxWriter(trx));
  assert.equal(inside !== undefined, t.store.dialect === 'sqlite');
});

test('a write on that path is undone by the rollback of its transaction', async () => {
  const run = (await t.call({ method: 'POST', url: '/billingRuns/acme', payload: minimalRun({ name: 'kept' }) })).json();
  const service = t.app.services.resource('billingRuns');
  await assert.rejects(
    asTenant('acme', () =>
      t.store.transaction(async (trx) => {
        const old = (await service.table.get(trx, 'acme', run.id, { forUpdate: true })) as StoredRecord;
        assert.equal(old.name, 'kept');
        await service.updateRead(ctx, old, { ...minimalRun({ name: 'undone' }) }, trx);
        const seen = (await service.table.get(trx, 'acme', run.id, { forUpdate: true })) as StoredRecord;
        assert.equal(seen.name, 'undone', 'the transaction sees its own write');
        throw new Error('roll back');
      }),
    ),
    /roll back/,
  );
  const res = await t.call({ method: 'GET', url: `/billingRuns/acme/${run.id}` });
  assert.equal(res.json().name, 'kept');
  assert.equal(res.headers.etag, '"1"');
  assert.equal((await t.call({ method: 'POST', url: '/billingRuns/acme/search', payload: { name: 'undone' } })).json().Items.length, 0);
});

test('the versioned UPDATE refuses a stale version and re-indexes only what changed', async () => {
  const run = (await t.call({ method: 'POST', url: '/billingRuns/acme', payload: minimalRun({ name: 'v1' }) })).json();
  const table = t.app.services.resource('billingRuns').table;
  const stale = await asTenant('acme', () =>
    t.store.transaction(async (trx) => table.update(trx, 'acme', { ...run, name: 'never', sys_version: 2 }, 7, run)),
  );
  assert.equal(stale, false, 'expected version 7 does not match version 1');
  const fresh = await asTenant('acme', () =>
    t.store.transaction(async (trx) => table.update(trx, 'acme', { ...run, name: 'v2', sys_version: 2 }, 1, run)),
  );
  assert.equal(fresh, true);
  const got = await t.call({ method: 'GET', url: `/billingRuns/acme/${run.id}` });
  assert.equal(got.json().name, 'v2');
  assert.equal(got.headers.etag, '"2"');
  // the name column was changed with the record: a search by it finds the new name, not the old
  assert.deepEqual(
    (await t.call({ method: 'POST', url: '/billingRuns/acme/search', payload: { name: 'v2' } })).json().Items.map((r: any) => r.id),
    [run.id],
  );
  assert.equal((await t.call({ method: 'POST', url: '/billingRuns/acme/search', payload: { name: 'v1' } })).json().Items.length, 0);
});
