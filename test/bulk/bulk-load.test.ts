import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { BACKEND, startApp, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';
import { allErrors, cell, finished, listAll, load, upload } from './util.js';

/**
 * Bulk loads through HTTP: a 100,000-row CSV (20,000 on PostgreSQL, where every row is a round trip)
 * with exactly 1% bad rows of eight kinds -> the exact rejected rows and reasons; the same file again
 * writes nothing; a changed file updates only what changed. JSON Lines, references, header checks,
 * refusals, tenant isolation, and a chunk whose transaction fails as a whole.
 */
const N = BACKEND === 'sqlite' ? 100_000 : 20_000;
let t: TestApp;
let f: Factory;

before(async () => {
  t = await startApp({ env: { WORKER_POLL_MS: '50', SCHEDULER_POLL_MS: '0' } });
  f = new Factory(t, t.admin);
});
after(() => t.close());

const HEADER = [
  'sys_external_id',
  'name',
  'code',
  'is_active',
  'start_date',
  'end_date',
  'maximum_number_of_uses',
  'discount_method',
  'maximum_discount',
  'apply_to_application_fees',
  'application_fee_discount.discount_type',
  'application_fee_discount.amount',
];
const pad = (n: number) => String(n).padStart(2, '0');

/** Row i (1-based) of the coupons file; every 100th row is bad in one of eight ways. */
function couponRow(i: number, rename?: (i: number) => string | undefined): { cells: string[]; error?: { field: string; reason: string } } {
  const apply = i % 5 === 0;
  const cells = [
    `C${i}`,
    rename?.(i) ?? (i % 7 === 0 ? `Coupon ${i}, "special"` : `Coupon ${i}`),
    `CODE${i}`,
    i % 2 === 0 ? 'true' : 'false',
    '2025-01-01',
    `2026-${pad(1 + (i % 12))}-${pad(1 + (i % 28))}`,
    String(1 + (i % 50)),
    i % 3 ? 'inline discount' : 'discount line item',
    String((i % 1000) / 4),
    apply ? 'true' : '',
    apply ? 'percentage' : '',
    apply ? String(i % 100) : '',
  ];
  if (i % 100 !== 0) return { cells };
  switch ((i / 100) % 8) {
    case 0:
      cells[1] = '';
      return { cells, error: { field: 'name', reason: 'is required' } };
    case 1:
      cells[7] = 'sometimes';
      return { cells, error: { field: 'discount_method', reason: 'must be one of: "discount line item", "inline discount"' } };
    case 2:
      cells[8] = '12,5';
      return { cells, error: { field: 'maximum_discount', reason: 'must be a number' } };
    case 3:
      cells[5] = '2026-02-30';
      return { cells, error: { field: 'end_date', reason: 'must be a date (YYYY-MM-DD)' } };
    case 4:
      cells[10] = '';
      cells[11] = '';
      return { cells, error: { field: 'application_fee_discount', reason: 'is required when apply_to_application_fees is true' } };
    case 5:
      cells.push('surplus');
      return { cells, error: { field: '(row)', reason: `has ${HEADER.length + 1} cells; the header names ${HEADER.length} columns` } };
    case 6:
      cells[0] = `C${i - 1}`;
      return { cells, error: { field: 'sys_external_id', reason: `repeats the sys_external_id of row ${i - 1} of this file` } };
    default:
      cells[6] = '0';
      return { cells, error: { field: 'maximum_number_of_uses', reason: 'must be >= 1' } };
  }
}

function couponsFile(rename?: (i: number) => string | undefined) {
  const lines = [HEADER.join(',')];
  const errors: { row: number; errors: { field: string; reason: string }[] }[] = [];
  for (let i = 1; i <= N; i++) {
    const { cells, error } = couponRow(i, rename);
    lines.push(cells.map(cell).join(','));
    if (error) errors.push({ row: i, errors: [error] });
  }
  return { csv: `${lines.join('\r\n')}\r\n`, errors };
}

describe(`a ${N.toLocaleString('en')}-row CSV with 1% bad rows`, () => {
  const file = couponsFile();
  let first: string;

  test('loads every good row and rejects exactly the bad ones, with their reasons', { timeout: 300_000 }, async () => {
    const started = Date.now();
    const accepted = await upload(t, 'acme', 'coupons', file.csv, { query: 'source_file=coupons-2025.csv' });
    assert.deepEqual(accepted, {
      id: accepted.id,
      resource: 'coupons',
      status: 'queued',
      source_file: 'coupons-2025.csv',
      rows_read: 0,
      rows_written: 0,
      rows_rejected: 0,
      rows_unchanged: 0,
      dry_run: false,
    });
    first = accepted.id;
    // progress while it runs: counters only grow, and always add up
    let last = 0;
    let seenRunning = false;
    for (;;) {
      const v = (await t.call({ method: 'GET', url: `/bulkLoads/acme/${first}` })).json();
      assert.equal(v.rows_read, v.rows_written + v.rows_rejected + v.rows_unchanged);
      assert.ok(v.rows_read >= last);
      last = v.rows_read;
      if (v.status === 'running' && v.rows_read > 0 && v.rows_read < N) seenRunning = true;
      if (v.status === 'completed' || v.status === 'failed') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const seconds = (Date.now() - started) / 1000;
    const done = await finished(t, 'acme', first);
    assert.ok(seenRunning, 'progress was visible while the load ran (the API stays responsive)');
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.deepEqual([done.rows_read, done.rows_written, done.rows_rejected, done.rows_unchanged], [N, N - N / 100, N / 100, 0]);
    assert.ok(done.finished_at && done.finished_at >= done.started_at);
    process.stdout.write(`# ${BACKEND}: ${N} rows loaded in ${seconds.toFixed(1)} s\n`);
    // well under a minute on an idle machine (about 20 s); the bound leaves room for a busy CI runner
    if (BACKEND === 'sqlite') assert.ok(seconds < 90, `${seconds} s`);

    assert.deepEqual(await allErrors(t, 'acme', first), file.errors);
    // paging: a small page and its key
    const page = (await t.call({ method: 'GET', url: `/bulkLoads/acme/${first}/errors?limit=3` })).json();
    assert.deepEqual(page.Items, file.errors.slice(0, 3));
    const next = (
      await t.call({ method: 'GET', url: `/bulkLoads/acme/${first}/errors?limit=3&exclusiveStartKey=${page.LastEvaluatedKey}` })
    ).json();
    assert.deepEqual(next.Items, file.errors.slice(3, 6));
  });

  test('the records are there once each, stamped with the load', { timeout: 120_000 }, async () => {
    const all = await listAll(t, 'acme', 'coupons');
    assert.equal(all.length, N - N / 100);
    assert.equal(new Set(all.map((r) => r.sys_external_id)).size, all.length);
    const bad = new Set(file.errors.map((e) => e.row));
    const rows = all.map((r) => r.sys_bulk_load_record_no as number);
    assert.deepEqual(
      rows,
      [...Array(N).keys()].map((i) => i + 1).filter((i) => !bad.has(i)),
      'in file order, bad rows left out',
    );
    const c7 = all.find((r) => r.sys_external_id === 'C7')!;
    assert.deepEqual(
      {
        ...c7,
        id: undefined,
        sys_created_at: undefined,
        sys_last_modified_at: undefined,
        sys_bulk_load_at: undefined,
        sys_last_security_context: undefined,
      },
      {
        id: undefined,
        name: 'Coupon 7, "special"',
        code: 'CODE7',
        is_active: false,
        start_date: '2025-01-01',
        end_date: '2026-08-08',
        maximum_number_of_uses: 8,
        discount_method: 'inline discount',
        maximum_discount: 1.75,
        sys_created_at: undefined,
        sys_created_by_id: 'tester',
        sys_last_modified_at: undefined,
        sys_last_modified_by_id: 'tester',
        sys_last_security_context: undefined,
        sys_version: 1,
        sys_locked: false,
        sys_bulk_load_id: first,
        sys_bulk_load_at: undefined,
        sys_bulk_load_source_file: 'coupons-2025.csv',
        sys_bulk_load_record_no: 7,
        sys_external_id: 'C7',
      },
    );
    assert.equal(c7.sys_last_security_context.via, 'bulk load');
    const c5 = all.find((r) => r.sys_external_id === 'C5')!;
    assert.deepEqual(c5.application_fee_discount, { discount_type: 'percentage', amount: 5 });
    assert.equal(c5.apply_to_application_fees, true);
    // GET by id shows the stamps too (the record schema carries them)
    const got = (await t.call({ method: 'GET', url: `/coupons/acme/${c7.id}` })).json();
    assert.equal(got.sys_external_id, 'C7');
    assert.equal(got.sys_bulk_load_record_no, 7);
  });

  test('the same file again writes nothing: every good row is unchanged', { timeout: 300_000 }, async () => {
    const again = await load(t, 'acme', 'coupons', file.csv, { query: 'source_file=coupons-2025.csv' });
    assert.equal(again.status, 'completed', JSON.stringify(again));
    assert.deepEqual([again.rows_read, again.rows_written, again.rows_rejected, again.rows_unchanged], [N, 0, N / 100, N - N / 100]);
    assert.deepEqual(await allErrors(t, 'acme', again.id), file.errors);
    const all = await listAll(t, 'acme', 'coupons');
    assert.equal(all.length, N - N / 100);
    assert.ok(all.every((r) => r.sys_version === 1 && r.sys_bulk_load_id === first));
  });

  test('a changed file updates exactly the changed records', { timeout: 300_000 }, async () => {
    const changed = new Set([1, 2, 3, 501, N - 1]);
    const v2 = couponsFile((i) => (changed.has(i) ? `Renamed ${i}` : undefined));
    const run = await load(t, 'acme', 'coupons', v2.csv, { query: 'source_file=coupons-v2.csv' });
    assert.deepEqual([run.rows_written, run.rows_rejected, run.rows_unchanged], [changed.size, N / 100, N - N / 100 - changed.size]);
    const all = await listAll(t, 'acme', 'coupons');
    assert.equal(all.length, N - N / 100);
    const renamed = all.filter((r) => r.name.startsWith('Renamed'));
    assert.deepEqual(
      renamed.map((r) => r.sys_external_id),
      [...changed].map((i) => `C${i}`),
    );
    for (const r of renamed) {
      assert.equal(r.sys_version, 2);
      assert.equal(r.sys_bulk_load_id, run.id);
      assert.equal(r.sys_bulk_load_source_file, 'coupons-v2.csv');
    }
  });
});

describe('JSON Lines', () => {
  test('rows are objects as they are; unreadable rows, unknown fields and bad references are rejected', async () => {
    const program = await f.create('programs');
    const cert = (n: number, over: Record<string, unknown> = {}) =>
      JSON.stringify({
        sys_external_id: `K${n}`,
        number: 1000 + n,
        contact_id: `contact-${n}`,
        program_id: program.id,
        status: 'active',
        name: `Holder ${n}`,
        ...over,
      });
    const lines = [
      cert(1),
      '',
      cert(2, { first_name: 'Ada', city: 'Zürich' }),
      '{ not json',
      '[1, 2]',
      cert(5, { program_id: 'no-such-program' }),
      cert(6, { favourite_colour: 'blue' }),
      cert(7, { id: 'mine' }),
      cert(8, { sys_external_id: 42 }),
      cert(9, { status: 'sleeping' }),
      cert(10, { sys_created_by_id: 'mallory', sys_bulk_load_id: 'forged' }),
    ];
    const done = await load(t, 'acme', 'certifications', lines.join('\n'), { type: 'application/x-ndjson' });
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.deepEqual([done.rows_read, done.rows_written, done.rows_rejected], [10, 3, 7]);
    const errors = await allErrors(t, 'acme', done.id);
    assert.deepEqual(
      errors.map((e) => e.row),
      [3, 4, 5, 6, 7, 8, 9],
    );
    assert.match(errors[0]!.errors[0]!.reason, /^is not valid JSON/);
    assert.deepEqual(errors.slice(1), [
      { row: 4, errors: [{ field: '(row)', reason: 'must be a JSON object' }] },
      { row: 5, errors: [{ field: 'program_id', reason: 'names a program that does not exist (no-such-program)' }] },
      { row: 6, errors: [{ field: 'favourite_colour', reason: 'is not a known field' }] },
      {
        row: 7,
        errors: [{ field: 'id', reason: 'is generated by the server; leave it out of a bulk load (match records with sys_external_id)' }],
      },
      { row: 8, errors: [{ field: 'sys_external_id', reason: 'must be a string' }] },
      { row: 9, errors: [{ field: 'status', reason: 'must be one of: "active", "inactive", "suspended", "retired"' }] },
    ]);
    const certs = (await listAll(t, 'acme', 'certifications')).filter((c) => c.sys_bulk_load_id === done.id);
    assert.deepEqual(
      certs.map((c) => [c.sys_external_id, c.sys_bulk_load_record_no]),
      [
        ['K1', 1],
        ['K2', 2],
        ['K10', 10],
      ],
    );
    assert.equal(certs[1]!.city, 'Zürich');
    assert.equal(certs[2]!.sys_created_by_id, 'tester', 'sys_* fields of a row are ignored');
    // the references of loaded records are indexed like those of any create: the programme cannot go
    const del = await t.call({ method: 'DELETE', url: `/programs/acme/${program.id}`, auth: t.admin });
    assert.equal(del.statusCode, 409, del.body);
  });

  test('application/jsonl and ?format=jsonl name the format too', async () => {
    const a = await load(t, 'acme', 'courseTypes', '{"name":"Refresher"}\n', { type: 'application/jsonl' });
    assert.deepEqual([a.status, a.rows_written], ['completed', 1]);
    const b = await load(t, 'acme', 'courseTypes', '{"name":"Initial"}\r\n{"name":"Advanced"}', {
      type: 'application/octet-stream',
      query: 'format=jsonl&source_file=types.jsonl',
    });
    assert.deepEqual([b.status, b.rows_written, b.source_file], ['completed', 2, 'types.jsonl']);
  });
});

describe('what a load refuses before it starts', () => {
  test('an id column, unknown or duplicate columns, paths inside lists: 400 naming each', async () => {
    const idCol = await upload(t, 'acme', 'courseTypes', 'id,name\nx,Initial\n', { status: 400 });
    assert.equal(idCol.errors[0].field, 'id');
    assert.match(idCol.message, /ids are generated by the server/);
    const bad = await upload(
      t,
      'acme',
      'directories',
      'name,colour,name,searchable_fields.name,radius_search_options.radius_options\nA,red,A,x,1\n',
      { status: 400 },
    );
    assert.deepEqual(bad.errors, [
      { field: 'colour', reason: 'is not a field of this resource' },
      { field: 'name', reason: 'appears twice in the header' },
      {
        field: 'searchable_fields.name',
        reason: 'searchable_fields is a list: give it whole, as JSON text, in a column named searchable_fields',
      },
    ]);
    const jsonId = await upload(t, 'acme', 'courseTypes', '{"id":"x","name":"Initial"}\n', { type: 'application/x-ndjson', status: 400 });
    assert.equal(jsonId.errors[0].field, 'id');
  });

  test('unknown resources (404), singletons (400), other content types (415), empty bodies (400)', async () => {
    assert.equal((await upload(t, 'acme', 'nothing', 'name\nx\n', { status: 404 })).code, 'not_found');
    assert.match((await upload(t, 'acme', 'settings', 'name\nx\n', { status: 400 })).message, /cannot be bulk loaded/);
    assert.equal(
      (await upload(t, 'acme', 'courseTypes', 'name\nx\n', { type: 'application/json', status: 415 })).code,
      'unsupported_media_type',
    );
    assert.equal((await upload(t, 'acme', 'courseTypes', 'name\nx\n', { query: 'format=xml', status: 400 })).errors[0].field, 'format');
    assert.equal((await upload(t, 'acme', 'courseTypes', '', { status: 400 })).errors[0].field, '(body)');
    // admin-only resources need an admin token to be loaded
    assert.equal((await upload(t, 'acme', 'invoices', 'number\n1\n', { status: 403 })).code, 'forbidden');
    // a read token cannot load
    const reader = await t.token({ scope: 'certifications:read' });
    assert.equal((await upload(t, 'acme', 'courseTypes', 'name\nx\n', { auth: reader, status: 403 })).code, 'forbidden');
  });

  test('a header-only file completes with nothing to do', async () => {
    const done = await load(t, 'acme', 'courseTypes', 'name,description\n');
    assert.deepEqual([done.status, done.rows_read], ['completed', 0]);
  });
});

describe('tenants', () => {
  test("a load is invisible from another tenant's path (404) and refused for a tenant the token lacks (403)", async () => {
    const done = await load(t, 'acme', 'courseTypes', 'name\nIsolated\n');
    const both = await t.token({ tenants: ['acme', 'other'] });
    for (const url of [`/bulkLoads/other/${done.id}`, `/bulkLoads/other/${done.id}/errors`]) {
      const res = await t.call({ method: 'GET', url, auth: both });
      assert.equal(res.statusCode, 404, `${url}: ${res.body}`);
    }
    const onlyOther = await t.token({ tenants: ['other'] });
    assert.equal((await t.call({ method: 'GET', url: `/bulkLoads/acme/${done.id}`, auth: onlyOther })).statusCode, 403);
    assert.equal(
      (
        await t.call({
          method: 'POST',
          url: '/bulkLoads/acme?resource=courseTypes',
          payload: 'name\nx\n',
          headers: { 'content-type': 'text/csv' },
          auth: onlyOther,
        })
      ).statusCode,
      403,
    );
    // the same external id in two tenants names two records
    const a = await load(t, 'acme', 'creditTypes', 'sys_external_id,name\nE1,Ethics\n');
    const b = await load(t, 'other', 'creditTypes', 'sys_external_id,name\nE1,Ethics\n', { auth: both });
    assert.deepEqual([a.rows_written, b.rows_written], [1, 1]);
  });
});

describe('retries', () => {
  test('an upload retried with its Idempotency-Key answers the first load again, and loads nothing twice', async () => {
    const send = (body: string) =>
      t.call({
        method: 'POST',
        url: '/bulkLoads/acme?resource=examSites',
        payload: body,
        headers: { 'content-type': 'text/csv', 'idempotency-key': 'upload-42' },
      });
    const file = 'name\nHall A\nHall B\n';
    const first = await send(file);
    assert.equal(first.statusCode, 202, first.body);
    const again = await send(file);
    assert.equal(again.statusCode, 202, again.body);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(again.json().id, first.json().id);
    assert.equal((await send('name\nHall C\n')).statusCode, 422, 'the same key with another file');
    const done = await finished(t, 'acme', first.json().id);
    assert.equal(done.rows_written, 2);
    const halls = (await listAll(t, 'acme', 'examSites')).filter((r) => r.sys_bulk_load_id);
    assert.deepEqual(
      halls.map((r) => r.name),
      ['Hall A', 'Hall B'],
    );
    const uploads = fs.readdirSync(path.join(t.config.dataDir, 'uploads'));
    assert.deepEqual(uploads, [], 'uploads are removed: the replayed one at once, the loaded one when its load ended');
  });
});

describe('failures', () => {
  test('a chunk whose transaction fails as a whole is committed row by row: only the failing row is lost', async () => {
    const table = t.app.services.resource('creditTypes').table;
    const insert = table.insert.bind(table);
    table.insert = async (db, tenantId, record) => {
      if (record.name === 'Boom') throw new Error('disk on fire');
      return insert(db, tenantId, record);
    };
    try {
      const rows = ['name', ...Array.from({ length: 1200 }, (_, i) => (i === 700 ? 'Boom' : `Type ${i + 1}`))];
      const done = await load(t, 'acme', 'creditTypes', rows.join('\n'));
      assert.equal(done.status, 'completed', JSON.stringify(done));
      assert.deepEqual([done.rows_read, done.rows_written, done.rows_rejected], [1200, 1199, 1]);
      assert.deepEqual(await allErrors(t, 'acme', done.id), [
        { row: 701, errors: [{ field: '(row)', reason: 'could not be written (a server error; the server log has the cause)' }] },
      ]);
      const loaded = (await listAll(t, 'acme', 'creditTypes')).filter((r) => r.sys_bulk_load_id === done.id);
      assert.equal(loaded.length, 1199);
      assert.equal(new Set(loaded.map((r) => r.sys_bulk_load_record_no)).size, 1199, 'no row written twice');
    } finally {
      table.insert = insert;
    }
  });
});
