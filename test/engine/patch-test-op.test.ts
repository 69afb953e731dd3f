import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, type TestApp } from '../helpers.js';

/** PATCH `test` operations get the RFC 6901 checks of the other operations (a non-canonical index is a 400). */
let t: TestApp;
before(async () => {
  t = await startApp();
});
after(() => t.close());

test('a test with a non-canonical or out-of-bounds array index is a 400 naming the operation; nothing is written', async () => {
  const rec = (
    await t.call({
      method: 'POST',
      url: '/directories/acme',
      payload: { name: 'D', searchable_fields: [{ name: 'city' }], additional_fields: ['initial', 'renewal'] },
      auth: t.admin,
    })
  ).json();
  assert.ok(rec.id, JSON.stringify(rec));
  const patch = (ops: unknown) =>
    t.call({
      method: 'PATCH',
      url: `/directories/acme/${rec.id}`,
      payload: ops as any,
      headers: { 'content-type': 'application/json-patch+json' },
      auth: t.admin,
    });
  for (const path of [
    '/additional_fields/00',
    '/additional_fields/01',
    '/additional_fields/2',
    '/additional_fields/-',
    '/searchable_fields/00/name',
  ]) {
    const res = await patch([
      { op: 'test', path, value: 'initial' },
      { op: 'replace', path: '/name', value: 'changed' },
    ]);
    assert.equal(res.statusCode, 400, `${path}: ${res.body}`);
    assert.equal(res.json().errors[0].field, '0.path', path);
  }
  assert.equal((await patch([{ op: 'test', path: '/additional_fields/1', value: 'initial' }])).statusCode, 409);
  const ok = await patch([
    { op: 'test', path: '/additional_fields/0', value: 'initial' },
    { op: 'replace', path: '/name', value: 'changed' },
  ]);
  assert.equal(ok.statusCode, 200, ok.body);
  assert.equal(ok.json().name, 'changed');
  assert.equal(ok.json().sys_version, rec.sys_version + 1);
});
