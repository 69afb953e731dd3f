import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { BACKEND, startApp, type TestApp } from '../helpers.js';

/**
 * /metrics (Prometheus text format, prom-client) behind METRICS_TOKEN on the API port and on a port of
 * its own; /health/live and /health/ready. The values are checked against what the requests did.
 */
const METRICS_TOKEN = 'metrics-token-0123456789';

const sample = (text: string, name: string, labels: Record<string, string>): number | undefined => {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const m = /^[^{]+\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const got = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[2]);
  }
  return undefined;
};

describe(`metrics and health (${BACKEND})`, () => {
  let t: TestApp;
  before(async () => {
    // the mail sender polls once an hour here, so a queued message stays queued while it is counted
    t = await startApp({ env: { METRICS_TOKEN, METRICS_PORT: '0', WORKER_POLL_MS: '3600000' } });
  });
  after(() => t.close());

  test('/metrics needs the metrics token on the API port; a tenant token is not enough', async () => {
    assert.equal((await t.call({ method: 'GET', url: '/metrics', auth: false })).statusCode, 401);
    const withTenantToken = await t.call({ method: 'GET', url: '/metrics' });
    assert.equal(withTenantToken.statusCode, 401);
    assert.match(withTenantToken.json().message, /METRICS_TOKEN/);
    const ok = await t.call({ method: 'GET', url: '/metrics', auth: METRICS_TOKEN });
    assert.equal(ok.statusCode, 200);
    assert.match(String(ok.headers['content-type']), /^text\/plain/);
  });

  test('requests are counted per route template and status; the database and backlog gauges are there', async () => {
    const before = await t.call({ method: 'GET', url: '/metrics', auth: METRICS_TOKEN });
    const route = { method: 'GET', route: '/programGroups/:tenantId/:id', status: '404' };
    const countBefore = sample(before.body, 'accredit_http_request_duration_seconds_count', route) ?? 0;
    for (let i = 0; i < 3; i++) assert.equal((await t.call({ method: 'GET', url: `/programGroups/acme/nope-${i}` })).statusCode, 404);
    const created = await t.call({ method: 'POST', url: '/programGroups/acme', payload: { name: 'Nursing' } });
    assert.equal(created.statusCode, 201);
    const text = (await t.call({ method: 'GET', url: '/metrics', auth: METRICS_TOKEN })).body;
    assert.equal(sample(text, 'accredit_http_request_duration_seconds_count', route), countBefore + 3);
    assert.equal(
      sample(text, 'accredit_http_request_duration_seconds_count', { method: 'POST', route: '/programGroups/:tenantId', status: '201' }),
      1,
    );
    // the raw URL never becomes a label
    assert.ok(!text.includes('nope-1'));
    assert.ok((sample(text, 'accredit_db_query_duration_seconds_count', { outcome: 'ok' }) ?? 0) > 0);
    assert.equal(sample(text, 'accredit_background_backlog', { queue: 'outbox_pending' }), 0);
    assert.equal(sample(text, 'accredit_background_backlog', { queue: 'executions_running' }), 0);
    if (BACKEND === 'postgres') assert.ok((sample(text, 'accredit_db_pool_connections', { state: 'total' }) ?? 0) >= 1);
    else assert.equal(sample(text, 'accredit_db_pool_connections', { state: 'total' }), undefined);
  });

  test('the backlog gauge follows the outbox: a queued message shows until it is sent', async () => {
    const { enqueueMail } = await import('../../src/mail/outbox.js');
    const { asTenant } = await import('../../src/store/tenant-scope.js');
    const mail = { from: 'x@example.org', to: 'a@example.org', subject: 's', text: 't' } as never;
    assert.ok(await asTenant('acme', () => t.store.transaction((db) => enqueueMail(db, 'acme', 'test/1', mail, 'test', new Date()))));
    const text = (await t.call({ method: 'GET', url: '/metrics', auth: METRICS_TOKEN })).body;
    assert.equal(sample(text, 'accredit_background_backlog', { queue: 'outbox_pending' }), 1);
  });

  test('METRICS_PORT serves /metrics without a token on a port of its own', async () => {
    const server = (t.app as unknown as { metricsServer?: import('node:http').Server }).metricsServer;
    assert.ok(server, 'the metrics listener is exposed for tests');
    const port = (server.address() as AddressInfo).port;
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /accredit_build_info\{release="[^"]+",store="(sqlite|postgres)"\} 1/);
    assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
  });

  test('/health/live and /health/ready (no token): readiness reports the release and schema version', async () => {
    assert.deepEqual((await t.call({ method: 'GET', url: '/health/live', auth: false })).json(), { status: 'ok' });
    const ready = await t.call({ method: 'GET', url: '/health/ready', auth: false });
    assert.equal(ready.statusCode, 200);
    const body = ready.json();
    assert.equal(body.status, 'ok');
    assert.equal(body.primary.ok, true);
    assert.ok(Number.isInteger(body.schema_version) && body.schema_version > 0);
  });
});

describe(`readiness when the database is gone (${BACKEND})`, () => {
  test('/health/ready answers 503 once the primary does not answer; /health/live stays 200', async () => {
    const t = await startApp();
    try {
      assert.equal((await t.call({ method: 'GET', url: '/health/ready', auth: false })).statusCode, 200);
      await t.store.db.destroy();
      const ready = await t.call({ method: 'GET', url: '/health/ready', auth: false });
      assert.equal(ready.statusCode, 503);
      assert.equal(ready.json().primary.ok, false);
      assert.equal((await t.call({ method: 'GET', url: '/health/live', auth: false })).statusCode, 200);
    } finally {
      await t.close();
    }
  });
});

describe(`no metrics unless configured (${BACKEND})`, () => {
  test('without METRICS_TOKEN and METRICS_PORT, /metrics is not served', async () => {
    const t = await startApp();
    try {
      assert.equal((await t.call({ method: 'GET', url: '/metrics', auth: METRICS_TOKEN })).statusCode, 404);
    } finally {
      await t.close();
    }
  });
});
