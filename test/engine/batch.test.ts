import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, minimalRun, type TestApp } from '../helpers.js';

let t: TestApp;
before(async () => {
  t = await startApp();
});
after(() => t.close());

const batch = (operations: unknown) => t.call({ method: 'POST', url: '/billingRuns/acme/batch', payload: { operations } as object });
const create = async (over: Record<string, unknown> = {}) =>
  (await t.call({ method: 'POST', url: '/billingRuns/acme', payload: minimalRun(over) })).json();
const get = async (id: string) => t.call({ method: 'GET', url: `/billingRuns/acme/${id}` });

test('create, update, patch and delete in one request, each reported with its status', async () => {
  const a = await create({ name: 'a' });
  const b = await create({ name: 'b' });
  const res = await batch([
    { operation: 'create', object: minimalRun({ name: 'new' }) },
    { operation: 'update', id: a.id, object: minimalRun({ name: 'a2', status: 'scheduled' }) },
    { operation: 'patch', id: b.id, patch_directives: [{ op: 'replace', path: '/name', value: 'b2' }] },
    { operation: 'delete', id: a.id },
  ]);
  assert.equal(res.statusCode, 200, res.body);
  const out = res.json();
  assert.equal(out.success_count, 4);
  assert.equal(out.error_count, 0);
  assert.deepEqual(
    out.results.map((r: any) => [r.index, r.operation, r.status, r.success]),
    [
      [0, 'create', 201, true],
      [1, 'update', 200, true],
      [2, 'patch', 200, true],
      [3, 'delete', 200, true],
    ],
  );
  const created = out.results[0].object;
  assert.equal(created.name, 'new');
  assert.equal(out.results[0].id, created.id);
  assert.equal(out.results[1].object.sys_version, 2);
  assert.equal((await get(created.id)).json().name, 'new');
  assert.equal((await get(b.id)).json().name, 'b2');
  assert.equal((await get(a.id)).statusCode, 404);
});

test('failed operations are reported with status and message; they write nothing and do not stop the others', async () => {
  const a = await create({ name: 'keep' });
  const res = await batch([
    { operation: 'create', object: { name: 'no status' } },
    {
      operation: 'patch',
      id: a.id,
      patch_directives: [
        { op: 'replace', path: '/name', value: 'half' },
        { op: 'test', path: '/status', value: 'running' },
      ],
    },
    { operation: 'update', id: 'missing-id', object: minimalRun() },
    { operation: 'delete' },
    { operation: 'explode', id: a.id },
    { operation: 'create', object: minimalRun({ name: 'fine' }), id: 'x' },
    'not an object',
    { operation: 'patch', id: a.id, patch_directives: [{ op: 'replace', path: '/status', value: 'completed' }] },
    { operation: 'update', id: a.id, object: minimalRun({ name: 'stale' }) },
  ]);
  assert.equal(res.statusCode, 200, res.body);
  const out = res.json();
  assert.equal(out.success_count + out.error_count, 9);
  assert.equal(out.success_count, 2);
  const byIndex = out.results.map((r: any) => [r.status, r.success]);
  assert.deepEqual(byIndex, [
    [400, false],
    [409, false],
    [404, false],
    [400, false],
    [400, false],
    [400, false],
    [400, false],
    [200, true],
    [200, true],
  ]);
  assert.equal(out.results[0].error.errors[0].field, 'operations.0.object.status');
  assert.match(out.results[2].error.message, /not found/);
  assert.equal(out.results[3].error.errors[0].field, 'operations.3.id');
  assert.equal(out.results[4].error.errors[0].field, 'operations.4.operation');
  const now = (await get(a.id)).json();
  assert.equal(now.name, 'stale', 'the later update applied on top of the patch');
  assert.equal(now.status, 'draft');
  assert.equal(now.sys_version, 3);
  const list = (await t.call({ method: 'POST', url: '/billingRuns/acme/search', payload: { name: 'no status' } })).json();
  assert.equal(list.Items.length, 0, 'the failed create left nothing');
});

test('more than 100 operations is a 400 and nothing is done; an empty list or a bad envelope is a 400', async () => {
  const ops = Array.from({ length: 101 }, (_, i) => ({ operation: 'create', object: minimalRun({ name: `too-many-${i}` }) }));
  const res = await batch(ops);
  assert.equal(res.statusCode, 400);
  assert.equal(res.json().errors[0].field, 'operations');
  const found = (await t.call({ method: 'POST', url: '/billingRuns/acme/search', payload: { name: 'too-many' } })).json();
  assert.equal(found.Items.length, 0);
  assert.equal((await batch([])).statusCode, 400);
  assert.equal((await t.call({ method: 'POST', url: '/billingRuns/acme/batch', payload: { operations: 'x' } })).statusCode, 400);
  assert.equal((await t.call({ method: 'POST', url: '/billingRuns/acme/batch', payload: { operations: [], extra: 1 } })).statusCode, 400);
});

test('exactly 100 operations succeed', async () => {
  const ops = Array.from({ length: 100 }, (_, i) => ({ operation: 'create', object: minimalRun({ name: `hundred-${i}` }) }));
  const res = await batch(ops);
  assert.equal(res.statusCode, 200);
  assert.equal(res.json().success_count, 100);
  const all = (await t.call({ method: 'POST', url: '/billingRuns/acme/search?limit=1000', payload: { name: 'hundred-' } })).json();
  assert.equal(all.Items.length, 100);
});
