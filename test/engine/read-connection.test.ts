import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, minimalRun, type TestApp } from '../helpers.js';
import { asTenant } from '../../src/store/tenant-scope.js';
import type { StoredRecord } from '../../src/store/records.js';

/**
 * Reads outside a transaction (GET, pages) see the last committed state and never wait for a write
 * transaction in progress: on SQLite they use a second connection (the writer is held across the
 * awaits of a transaction), on PostgreSQL the pool. A write still in progress is invisible; once
 * committed, the next read sees it.
 */
let t: TestApp;
/** A read that waited for the transaction would never end (the transaction waits for the test). */
function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms: the read queued behind the write transaction`)), ms);
  });
  return Promise.race([p.finally(() => clearTimeout(timer)), late]);
}
before(async () => {
  t = await startApp();
});
after(() => t.close());

test('a GET during an open write transaction answers at once with the committed record, then the new one', async () => {
  const run = (await t.call({ method: 'POST', url: '/billingRuns/acme', payload: minimalRun({ name: 'before' }) })).json();
  const service = t.app.services.resource('billingRuns');
  const ctx = {
    tenantId: 'acme',
    actor: { sub: 'tester', tenants: ['acme'], scopes: new Set(['certifications:admin']) },
    requestId: 'r',
  } as any;
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let written!: () => void;
  const wrote = new Promise<void>((r) => (written = r));
  const tx = asTenant('acme', () =>
    t.store.transaction(async (trx) => {
      const old = (await service.table.get(trx, 'acme', run.id, { forUpdate: true })) as StoredRecord;
      await service.updateRead(ctx, old, { ...minimalRun({ name: 'after' }) }, trx);
      written();
      await held; // the transaction stays open (and on SQLite holds the writer) until released
    }),
  );
  await wrote;
  let during: Awaited<ReturnType<typeof t.call>>;
  let page: Awaited<ReturnType<typeof t.call>>;
  try {
    during = await within(3000, t.call({ method: 'GET', url: `/billingRuns/acme/${run.id}` }));
    page = await within(3000, t.call({ method: 'POST', url: '/billingRuns/acme/search', payload: { name: 'after' } }));
  } finally {
    release();
  }
  assert.equal(during.statusCode, 200);
  assert.equal(during.json().name, 'before', 'an uncommitted change is invisible');
  assert.equal(during.headers.etag, '"1"');
  assert.equal(page.json().Items.length, 0);
  await tx;
  const afterCommit = await t.call({ method: 'GET', url: `/billingRuns/acme/${run.id}` });
  assert.equal(afterCommit.json().name, 'after');
  assert.equal(afterCommit.headers.etag, '"2"');
  assert.equal((await t.call({ method: 'POST', url: '/billingRuns/acme/search', payload: { name: 'after' } })).json().Items.length, 1);
});
