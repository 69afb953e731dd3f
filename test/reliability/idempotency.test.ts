import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, minimalRun, type TestApp } from '../helpers.js';
import { idempotencyStore } from '../../src/store/idempotency.js';
import { asTenant } from '../../src/store/tenant-scope.js';
import type { Clock } from '../../src/core/clock.js';

let t: TestApp;
let now = new Date('2026-01-10T09:00:00Z');
const clock: Clock = { now: () => now };
before(async () => {
  t = await startApp({ clock });
});
after(() => t.close());

const post = (url: string, payload: unknown, key?: string, auth?: string) =>
  t.call({ method: 'POST', url, payload: payload as object, headers: key ? { 'idempotency-key': key } : {}, auth });
const count = async (name: string) =>
  (await t.call({ method: 'POST', url: '/billingRuns/acme/search?limit=1000', payload: { name } })).json().Items.length;

test('the same key and body replays the first answer; the effect happens once', async () => {
  const first = await post('/billingRuns/acme', minimalRun({ name: 'idem-once' }), 'key-1');
  assert.equal(first.statusCode, 201);
  const again = await post('/billingRuns/acme', minimalRun({ name: 'idem-once' }), 'key-1');
  assert.equal(again.statusCode, 201);
  assert.equal(again.headers['idempotent-replayed'], 'true');
  assert.equal(again.headers.etag, first.headers.etag);
  assert.deepEqual(again.json(), first.json());
  assert.equal(await count('idem-once'), 1);
  // Without a key, a repeat is a new request.
  await post('/billingRuns/acme', minimalRun({ name: 'idem-once' }));
  assert.equal(await count('idem-once'), 2);
});

test('the same key with another body is a 422; another subject or tenant has its own keys', async () => {
  await post('/billingRuns/acme', minimalRun({ name: 'idem-a' }), 'key-2');
  const other = await post('/billingRuns/acme', minimalRun({ name: 'idem-b' }), 'key-2');
  assert.equal(other.statusCode, 422);
  assert.equal(other.json().errors[0].field, 'Idempotency-Key');
  assert.equal(await count('idem-b'), 0);
  const bob = await t.token({ sub: 'bob' });
  assert.equal((await post('/billingRuns/acme', minimalRun({ name: 'idem-b' }), 'key-2', bob)).statusCode, 201);
});

test('a key whose first request is still in flight is a 409', async () => {
  await asTenant('acme', () =>
    idempotencyStore.claim(t.store.db, { tenantId: 'acme', actor: 'tester', key: 'key-3' }, 'whatever', now.toISOString()),
  );
  const res = await post('/billingRuns/acme', minimalRun({ name: 'idem-flight' }), 'key-3');
  assert.equal(res.statusCode, 409);
  assert.equal(res.headers['retry-after'], '1');
  assert.equal(await count('idem-flight'), 0);
});

test('errors are replayed too (a 4xx is an answer); a malformed key is a 400', async () => {
  const bad = await post('/billingRuns/acme', { name: 'no status' }, 'key-4');
  assert.equal(bad.statusCode, 400);
  const again = await post('/billingRuns/acme', { name: 'no status' }, 'key-4');
  assert.equal(again.statusCode, 400);
  assert.equal(again.headers['idempotent-replayed'], 'true');
  const malformed = await post('/billingRuns/acme', minimalRun(), 'x'.repeat(300));
  assert.equal(malformed.statusCode, 400);
});

test('keys live 24 hours', async () => {
  await post('/billingRuns/acme', minimalRun({ name: 'idem-ttl' }), 'key-5');
  now = new Date(now.getTime() + 23 * 3600_000);
  assert.equal((await post('/billingRuns/acme', minimalRun({ name: 'idem-ttl' }), 'key-5')).headers['idempotent-replayed'], 'true');
  now = new Date(now.getTime() + 2 * 3600_000);
  const later = await post('/billingRuns/acme', minimalRun({ name: 'idem-ttl' }), 'key-5');
  assert.equal(later.statusCode, 201);
  assert.equal(later.headers['idempotent-replayed'], undefined);
  assert.equal(await count('idem-ttl'), 2);
});

test('batch and actions honour the key', async () => {
  const ops = { operations: [{ operation: 'create', object: minimalRun({ name: 'idem-batch' }) }] };
  const a = await post('/billingRuns/acme/batch', ops, 'key-6');
  const b = await post('/billingRuns/acme/batch', ops, 'key-6');
  assert.deepEqual(b.json(), a.json());
  assert.equal(await count('idem-batch'), 1);
  const run = (await post('/billingRuns/acme', minimalRun())).json();
  const r1 = await post(`/billingRuns/acme/refresh/${run.id}`, undefined, 'key-7');
  const r2 = await post(`/billingRuns/acme/refresh/${run.id}`, undefined, 'key-7');
  assert.equal(r2.json().executionArn, r1.json().executionArn);
  assert.equal((await asTenant('acme', () => t.app.services.executions.list('acme', 'billingRuns', run.id))).length, 1);
});

test('1,000 keys sent 5 times concurrently give exactly 1,000 effects', async () => {
  const tok = await t.token({ tenants: ['idem'] });
  const statuses = new Map<number, number>();
  for (let chunk = 0; chunk < 1000; chunk += 100) {
    const sends = [];
    for (let k = chunk; k < chunk + 100; k++) {
      for (let copy = 0; copy < 5; copy++) sends.push(post('/billingRuns/idem', minimalRun({ name: `k${k}` }), `bulk-${k}`, tok));
    }
    for (const r of await Promise.all(sends)) statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
  }
  // Each send either performed the create, replayed it, or was told the first is still in flight.
  assert.deepEqual(
    [...statuses.keys()].filter((s) => s !== 201 && s !== 409),
    [],
  );
  let total = 0;
  let key: string | undefined;
  do {
    const page = (
      await t.call({ method: 'GET', url: `/billingRuns/idem?limit=1000${key ? `&exclusiveStartKey=${key}` : ''}`, auth: tok })
    ).json();
    total += page.Count;
    key = page.LastEvaluatedKey;
  } while (key);
  assert.equal(total, 1000);
});
