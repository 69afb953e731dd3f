import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, minimalRun, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';
import { asTenant } from '../../src/store/tenant-scope.js';

let t: TestApp;
before(async () => {
  t = await startApp();
});
after(() => t.close());

const create = async (body: unknown = minimalRun()) => {
  const res = await t.call({ method: 'POST', url: '/billingRuns/acme', payload: body as object });
  assert.equal(res.statusCode, 201, res.body);
  return res.json();
};
const get = (id: string, qs = '') => t.call({ method: 'GET', url: `/billingRuns/acme/${id}${qs}` });
const fieldOf = (res: { json(): any }) => res.json().errors?.map((e: any) => e.field);

describe('create', () => {
  test('generates the id and returns the saved record with server-managed fields', async () => {
    const res = await t.call({ method: 'POST', url: '/billingRuns/acme', payload: minimalRun({ notification_email: 'ops@example.org' }) });
    assert.equal(res.statusCode, 201);
    const rec = res.json();
    assert.match(rec.id, /^[0-9a-f-]{36}$/);
    assert.equal(rec.name, 'November run');
    assert.equal(rec.sys_version, 1);
    assert.equal(rec.sys_created_by_id, 'tester');
    assert.equal(rec.sys_last_modified_by_id, 'tester');
    assert.equal(rec.sys_locked, false);
    assert.ok(!Number.isNaN(Date.parse(rec.sys_created_at)));
    assert.equal(rec.sys_last_security_context.user_id, 'tester');
    assert.equal(res.headers.etag, '"1"');
    const again = await get(rec.id);
    assert.deepEqual(again.json(), rec);
  });

  test('an id in the body is a 400 naming id', async () => {
    const res = await t.call({ method: 'POST', url: '/billingRuns/acme', payload: minimalRun({ id: 'mine' }) });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(fieldOf(res), ['id']);
  });

  test('sys_* fields in the body are ignored, never stored', async () => {
    const rec = await create(minimalRun({ sys_version: 99, sys_created_by_id: 'mallory', sys_locked: true }));
    assert.equal(rec.sys_version, 1);
    assert.equal(rec.sys_created_by_id, 'tester');
    assert.equal(rec.sys_locked, false);
  });

  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['missing required field', { status: 'draft' }, 'name', /required/],
    ['wrong enum value', minimalRun({ status: 'sleeping' }), 'status', /one of/],
    ['wrong type', minimalRun({ name: 42 }), 'name', /string/],
    ['bad date-time', minimalRun({ run_date: '2025-13-01' }), 'run_date', /date-time/],
    ['date-time without zone', minimalRun({ run_date: '2025-01-01T10:00:00' }), 'run_date', /date-time/],
    ['unknown field', minimalRun({ colour: 'red' }), 'colour', /not a known field/],
    [
      'nested required field',
      minimalRun({ drop_options: { expiration_date_range_start: '2025-01-01' } }),
      'drop_options.expiration_date_range_end',
      /required/,
    ],
    [
      'nested bad date',
      minimalRun({ drop_options: { expiration_date_range_start: '2025-02-30', expiration_date_range_end: '2025-03-01' } }),
      'drop_options.expiration_date_range_start',
      /date/,
    ],
    [
      'nested enum',
      minimalRun({
        drop_options: { expiration_date_range_start: '2025-01-01', expiration_date_range_end: '2025-03-01', program_restriction: 'maybe' },
      }),
      'drop_options.program_restriction',
      /one of/,
    ],
    [
      'empty non-empty array',
      minimalRun({ drop_options: { expiration_date_range_start: '2025-01-01', expiration_date_range_end: '2025-03-01', program_ids: [] } }),
      'drop_options.program_ids',
      /empty/,
    ],
    [
      'required array item field',
      minimalRun({
        send_renewal_reminders: true,
        renewal_reminder_options: { reminders: [{ expiration_date_range_start: '2025-01-01', expiration_date_range_end: '2025-02-01' }] },
      }),
      'renewal_reminder_options.reminders.0.reminder_notice_id',
      /required/,
    ],
    ['job on without its options', minimalRun({ perform_drops: true }), 'drop_options', /required when perform_drops is true/],
  ];
  for (const [name, body, field, reason] of cases) {
    test(`400 for ${name}, naming ${field}`, async () => {
      const res = await t.call({ method: 'POST', url: '/billingRuns/acme', payload: body });
      assert.equal(res.statusCode, 400, res.body);
      const err = res.json();
      assert.equal(err.errors[0].field, field);
      assert.match(err.errors[0].reason, reason);
      assert.match(err.message, new RegExp(field.replace(/\./g, '\\.')));
    });
  }

  test('a job with its options is accepted', async () => {
    const program = await new Factory(t).create('programs');
    const rec = await create(
      minimalRun({
        perform_drops: true,
        drop_options: {
          expiration_date_range_start: '2024-02-29',
          expiration_date_range_end: '2025-03-01',
          program_restriction: 'include',
          program_ids: [program.id],
        },
      }),
    );
    assert.equal(rec.drop_options.expiration_date_range_start, '2024-02-29');
    assert.deepEqual(rec.drop_options.program_ids, [program.id]);
  });

  test('malformed JSON, non-object bodies and wrong content types are 4xx with a JSON error', async () => {
    const bad = await t.call({
      method: 'POST',
      url: '/billingRuns/acme',
      payload: '{"name": ',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().errors[0].field, '(body)');
    const arr = await t.call({
      method: 'POST',
      url: '/billingRuns/acme',
      payload: '[1,2]',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(arr.statusCode, 400);
    const empty = await t.call({ method: 'POST', url: '/billingRuns/acme', payload: '', headers: { 'content-type': 'application/json' } });
    assert.equal(empty.statusCode, 400);
    const text = await t.call({ method: 'POST', url: '/billingRuns/acme', payload: 'name=x', headers: { 'content-type': 'text/plain' } });
    assert.equal(text.statusCode, 415);
    assert.equal(text.json().statusCode, 415);
    const proto = await t.call({
      method: 'POST',
      url: '/billingRuns/acme',
      payload: '{"name":"x","status":"draft","__proto__":{"admin":true}}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(proto.statusCode, 400);
  });
});

describe('get', () => {
  test('projection with fields, consistentRead accepted, ETag set', async () => {
    const rec = await create(
      minimalRun({ drop_options: { expiration_date_range_start: '2025-01-01', expiration_date_range_end: '2025-02-01' } }),
    );
    const res = await get(rec.id, '?fields=name,drop_options.expiration_date_range_end,sys_version&consistentRead=true');
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), {
      id: rec.id,
      name: 'November run',
      drop_options: { expiration_date_range_end: '2025-02-01' },
      sys_version: 1,
    });
    assert.equal(res.headers.etag, '"1"');
  });
  test('404 for an unknown id, 400 for a bad id, a bad field or a bad consistentRead', async () => {
    assert.equal((await get('01a21570-0000-7000-8000-000000000000')).statusCode, 404);
    assert.equal((await get('bad%20id')).statusCode, 400);
    const rec = await create();
    const badField = await get(rec.id, '?fields=name,nope');
    assert.equal(badField.statusCode, 400);
    assert.equal(badField.json().errors[0].field, 'fields');
    assert.equal((await get(rec.id, '?consistentRead=maybe')).statusCode, 400);
  });
});

describe('update (PUT)', () => {
  test('replaces the record, keeps creation fields, increments sys_version', async () => {
    const rec = await create(minimalRun({ notification_email: 'a@example.org' }));
    const res = await t.call({ method: 'PUT', url: `/billingRuns/acme/${rec.id}`, payload: { name: 'Renamed', status: 'scheduled' } });
    assert.equal(res.statusCode, 200, res.body);
    const up = res.json();
    assert.equal(up.name, 'Renamed');
    assert.equal(up.notification_email, undefined, 'PUT replaces the whole record');
    assert.equal(up.sys_version, 2);
    assert.equal(up.sys_created_at, rec.sys_created_at);
    assert.equal(res.headers.etag, '"2"');
  });

  test('a round trip of the read record (with id and sys fields) is accepted', async () => {
    const rec = await create();
    const res = await t.call({ method: 'PUT', url: `/billingRuns/acme/${rec.id}`, payload: { ...rec, name: 'Round trip' } });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().sys_version, 2);
  });

  test('a stale sys_version in the body is a 409 and nothing changes', async () => {
    const rec = await create();
    await t.call({ method: 'PUT', url: `/billingRuns/acme/${rec.id}`, payload: minimalRun({ name: 'v2' }) });
    const res = await t.call({ method: 'PUT', url: `/billingRuns/acme/${rec.id}`, payload: minimalRun({ name: 'stale', sys_version: 1 }) });
    assert.equal(res.statusCode, 409);
    const now = (await get(rec.id)).json();
    assert.equal(now.name, 'v2');
    assert.equal(now.sys_version, 2);
  });

  test('a stale If-Match is a 412 and nothing changes; a current one passes', async () => {
    const rec = await create();
    await t.call({ method: 'PUT', url: `/billingRuns/acme/${rec.id}`, payload: minimalRun({ name: 'v2' }) });
    const stale = await t.call({
      method: 'PUT',
      url: `/billingRuns/acme/${rec.id}`,
      payload: minimalRun({ name: 'stale' }),
      headers: { 'if-match': '"1"' },
    });
    assert.equal(stale.statusCode, 412);
    assert.equal(stale.headers.etag, '"2"');
    assert.equal((await get(rec.id)).json().name, 'v2');
    const ok = await t.call({
      method: 'PUT',
      url: `/billingRuns/acme/${rec.id}`,
      payload: minimalRun({ name: 'v3' }),
      headers: { 'if-match': '"2"' },
    });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.json().sys_version, 3);
  });

  test('an id in the body that is not the path id is a 400; an invalid body changes nothing', async () => {
    const rec = await create();
    const res = await t.call({ method: 'PUT', url: `/billingRuns/acme/${rec.id}`, payload: minimalRun({ id: 'other' }) });
    assert.equal(res.statusCode, 400);
    const bad = await t.call({ method: 'PUT', url: `/billingRuns/acme/${rec.id}`, payload: { name: 'no status' } });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().errors[0].field, 'status');
    assert.deepEqual((await get(rec.id)).json(), rec);
  });

  test('404 for an unknown id', async () => {
    const res = await t.call({ method: 'PUT', url: '/billingRuns/acme/nope', payload: minimalRun() });
    assert.equal(res.statusCode, 404);
  });
});

