import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';
import { asTenant } from '../../src/store/tenant-scope.js';
import { exportChunks, exportPlan } from '../../src/bulk/export.js';
import { RESOURCES } from '../../src/resources/index.js';
import { fieldsOf, listAll, load } from './util.js';

/**
 * Exports: every record of a resource, streamed in id order; export -> load into an empty tenant
 * gives the same records (ids and sys_* fields aside), in CSV and in JSON Lines, for records that
 * use every kind of column (nested objects, lists, lists of objects, free-form objects, text that
 * needs quoting). Then references, projections and paging.
 */
let t: TestApp;
let all: string; // a token for every tenant of the suite
before(async () => {
  t = await startApp({ env: { WORKER_POLL_MS: '50', SCHEDULER_POLL_MS: '0' } });
  all = await t.token({ tenants: '*', scope: 'certifications:admin' });
});
after(() => t.close());

const call = async (method: string, url: string, payload?: unknown, status = 200) => {
  const res = await t.call({ method: method as any, url, payload: payload as any, auth: all });
  assert.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
  return res;
};

/** Creates records through the batch route, 100 at a time. */
async function createAll(tenant: string, slug: string, bodies: Record<string, unknown>[]) {
  for (let i = 0; i < bodies.length; i += 100) {
    const res = (
      await call('POST', `/${slug}/${tenant}/batch`, {
        operations: bodies.slice(i, i + 100).map((object) => ({ operation: 'create', object })),
      })
    ).json();
    assert.equal(res.error_count, 0, JSON.stringify(res.results.find((r: any) => !r.success)));
  }
}

/** Directories of every shape: the columns of a CSV export meet lists, objects and awkward text. */
function directory(i: number): Record<string, unknown> {
  const d: Record<string, unknown> = {
    name: [`Registry ${i}`, `Registry, "quoted" ${i}`, `Line one\nline two ${i}`, ` padded ${i} `, `Zürich — ${i} ✓`, `;semi;colons; ${i}`][
      i % 6
    ],
    searchable_fields: [{ name: 'last_name', label: 'Last name' }, ...(i % 2 ? [{ name: 'city', group_name: 'Where' }] : [])],
  };
  if (i % 3 === 0) d.is_public = i % 2 === 0;
  if (i % 4 === 0) d.display_mode = 'list';
  if (i % 5 === 0) d.additional_fields = [['email'], ['a;b', 'c'], [], ['[not json'], ['x', ''], ['1', 'true']][i % 6];
  if (i % 7 === 0) {
    d.enable_radius_search = true;
    d.radius_search_options = i % 2 ? { postal_code_field: 'zip', radius_options: [5, 10.5, 25] } : { radius_options: [] };
  }
  if (i % 11 === 0) {
    d.enable_query_filter = true;
    d.query_filter_rules = { all: [{ field: 'status', op: 'eq', value: 'active' }], note: 'a "rule", with commas' };
  }
  if (i % 13 === 0) d.certification_statuses = ['active', 'suspended'];
  if (i % 17 === 0) d.custom_search_results_template = '<p>{{name}}</p>\r\n<p>"x", y</p>';
  return d;
}

