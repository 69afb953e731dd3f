import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';
import { RESOURCES } from '../../src/resources/index.js';

/** No mass assignment, on every resource: bodies and patch paths cannot set id, the tenant or sys_*. */
let t: TestApp;
let f: Factory;
before(async () => {
  t = await startApp();
  f = new Factory(t, t.admin);
});
after(() => t.close());

const forged = {
  sys_created_at: '2000-01-01T00:00:00Z',
  sys_created_by_id: 'mallory',
  sys_last_modified_by_id: 'mallory',
  sys_version: 999,
  sys_last_security_context: { user_id: 'mallory' },
  sys_bulk_load_id: 'forged',
};

for (const r of RESOURCES) {
  test(r.def.slug, async () => {
    const call = (o: Parameters<TestApp['call']>[0]) => t.call({ auth: t.admin, ...o });
    const base = `/${r.def.slug}/acme`;
    const body = await f.body(r);
    const withTenant = await call({ method: 'POST', url: base, payload: { ...body, tenant_id: 'other' } });
    assert.equal(withTenant.statusCode, 400);
    assert.equal(withTenant.json().errors[0].field, 'tenant_id');
    const withId = await call({ method: 'POST', url: base, payload: { ...body, id: 'chosen' } });
    assert.equal(withId.statusCode, 400);

    const created = await call({ method: 'POST', url: base, payload: { ...body, ...forged } });
    assert.equal(created.statusCode, 201, created.body);
    const rec = created.json();
    assert.equal(rec.sys_created_by_id, 'tester');
    assert.equal(rec.sys_version, 1);
    assert.equal(rec.sys_bulk_load_id, undefined);
    assert.notEqual(rec.sys_created_at, forged.sys_created_at);
    const url = `${base}/${encodeURIComponent(rec.id)}`;

    for (const path of ['/id', '/sys_created_by_id', '/sys_version', '/sys_last_modified_at', '/sys_bulk_load_id', '/tenant_id']) {
      const res = await call({ method: 'PATCH', url, payload: [{ op: 'add', path, value: 'x' }] });
      assert.ok([400, 422].includes(res.statusCode), `${path}: ${res.statusCode}`);
    }
    // a ledger's record (appendOnly) takes a PUT only of the fields it has (the server filled some in)
    const fields = r.def.appendOnly ? Object.fromEntries(Object.entries(rec).filter(([k]) => k !== 'id' && !k.startsWith('sys_'))) : body;
    const put = await call({ method: 'PUT', url, payload: { ...fields, ...forged, sys_version: 1 } });
    assert.equal(put.statusCode, 200, put.body);
    assert.equal(put.json().sys_created_by_id, 'tester');
    assert.equal(put.json().sys_created_at, rec.sys_created_at);
    const otherId = await call({ method: 'PUT', url, payload: { ...body, id: 'someone-else' } });
    assert.equal(otherId.statusCode, 400);
    const batch = await call({
      method: 'POST',
      url: `${base}/batch`,
      payload: { operations: [{ operation: 'create', object: { ...body, tenant_id: 'x' } }] },
    });
    assert.equal(batch.json().results[0].status, 400);
    const final = (await call({ method: 'GET', url })).json();
    assert.equal(final.id, rec.id);
    assert.equal(final.sys_created_by_id, 'tester');
  });
}