describe('patch (RFC 6902)', () => {
  const patch = (id: string, ops: unknown, headers: Record<string, string> = {}) =>
    t.call({ method: 'PATCH', url: `/billingRuns/acme/${id}`, payload: ops as object, headers });

  test('add, replace, remove, copy, move and test in one document', async () => {
    const rec = await create(minimalRun({ notification_email: 'x@example.org', error: 'old' }));
    const res = await patch(rec.id, [
      { op: 'test', path: '/name', value: 'November run' },
      { op: 'replace', path: '/status', value: 'scheduled' },
      { op: 'add', path: '/statistics', value: [{ action: 'drop', total: 3 }] },
      { op: 'add', path: '/statistics/-', value: { action: 'remind', total: 1 } },
      { op: 'remove', path: '/error' },
      { op: 'copy', from: '/name', path: '/error_stack' },
      { op: 'move', from: '/notification_email', path: '/error' },
    ]);
    assert.equal(res.statusCode, 200, res.body);
    const p = res.json();
    assert.equal(p.status, 'scheduled');
    assert.deepEqual(p.statistics, [
      { action: 'drop', total: 3 },
      { action: 'remind', total: 1 },
    ]);
    assert.equal(p.error_stack, 'November run');
    assert.equal(p.error, 'x@example.org');
    assert.equal(p.notification_email, undefined);
    assert.equal(p.sys_version, 2);
    assert.equal(res.headers.etag, '"2"');
  });

  test('application/json-patch+json is accepted', async () => {
    const rec = await create();
    const res = await t.call({
      method: 'PATCH',
      url: `/billingRuns/acme/${rec.id}`,
      payload: JSON.stringify([{ op: 'replace', path: '/name', value: 'J' }]),
      headers: { 'content-type': 'application/json-patch+json' },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().name, 'J');
  });

  test('all or nothing: a failing second operation leaves the first unapplied', async () => {
    const rec = await create();
    const res = await patch(rec.id, [
      { op: 'replace', path: '/name', value: 'changed' },
      { op: 'replace', path: '/does_not_exist', value: 1 },
    ]);
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().errors[0].field, '1.path');
    assert.deepEqual((await get(rec.id)).json(), rec);
  });

  test('a failed test is a 409 and nothing changes', async () => {
    const rec = await create();
    const res = await patch(rec.id, [
      { op: 'replace', path: '/name', value: 'changed' },
      { op: 'test', path: '/status', value: 'completed' },
    ]);
    assert.equal(res.statusCode, 409);
    assert.deepEqual((await get(rec.id)).json(), rec);
  });

  test('test /sys_version is a precondition', async () => {
    const rec = await create();
    const ok = await patch(rec.id, [
      { op: 'test', path: '/sys_version', value: 1 },
      { op: 'replace', path: '/name', value: 'v2' },
    ]);
    assert.equal(ok.statusCode, 200);
    const stale = await patch(rec.id, [
      { op: 'test', path: '/sys_version', value: 1 },
      { op: 'replace', path: '/name', value: 'v3' },
    ]);
    assert.equal(stale.statusCode, 409);
    assert.equal((await get(rec.id)).json().name, 'v2');
  });

  test('a result that breaks the schema is a 422 naming the field, and nothing is stored', async () => {
    const rec = await create();
    for (const ops of [
      [{ op: 'remove', path: '/name' }],
      [{ op: 'replace', path: '/status', value: 'nope' }],
      [{ op: 'add', path: '/perform_drops', value: true }],
      [{ op: 'add', path: '/unknown_field', value: 1 }],
    ]) {
      const res = await patch(rec.id, ops);
      assert.equal(res.statusCode, 422, JSON.stringify(ops));
      assert.ok(res.json().errors[0].field);
    }
    assert.deepEqual((await get(rec.id)).json(), rec);
  });

  test('id and sys_* paths cannot be changed; malformed documents are 400', async () => {
    const rec = await create();
    for (const ops of [
      [{ op: 'replace', path: '/id', value: 'x' }],
      [{ op: 'replace', path: '/sys_version', value: 7 }],
      [{ op: 'remove', path: '/sys_created_by_id' }],
      [{ op: 'move', from: '/sys_created_at', path: '/error' }],
      [{ op: 'replace', path: '', value: {} }],
      [{ op: 'jump', path: '/name' }],
      [{ op: 'replace', path: 'name', value: 'x' }],
      [{ op: 'replace', path: '/name' }],
      [],
      { op: 'replace', path: '/name', value: 'x' },
    ]) {
      const res = await patch(rec.id, ops);
      assert.equal(res.statusCode, 400, `${JSON.stringify(ops)} -> ${res.body}`);
    }
    assert.deepEqual((await get(rec.id)).json(), rec);
  });

  test('a stale If-Match is a 412', async () => {
    const rec = await create();
    const res = await patch(rec.id, [{ op: 'replace', path: '/name', value: 'x' }], { 'if-match': '"7"' });
    assert.equal(res.statusCode, 412);
    assert.equal((await get(rec.id)).json().name, rec.name);
  });

  test('a patch that changes nothing keeps the version', async () => {
    const rec = await create();
    const res = await patch(rec.id, [{ op: 'replace', path: '/name', value: rec.name }]);
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().sys_version, 1);
  });
});

