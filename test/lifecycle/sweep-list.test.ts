import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, type TestApp } from '../helpers.js';
import type { Clock } from '../../src/core/clock.js';

/**
 * GET /certifications/{tenantId}/lifecycleSweeps pages like every list: limit (the API's bounds), a
 * LastEvaluatedKey while more follow, newest first across pages (sweeps started in the same
 * millisecond in one fixed order, by id), and a bad limit or key is a 400 naming it.
 */
let t: TestApp;
let now = new Date('2026-03-01T10:30:00Z');
const clock: Clock = { now: () => now };
type R = Record<string, any>;

async function get(url: string, status = 200): Promise<R> {
  const res = await t.call({ method: 'GET', url, auth: t.admin });
  assert.equal(res.statusCode, status, `${url}: ${res.body}`);
  return res.json();
}

const started: string[] = [];
before(async () => {
  t = await startApp({ clock });
  for (const at of ['2026-03-01T11:00:00Z', '2026-03-02T11:00:00Z', '2026-03-02T11:00:00Z', '2026-03-03T11:00:00Z']) {
    now = new Date(at);
    const res = await t.call({ method: 'POST', url: '/certifications/acme/lifecycleSweep', auth: t.admin });
    assert.equal(res.statusCode, 202, res.body);
    started.push(res.json().executionArn);
    await t.app.services.executions.idle();
  }
});
after(() => t.close());

test('limit pages the sweeps, newest first, each once', async () => {
  const all = await get('/certifications/acme/lifecycleSweeps');
  assert.equal(all.Count, 4);
  assert.equal(all.LastEvaluatedKey, undefined);
  const order = all.Items.map((s: R) => s.executionArn);
  assert.deepEqual([...order].sort(), [...started].sort());
  // newest first; the two started at the same instant in a fixed order (by id), which every page size keeps
  assert.deepEqual(
    all.Items.map((s: R) => s.start_date),
    ['2026-03-03T11:00:00.000Z', '2026-03-02T11:00:00.000Z', '2026-03-02T11:00:00.000Z', '2026-03-01T11:00:00.000Z'],
  );
  for (const limit of [1, 2, 3]) {
    const seen: string[] = [];
    let key: string | undefined;
    do {
      const page = await get(`/certifications/acme/lifecycleSweeps?limit=${limit}${key ? `&exclusiveStartKey=${key}` : ''}`);
      assert.ok(page.Count <= limit && page.Count === page.Items.length);
      if (page.LastEvaluatedKey) assert.equal(page.Count, limit);
      seen.push(...page.Items.map((s: R) => s.executionArn));
      key = page.LastEvaluatedKey;
    } while (key);
    assert.deepEqual(seen, order, `limit ${limit}`);
  }
  const other = await t.token({ tenants: ['other'] });
  const theirs = await t.call({ method: 'GET', url: '/certifications/other/lifecycleSweeps', auth: other });
  assert.equal(theirs.json().Count, 0);
});

test('a bad limit or key is a 400 naming it', async () => {
  for (const limit of ['0', '1001', 'x']) {
    assert.match(JSON.stringify(await get(`/certifications/acme/lifecycleSweeps?limit=${limit}`, 400)), /limit/);
  }
  const key = (id: string) => Buffer.from(JSON.stringify({ id })).toString('base64url');
  for (const k of ['@@', key('no-such-execution')]) {
    assert.match(JSON.stringify(await get(`/certifications/acme/lifecycleSweeps?exclusiveStartKey=${k}`, 400)), /exclusiveStartKey/);
  }
});
