import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { startApp, minimalRun, BACKEND, awayFromMinuteEnd, type TestApp } from '../helpers.js';
import { openStore } from '../../src/store/store.js';
import { FLUSH_MS } from '../../src/store/limits.js';

const apps: TestApp[] = [];
after(() => Promise.all(apps.map((a) => a.close())));

test('per-token rate limit: past the limit a 429 with Retry-After; other tokens are not affected', async () => {
  const t = await startApp({ env: { RATE_LIMIT_PER_MINUTE: '5' } });
  apps.push(t);
  await awayFromMinuteEnd();
  const statuses = [];
  for (let i = 0; i < 7; i++) statuses.push((await t.call({ method: 'GET', url: '/billingRuns/acme' })).statusCode);
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
  const res = await t.call({ method: 'GET', url: '/billingRuns/acme' });
  assert.equal(res.json().statusCode, 429);
  assert.ok(Number(res.headers['retry-after']) > 0);
  const other = await t.token({ sub: 'other' });
  assert.equal((await t.call({ method: 'GET', url: '/billingRuns/acme', auth: other })).statusCode, 200);
  assert.equal((await t.app.inject({ method: 'GET', url: '/health' })).statusCode, 200, 'health is never limited');
});

test('page size and batch size are bounded', async () => {
  const t = await startApp({ env: { PAGE_SIZE_MAX: '50', PAGE_SIZE: '10' } });
  apps.push(t);
  assert.equal((await t.call({ method: 'GET', url: '/billingRuns/acme?limit=51' })).statusCode, 400);
  assert.equal((await t.call({ method: 'GET', url: '/billingRuns/acme?limit=50' })).statusCode, 200);
  for (let i = 0; i < 3; i++) await t.call({ method: 'POST', url: '/billingRuns/acme', payload: minimalRun() });
  const page = (await t.call({ method: 'GET', url: '/billingRuns/acme?limit=2' })).json();
  assert.equal(page.Items.length, 2);
});

// SQLite runs in-process and has no statement timeout; its writers wait at most busy_timeout (5 s).
if (BACKEND === 'postgres')
  test('PostgreSQL statements are bounded by DB_STATEMENT_TIMEOUT_MS', async () => {
    const store = await openStore(process.env.TEST_DATABASE_URL!, { statementTimeoutMs: 200 });
    try {
      await assert.rejects(sql`select pg_sleep(2)`.execute(store.db), (e: any) => e.code === '57014');
    } finally {
      await store.close();
    }
  });

test('the per-token and public limits hold across processes on one database', async () => {
  const t = await startApp({ env: { RATE_LIMIT_PER_MINUTE: '6', PUBLIC_RATE_LIMIT_PER_MINUTE: '4' } });
  apps.push(t);
  // a second server on the same database, as another worker or host would be
  const config = { ...t.config };
  const store = await openStore(config.databaseUrl, { pgPoolMax: 2 });
  const { buildApp } = await import('../../src/app.js');
  const { createVerifier } = await import('../../src/http/auth.js');
  const second = await buildApp({ config, store, verifier: createVerifier(config), logger: false, background: false });
  try {
    const token = await t.token({ sub: 'shared-limit' });
    await awayFromMinuteEnd();
    // Below half its limit a process counts hits locally and shares them every FLUSH_MS (the documented
    // bound, store/limits.ts): requests spaced by more than that must be counted exactly.
    const spaced = () => new Promise((r) => setTimeout(r, FLUSH_MS * 2 + 50));
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      await spaced();
      const app = i % 2 ? second : t.app;
      statuses.push(
        (await app.inject({ method: 'GET', url: '/billingRuns/acme', headers: { authorization: `Bearer ${token}` } })).statusCode,
      );
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 429, 429], 'six requests in all, whichever process counts them');
    const pub: number[] = [];
    for (let i = 0; i < 6; i++) {
      await spaced();
      const app = i % 2 ? second : t.app;
      pub.push((await app.inject({ method: 'GET', url: '/public/verify/acme/nope/1', remoteAddress: '203.0.113.9' })).statusCode);
    }
    assert.deepEqual(
      pub.map((s) => s === 429),
      [false, false, false, false, true, true],
      `public: ${pub}`,
    );
  } finally {
    await second.close();
    await store.close();
  }
});