describe('locking', () => {
  test('only an admin token may lock or unlock', async () => {
    const rec = await create();
    const res = await t.call({
      method: 'PATCH',
      url: `/billingRuns/acme/${rec.id}`,
      payload: [{ op: 'replace', path: '/sys_locked', value: true }],
    });
    assert.equal(res.statusCode, 403);
    assert.match(res.json().message, /certifications:admin/);
    assert.equal((await get(rec.id)).json().sys_locked, false);
  });

  test('a locked record refuses PUT, PATCH and DELETE with 423 until unlocked', async () => {
    const rec = await create();
    const lock = await t.call({
      method: 'PATCH',
      url: `/billingRuns/acme/${rec.id}`,
      payload: [{ op: 'replace', path: '/sys_locked', value: true }],
      auth: t.admin,
    });
    assert.equal(lock.statusCode, 200, lock.body);
    assert.equal(lock.json().sys_locked, true);
    assert.equal((await t.call({ method: 'PUT', url: `/billingRuns/acme/${rec.id}`, payload: minimalRun({ name: 'x' }) })).statusCode, 423);
    assert.equal(
      (await t.call({ method: 'PATCH', url: `/billingRuns/acme/${rec.id}`, payload: [{ op: 'replace', path: '/name', value: 'x' }] }))
        .statusCode,
      423,
    );
    assert.equal(
      (
        await t.call({
          method: 'PATCH',
          url: `/billingRuns/acme/${rec.id}`,
          payload: [
            { op: 'replace', path: '/name', value: 'x' },
            { op: 'replace', path: '/sys_locked', value: false },
          ],
          auth: t.admin,
        })
      ).statusCode,
      423,
      'unlocking cannot smuggle in other changes',
    );
    assert.equal((await t.call({ method: 'DELETE', url: `/billingRuns/acme/${rec.id}` })).statusCode, 423);
    const badLock = await t.call({
      method: 'PATCH',
      url: `/billingRuns/acme/${rec.id}`,
      payload: [{ op: 'replace', path: '/sys_locked', value: 'no' }],
      auth: t.admin,
    });
    assert.equal(badLock.statusCode, 422);
    const unlock = await t.call({
      method: 'PATCH',
      url: `/billingRuns/acme/${rec.id}`,
      payload: [{ op: 'replace', path: '/sys_locked', value: false }],
      auth: t.admin,
    });
    assert.equal(unlock.statusCode, 200);
    assert.equal((await get(rec.id)).json().name, 'November run');
    assert.equal(
      (await t.call({ method: 'PATCH', url: `/billingRuns/acme/${rec.id}`, payload: [{ op: 'replace', path: '/name', value: 'x' }] }))
        .statusCode,
      200,
    );
  });
});

