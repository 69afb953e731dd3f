import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, minimalRun, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';
import { RESOURCES } from '../../src/resources/index.js';

let t: TestApp;
let f: Factory;
before(async () => {
  t = await startApp();
  f = new Factory(t);
});
after(() => t.close());

const dropOptions = (program_ids: string[]) => ({
  expiration_date_range_start: '2025-01-01',
  expiration_date_range_end: '2025-12-31',
  program_restriction: 'include',
  program_ids,
});

test('a reference must name an existing record of the same tenant (400 naming the field)', async () => {
  const program = await f.create('programs');
  const res = await t.call({
    method: 'POST',
    url: '/billingRuns/acme',
    payload: minimalRun({ drop_options: dropOptions([program.id, 'no-such-program']) }),
  });
  assert.equal(res.statusCode, 400);
  assert.equal(res.json().errors[0].field, 'drop_options.program_ids.1');
  assert.match(res.json().errors[0].reason, /program that does not exist/);

  // A program of another tenant does not count.
  const other = await t.token({ tenants: ['other'] });
  const foreign = await new Factory(t, other, 'other').create('programs');
  const cross = await t.call({
    method: 'POST',
    url: '/billingRuns/acme',
    payload: minimalRun({ drop_options: dropOptions([foreign.id]) }),
  });
  assert.equal(cross.statusCode, 400);
  assert.equal(cross.json().errors[0].field, 'drop_options.program_ids.0');

  const ok = await t.call({ method: 'POST', url: '/billingRuns/acme', payload: minimalRun({ drop_options: dropOptions([program.id]) }) });
  assert.equal(ok.statusCode, 201);
  // PUT, PATCH (422: the patched record would be invalid) and batch check references too.
  const id = ok.json().id;
  const put = await t.call({ method: 'PUT', url: `/billingRuns/acme/${id}`, payload: minimalRun({ template_id: 'nope' }) });
  assert.equal(put.statusCode, 400);
  assert.equal(put.json().errors[0].field, 'template_id');
  const patch = await t.call({
    method: 'PATCH',
    url: `/billingRuns/acme/${id}`,
    payload: [{ op: 'add', path: '/drop_options/program_ids/-', value: 'ghost' }],
  });
  assert.equal(patch.statusCode, 422);
  assert.equal(patch.json().errors[0].field, 'drop_options.program_ids.1');
  const batch = await t.call({
    method: 'POST',
    url: '/billingRuns/acme/batch',
    payload: { operations: [{ operation: 'create', object: minimalRun({ recurring_billing_run_id: 'ghost' }) }] },
  });
  assert.equal(batch.json().results[0].status, 400);
  assert.equal(batch.json().results[0].error.errors[0].field, 'operations.0.object.recurring_billing_run_id');
});

test('deleting a record that others still reference is a 409 that says which records refer to it', async () => {
  const program = await f.create('programs');
  const run = (
    await t.call({ method: 'POST', url: '/billingRuns/acme', payload: minimalRun({ drop_options: dropOptions([program.id]) }) })
  ).json();
  const cert = await f.create('certifications', { program_id: program.id });
  const res = await t.call({ method: 'DELETE', url: `/programs/acme/${program.id}` });
  assert.equal(res.statusCode, 409);
  const refs = res
    .json()
    .referenced_by.map((r: any) => `${r.resource}/${r.id}/${r.field}`)
    .sort();
  assert.deepEqual(refs, [`billingRuns/${run.id}/drop_options.program_ids.0`, `certifications/${cert.id}/program_id`].sort());
  assert.match(res.json().message, /still referred to by/);
  assert.equal((await t.call({ method: 'GET', url: `/programs/acme/${program.id}` })).statusCode, 200);

  // Remove the references (one by update, one by delete): then the delete goes through.
  const put = await t.call({ method: 'PUT', url: `/billingRuns/acme/${run.id}`, payload: minimalRun() });
  assert.equal(put.statusCode, 200);
  assert.equal((await t.call({ method: 'DELETE', url: `/programs/acme/${program.id}` })).statusCode, 409);
  assert.equal((await t.call({ method: 'DELETE', url: `/certifications/acme/${cert.id}` })).statusCode, 200);
  assert.equal((await t.call({ method: 'DELETE', url: `/programs/acme/${program.id}` })).statusCode, 200);
});

test('every x-ref of every definition names a served resource', () => {
  const slugs = new Set(RESOURCES.map((r) => r.def.slug));
  for (const r of RESOURCES)
    for (const ref of r.refFields) assert.ok(slugs.has(ref.target), `${r.def.slug}.${ref.path.join('.')} -> ${ref.target}`);
});

test('settings is a singleton: its id is the tenant, a second create is a 409, GET/PATCH at the root; admin only', async () => {
  const body = await f.body(RESOURCES.find((r) => r.def.slug === 'settings')!);
  const writer = await t.call({ method: 'POST', url: '/settings/acme', payload: body });
  assert.equal(writer.statusCode, 403, 'a write token cannot change settings');
  const first = await t.call({ method: 'POST', url: '/settings/acme', payload: body, auth: t.admin });
  assert.equal(first.statusCode, 201, first.body);
  assert.equal(first.json().id, 'acme');
  const second = await t.call({ method: 'POST', url: '/settings/acme', payload: body, auth: t.admin });
  assert.equal(second.statusCode, 409);
  const got = await t.call({ method: 'GET', url: '/settings/acme' });
  assert.equal(got.statusCode, 200);
  assert.equal(got.json().id, 'acme');
  const patched = await t.call({
    method: 'PATCH',
    url: '/settings/acme',
    payload: [{ op: 'add', path: '/special_instructions', value: 'Call first' }],
    auth: t.admin,
  });
  assert.equal(
    (await t.call({ method: 'PATCH', url: '/settings/acme', payload: [{ op: 'add', path: '/special_instructions', value: 'x' }] }))
      .statusCode,
    403,
  );
  assert.equal(patched.statusCode, 200, patched.body);
  assert.equal(patched.json().sys_version, 2);
  const none = await t.call({ method: 'GET', url: '/settings/fresh', auth: await t.token({ tenants: ['fresh'] }) });
  assert.equal(none.statusCode, 404);
});