describe('export -> load into an empty tenant gives the same records', () => {
  const N = 300;
  before(async () => {
    await createAll(
      'src',
      'directories',
      Array.from({ length: N }, (_, i) => directory(i)),
    );
  });

  for (const format of ['csv', 'jsonl'] as const) {
    test(format, async () => {
      const res = await call('GET', `/exports/src/directories?format=${format}`);
      assert.equal(res.headers['content-type'], format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8');
      assert.equal(res.headers['content-disposition'], `attachment; filename="directories.${format}"`);
      if (format === 'csv') {
        const header = res.body.slice(0, res.body.indexOf('\n'));
        assert.ok(header.startsWith('name,is_public,display_mode,searchable_fields,additional_fields,'), header);
        assert.ok(header.includes(',radius_search_options.postal_code_field,radius_search_options.radius_options,'), header);
        assert.ok(header.endsWith(',sys_external_id'), header);
        assert.ok(!/(^|,)id(,|$)/.test(header) && !header.includes('sys_created_at'));
      } else {
        assert.equal(res.body.trim().split('\n').length, N);
      }
      const target = `dst-${format}`;
      const done = await load(t, target, 'directories', res.body, {
        type: format === 'csv' ? 'text/csv' : 'application/x-ndjson',
        auth: all,
      });
      assert.deepEqual([done.status, done.rows_read, done.rows_written, done.rows_rejected], ['completed', N, N, 0], JSON.stringify(done));
      const source = await listAll(t, 'src', 'directories', all);
      const loaded = await listAll(t, target, 'directories', all);
      assert.deepEqual(loaded.map(fieldsOf), source.map(fieldsOf));
      assert.ok(loaded.every((r, i) => r.sys_bulk_load_id === done.id && r.sys_bulk_load_record_no === i + 1));
    });
  }

  test('the CSV writes lists of scalars with ";" and falls back to JSON where that would not read back', async () => {
    const text = (await call('GET', '/exports/src/directories?fields=name,additional_fields')).body;
    const rows = text.trim().split('\n');
    assert.equal(rows[0], 'name,additional_fields');
    assert.equal(rows[1], 'Registry 0,email');
    assert.ok(rows.includes('Z\u00fcrich \u2014 10 \u2713,x;'), 'an empty item reads back from "x;"');
    assert.ok(text.includes('"[""a;b"",""c""]"'), 'an item holding ";" makes the list JSON');
    assert.ok(text.includes(',[]'), 'an empty list is JSON');
    assert.ok(text.includes('"[""[not json""]"'), 'a list that would start with "[" is JSON');
    assert.ok(text.includes(',1;true'), 'strings that look like other types stay plain in a list of strings');
  });
});

describe('references', () => {
  test('records that name others load where the named records exist (same ids)', async () => {
    const f = new Factory(t, all, 'refsrc');
    const program = await f.create('programs');
    const certs = [];
    for (let i = 0; i < 25; i++) {
      certs.push({
        number: 5000 + i,
        contact_id: `contact-${i}`,
        program_id: program.id,
        status: i % 4 ? 'active' : 'inactive',
        name: `Holder ${i}`,
        ...(i % 3 ? { city: 'Lyon', expiration_date: '2027-06-30' } : {}),
      });
    }
    await createAll('refsrc', 'certifications', certs);
    // the target tenant has the programme under the same id (as after a load of programmes that kept them)
    const svc = t.app.services.resource('programs');
    const { id: _id, ...programFields } = fieldsOf(program) as Record<string, unknown>;
    const ctx = {
      tenantId: 'refdst',
      actor: { sub: 'tester', tenants: ['refdst'], scopes: new Set(['certifications:admin']) },
      requestId: 'test',
    };
    await asTenant('refdst', () => svc.createWithId(ctx, program.id, programFields));

    const csv = (await call('GET', '/exports/refsrc/certifications')).body;
    const done = await load(t, 'refdst', 'certifications', csv, { auth: all });
    assert.deepEqual([done.status, done.rows_written, done.rows_rejected], ['completed', 25, 0], JSON.stringify(done));
    assert.deepEqual(
      (await listAll(t, 'refdst', 'certifications', all)).map(fieldsOf),
      (await listAll(t, 'refsrc', 'certifications', all)).map(fieldsOf),
    );

    // where they do not exist, every row says which reference is missing
    const missing = await load(t, 'refnone', 'certifications', csv, { auth: all });
    assert.deepEqual([missing.rows_written, missing.rows_rejected], [0, 25]);
    const errors = (await call('GET', `/bulkLoads/refnone/${missing.id}/errors?limit=1`)).json();
    assert.deepEqual(errors.Items, [
      { row: 1, errors: [{ field: 'program_id', reason: `names a program that does not exist (${program.id})` }] },
    ]);
  });
});

describe('external ids survive the round trip', () => {
  test('a load with sys_external_id, exported and loaded twice elsewhere: the second load changes nothing', async () => {
    const rows = [
      'sys_external_id,name,unit,is_active',
      ...Array.from({ length: 40 }, (_, i) => `X${i},Kind ${i},${i % 2 ? 'hour' : 'point'},${i % 3 === 0}`),
    ];
    const first = await load(t, 'extsrc', 'creditTypes', rows.join('\n'), { auth: all });
    assert.equal(first.rows_written, 40);
    const csv = (await call('GET', '/exports/extsrc/creditTypes')).body;
    assert.ok(csv.startsWith('name,description,unit,is_active,parent_credit_type_id,sys_external_id\n'), csv.slice(0, 80));
    const a = await load(t, 'extdst', 'creditTypes', csv, { auth: all });
    const b = await load(t, 'extdst', 'creditTypes', csv, { auth: all });
    assert.deepEqual([a.rows_written, a.rows_unchanged, b.rows_written, b.rows_unchanged], [40, 0, 0, 40]);
    const dst = await listAll(t, 'extdst', 'creditTypes', all);
    assert.deepEqual(
      dst.map((r) => r.sys_external_id),
      Array.from({ length: 40 }, (_, i) => `X${i}`),
    );
    // JSON Lines keeps them too
    const jsonl = (await call('GET', '/exports/extsrc/creditTypes?format=jsonl')).body;
    assert.deepEqual(JSON.parse(jsonl.split('\n')[0]), { name: 'Kind 0', unit: 'point', is_active: true, sys_external_id: 'X0' });
  });
});

describe('fields', () => {
  test('projections: named columns, nested objects expanded, id and sys_* on request', async () => {
    const csv = (await call('GET', '/exports/src/directories?fields=id,name,radius_search_options,sys_created_at')).body;
    const [header, first] = csv.split('\n');
    assert.equal(header, 'id,name,radius_search_options.postal_code_field,radius_search_options.radius_options,sys_created_at');
    const records = await listAll(t, 'src', 'directories', all);
    assert.equal(first, `${records[0]!.id},Registry 0,,[],${records[0]!.sys_created_at}`, 'an empty list is written as JSON');
    const seventh = csv.split('\n').find((l) => l.startsWith(`${records[7]!.id},`))!;
    assert.ok(seventh.includes(',zip,5;10.5;25,'), seventh);

    const jsonl = (await call('GET', '/exports/src/directories?format=jsonl&fields=name,radius_search_options.radius_options')).body
      .trim()
      .split('\n')
      .map((l: string) => JSON.parse(l));
    assert.deepEqual(jsonl[0], { name: 'Registry 0', radius_search_options: { radius_options: [] } });
    assert.deepEqual(jsonl[1], { name: records[1]!.name });
    assert.deepEqual(jsonl[7], { name: records[7]!.name, radius_search_options: { radius_options: [5, 10.5, 25] } });
    const withId = JSON.parse((await call('GET', '/exports/src/directories?format=jsonl&fields=id,name')).body.split('\n')[0]);
    assert.deepEqual(withId, { id: records[0]!.id, name: 'Registry 0' });
  });

  test('unknown fields, fields inside a JSON column, unknown resources and formats are refused', async () => {
    assert.equal(
      (await call('GET', '/exports/src/directories?fields=name,colour', undefined, 400)).json().errors[0].reason,
      'names unknown field "colour"',
    );
    assert.match(
      (await call('GET', '/exports/src/directories?fields=searchable_fields.name', undefined, 400)).json().errors[0].reason,
      /exported whole \(as JSON\)/,
    );
    assert.equal(
      (await call('GET', '/exports/src/directories?format=jsonl&fields=colour', undefined, 400)).json().errors[0].field,
      'fields',
    );
    await call('GET', '/exports/src/nothing', undefined, 404);
    await call('GET', '/exports/src/directories?format=xml', undefined, 400);
    // a tenant the token does not name
    const acme = await t.token();
    assert.equal((await t.call({ method: 'GET', url: '/exports/src/directories', auth: acme })).statusCode, 403);
  });

  test('an empty resource exports its header only', async () => {
    assert.equal((await call('GET', '/exports/empty/courseTypes')).body, 'name,description,is_active,sys_external_id\n');
    assert.equal((await call('GET', '/exports/empty/courseTypes?format=jsonl')).body, '');
  });
});

describe('streaming', () => {
  test('records are read and written a page at a time, every record once, in id order', async () => {
    const rows = ['name', ...Array.from({ length: 2500 }, (_, i) => `Course type ${i}`)];
    const done = await load(t, 'big', 'courseTypes', rows.join('\n'), { auth: all });
    assert.equal(done.rows_written, 2500);
    const r = RESOURCES.find((x) => x.def.slug === 'courseTypes')!;
    const table = t.app.services.resource('courseTypes').table;
    const chunks: string[] = [];
    for await (const chunk of exportChunks(t.store.db, table, 'big', exportPlan(r, 'csv', 'name'), [], 300)) chunks.push(chunk);
    assert.equal(chunks.length, 1 + Math.ceil(2500 / 300), 'the header, then one chunk per page');
    const http = (await call('GET', '/exports/big/courseTypes?fields=name')).body;
    assert.equal(chunks.join(''), http);
    assert.deepEqual(http.trim().split('\n').slice(1), rows.slice(1));
    // other tenants' records never appear, whatever the page
    assert.ok(!http.includes('Registry'));
  });
});