describe('delete', () => {
  test('answers the id as a JSON string; the record is gone', async () => {
    const rec = await create();
    const res = await t.call({ method: 'DELETE', url: `/billingRuns/acme/${rec.id}` });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /application\/json/);
    assert.equal(res.json(), rec.id);
    assert.equal((await get(rec.id)).statusCode, 404);
    assert.equal((await t.call({ method: 'DELETE', url: `/billingRuns/acme/${rec.id}` })).statusCode, 404);
  });
  test('a stale If-Match is a 412 and the record stays', async () => {
    const rec = await create();
    const res = await t.call({ method: 'DELETE', url: `/billingRuns/acme/${rec.id}`, headers: { 'if-match': 'W/"5"' } });
    assert.equal(res.statusCode, 412);
    assert.equal((await get(rec.id)).statusCode, 200);
    assert.equal((await t.call({ method: 'DELETE', url: `/billingRuns/acme/${rec.id}`, headers: { 'if-match': '"1"' } })).statusCode, 200);
  });
});

describe('refresh', () => {
  test('answers an execution handle and records the execution', async () => {
    const rec = await create();
    const res = await t.call({ method: 'POST', url: `/billingRuns/acme/refresh/${rec.id}` });
    assert.equal(res.statusCode, 200, res.body);
    const h = res.json();
    assert.match(h.executionArn, /^arn:accredit:states:acme:execution:billingRuns-refresh:/);
    assert.ok(!Number.isNaN(Date.parse(h.start_date)));
    assert.equal(typeof h.notification_channel, 'string');
    const rows = await asTenant('acme', () => t.app.services.executions.list('acme', 'billingRuns', rec.id));
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.action, 'refresh');
    assert.equal(rows[0]!.started_by, 'tester');
  });
  test('404 for an unknown run; an empty JSON body is accepted', async () => {
    const res = await t.call({
      method: 'POST',
      url: '/billingRuns/acme/refresh/nope',
      headers: { 'content-type': 'application/json' },
      payload: '',
    });
    assert.equal(res.statusCode, 404);
  });
});
