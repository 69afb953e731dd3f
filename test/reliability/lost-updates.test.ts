import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, minimalRun, type TestApp } from '../helpers.js';

let t: TestApp;
before(async () => {
  t = await startApp();
});
after(() => t.close());

const CLIENTS = 32;
const INCREMENTS = 5;

/** Read-modify-write of a counter held in the record (statistics[0].total) by PUT. */
async function clients(id: string, withPrecondition: boolean) {
  let successes = 0;
  let retries = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      for (let done = 0; done < INCREMENTS; ) {
        const read = await t.call({ method: 'GET', url: `/billingRuns/acme/${id}` });
        const rec = read.json();
        const { id: _i, ...body } = rec;
        body.statistics = [{ action: 'counter', total: rec.statistics[0].total + 1 }];
        const headers = withPrecondition ? { 'if-match': String(read.headers.etag) } : {};
        if (!withPrecondition) delete body.sys_version;
        const res = await t.call({ method: 'PUT', url: `/billingRuns/acme/${id}`, payload: body, headers });
        if (res.statusCode === 200) {
          successes++;
          done++;
        } else {
          assert.ok([409, 412].includes(res.statusCode), `only precondition failures: ${res.statusCode} ${res.body}`);
          retries++;
          if (retries > 20_000) throw new Error('no progress');
        }
      }
    }),
  );
  const final = (await t.call({ method: 'GET', url: `/billingRuns/acme/${id}` })).json();
  return { successes, retries, total: final.statistics[0].total as number, version: final.sys_version as number };
}

test(`${CLIENTS} concurrent read-modify-write clients with If-Match lose no update`, async () => {
  const rec = (
    await t.call({ method: 'POST', url: '/billingRuns/acme', payload: minimalRun({ statistics: [{ action: 'counter', total: 0 }] }) })
  ).json();
  const r = await clients(rec.id, true);
  assert.equal(r.successes, CLIENTS * INCREMENTS);
  assert.equal(r.total, r.successes, 'every successful write is in the count');
  assert.equal(r.version, 1 + r.successes);
  assert.ok(r.retries > 0, 'the clients did collide (otherwise this test proves nothing)');
});

test('control run: the same clients without preconditions do lose updates (what the test above detects)', async () => {
  const rec = (
    await t.call({ method: 'POST', url: '/billingRuns/acme', payload: minimalRun({ statistics: [{ action: 'counter', total: 0 }] }) })
  ).json();
  const r = await clients(rec.id, false);
  assert.equal(r.successes, CLIENTS * INCREMENTS);
  assert.ok(r.total < r.successes, `lost updates expected without If-Match: ${r.total} of ${r.successes}`);
});

test('sys_version in the body guards PATCH-free clients the same way (409 when stale)', async () => {
  const rec = (
    await t.call({ method: 'POST', url: '/billingRuns/acme', payload: minimalRun({ statistics: [{ action: 'counter', total: 0 }] }) })
  ).json();
  let successes = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let done = 0; done < 3; ) {
        const cur = (await t.call({ method: 'GET', url: `/billingRuns/acme/${rec.id}` })).json();
        const { id: _i, ...body } = cur;
        body.statistics = [{ action: 'counter', total: cur.statistics[0].total + 1 }];
        const res = await t.call({ method: 'PUT', url: `/billingRuns/acme/${rec.id}`, payload: body });
        if (res.statusCode === 200) {
          successes++;
          done++;
        } else assert.equal(res.statusCode, 409);
      }
    }),
  );
  const final = (await t.call({ method: 'GET', url: `/billingRuns/acme/${rec.id}` })).json();
  assert.equal(final.statistics[0].total, successes);
});
