import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import { BACKEND, startApp, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';
import { allErrors, finished, listAll, load, upload } from './util.js';

/**
 * Managing bulk loads: the path shapes of the OpenAPI document (and the older form of starting a
 * load, still served for one release), the list of loads, dry runs, the rejects file, cancelling,
 * natural keys, and exports by a search body.
 */
let t: TestApp;

before(async () => {
  t = await startApp({ env: { WORKER_POLL_MS: '50', SCHEDULER_POLL_MS: '0' } });
});
after(() => t.close());

describe('path shapes', () => {
  test('no two paths of the OpenAPI document have the same shape; a load starts with POST /bulkLoads/{tenantId}?resource=', async () => {
    const doc = (await t.call({ method: 'GET', url: '/openapi.json' })).json();
    const shapes = new Map<string, string>();
    for (const p of Object.keys(doc.paths)) {
      const shape = p.replace(/\{[^}]+\}/g, '{}');
      assert.equal(shapes.get(shape), undefined, `${p} has the shape of ${shapes.get(shape)}`);
      shapes.set(shape, p);
    }
    const start = doc.paths['/bulkLoads/{tenantId}']?.post;
    assert.ok(start, 'POST /bulkLoads/{tenantId}');
    assert.ok(
      start.parameters.some((p: any) => p.in === 'query' && p.name === 'resource' && p.required),
      'resource is a required query parameter',
    );
    assert.equal(doc.paths['/bulkLoads/{tenantId}/{resource}'], undefined, 'the older form is hidden');
  });

  test('the older form POST /bulkLoads/{tenantId}/{resource} still loads; the new one without resource is a 400 naming it', async () => {
    const res = await t.call({
      method: 'POST',
      url: '/bulkLoads/acme/examSites',
      payload: 'name\nOld form hall\n',
      headers: { 'content-type': 'text/csv' },
    });
    assert.equal(res.statusCode, 202, res.body);
    const done = await finished(t, 'acme', res.json().id);
    assert.equal(done.rows_written, 1);
    assert.ok((await listAll(t, 'acme', 'examSites')).some((r) => r.name === 'Old form hall'));
    const none = await t.call({ method: 'POST', url: '/bulkLoads/acme', payload: 'name\nx\n', headers: { 'content-type': 'text/csv' } });
    assert.equal(none.statusCode, 400, none.body);
    assert.equal(none.json().errors[0].field, 'resource');
    const viaNew = await load(t, 'acme', 'examSites', 'name\nNew form hall\n');
    assert.equal(viaNew.rows_written, 1);
  });
});

const COUPON_HEADER = 'sys_external_id,name,code,discount_method,maximum_discount';

describe('the list of loads', () => {
  test('GET /bulkLoads/{tenantId}: newest first, paged, filtered by resource and status, of the tenant only', async () => {
    const auth = await t.token({ tenants: ['lst'] });
    const a = await load(t, 'lst', 'examSites', 'name\nA\n', { auth });
    const b = await load(t, 'lst', 'creditTypes', 'name\nB\n', { auth });
    const c = await load(t, 'lst', 'examSites', 'name\nC\n', { auth, query: 'dryRun=true' });
    const get = async (q: string) => {
      const res = await t.call({ method: 'GET', url: `/bulkLoads/lst${q}`, auth });
      assert.equal(res.statusCode, 200, res.body);
      return res.json();
    };
    const all = await get('');
    assert.deepEqual(
      all.Items.map((l: any) => l.id),
      [c.id, b.id, a.id],
    );
    assert.equal(all.LastEvaluatedKey, undefined);
    assert.deepEqual(all.Items[2], a, 'each item is the view of GET /bulkLoads/{tenantId}/{id}');
    const first = await get('?limit=2');
    assert.deepEqual(
      first.Items.map((l: any) => l.id),
      [c.id, b.id],
    );
    const second = await get(`?limit=2&exclusiveStartKey=${first.LastEvaluatedKey}`);
    assert.deepEqual(
      second.Items.map((l: any) => l.id),
      [a.id],
    );
    assert.equal(second.LastEvaluatedKey, undefined);
    assert.deepEqual(
      (await get('?resource=examSites')).Items.map((l: any) => l.id),
      [c.id, a.id],
    );
    assert.deepEqual((await get('?status=completed')).Items.length, 3);
    assert.deepEqual((await get('?status=cancelled')).Items, []);
    assert.deepEqual((await get('?resource=coupons')).Items, []);
    for (const [q, field] of [
      ['?status=sleeping', 'status'],
      ['?limit=0', 'limit'],
      ['?exclusiveStartKey=nonsense!', 'exclusiveStartKey'],
    ]) {
      const res = await t.call({ method: 'GET', url: `/bulkLoads/lst${q}`, auth });
      assert.equal(res.statusCode, 400, `${q}: ${res.body}`);
      assert.equal(res.json().errors[0].field, field);
    }
    const other = await t.token({ tenants: ['lst2'] });
    assert.deepEqual((await t.call({ method: 'GET', url: '/bulkLoads/lst2', auth: other })).json().Items, []);
    assert.equal((await t.call({ method: 'GET', url: '/bulkLoads/lst', auth: other })).statusCode, 403);
  });
});

describe('dry runs', () => {
  test('?dryRun=true validates and counts every row (matches, repeats, references) and writes nothing', async () => {
    const auth = await t.token({ tenants: ['dry'] });
    const real = await load(t, 'dry', 'coupons', `${COUPON_HEADER}\nE1,First,C1,inline discount,10\n`, { auth });
    assert.equal(real.dry_run, false);
    const before = await listAll(t, 'dry', 'coupons', auth);
    const file = [
      COUPON_HEADER,
      'E1,First renamed,C1,inline discount,10', // would replace E1
      'E2,Second,C2,inline discount,20', // would create
      'E2,Second again,C3,inline discount,20', // repeats E2
      'E3,,C4,inline discount,5', // no name
      'E4,Fourth,C5,inline discount,5',
    ].join('\n');
    const dry = await load(t, 'dry', 'coupons', file, { auth, query: 'dryRun=true' });
    assert.equal(dry.status, 'completed', JSON.stringify(dry));
    assert.equal(dry.dry_run, true);
    assert.deepEqual([dry.rows_read, dry.rows_written, dry.rows_rejected, dry.rows_unchanged], [5, 3, 2, 0]);
    assert.deepEqual(await allErrors(t, 'dry', dry.id, 1000, auth), [
      { row: 3, errors: [{ field: 'sys_external_id', reason: 'repeats the sys_external_id of row 2 of this file' }] },
      { row: 4, errors: [{ field: 'name', reason: 'is required' }] },
    ]);
    assert.deepEqual(await listAll(t, 'dry', 'coupons', auth), before, 'nothing written');
    // the same file for real writes what the dry run counted
    const wet = await load(t, 'dry', 'coupons', file, { auth });
    assert.deepEqual([wet.rows_written, wet.rows_rejected, wet.dry_run], [3, 2, false]);
    assert.equal((await listAll(t, 'dry', 'coupons', auth)).length, 3);
    const bad = await t.call({
      method: 'POST',
      url: '/bulkLoads/dry?resource=coupons&dryRun=maybe',
      payload: file,
      headers: { 'content-type': 'text/csv' },
      auth,
    });
    assert.equal(bad.statusCode, 400, bad.body);
    assert.equal(bad.json().errors[0].field, 'dryRun');
  });
});

describe('the rejects file', () => {
  test('CSV: the rejected rows with their cells and an error column; fixed, it loads', async () => {
    const auth = await t.token({ tenants: ['rej'] });
    const file = [
      COUPON_HEADER,
      'R1,Good,C1,inline discount,10',
      'R2,,=1+2,inline discount,10',
      'R3,"Comma, ""quoted""",C3,sometimes,10',
      'R4,Surplus,C4,inline discount,10,extra',
      'R5,Good too,C5,inline discount,5',
    ].join('\n');
    const done = await load(t, 'rej', 'coupons', file, { auth });
    assert.deepEqual([done.rows_written, done.rows_rejected], [2, 3]);
    const res = await t.call({ method: 'GET', url: `/bulkLoads/rej/${done.id}/rejects`, auth });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^text\/csv/);
    assert.match(String(res.headers['content-disposition']), /attachment; filename="coupons-rejects-.+\.csv"/);
    const rows = parse(res.body, { relax_column_count: true }) as string[][];
    assert.deepEqual(rows, [
      [...COUPON_HEADER.split(','), 'error'],
      ['R2', '', "'=1+2", 'inline discount', '10', 'name: is required'],
      ['R3', 'Comma, "quoted"', 'C3', 'sometimes', '10', 'discount_method: must be one of: "discount line item", "inline discount"'],
      ['R4', 'Surplus', 'C4', 'inline discount', '10', 'extra', '(row): has 6 cells; the header names 5 columns'],
    ]);
    // fix the rows in the file as downloaded (the error column stays) and load it again
    const fixed = res.body.replace('R2,,', 'R2,Named,').replace(',sometimes,', ',inline discount,').replace(',extra,', ',');
    const again = await load(t, 'rej', 'coupons', fixed, { auth });
    assert.deepEqual(
      [again.rows_read, again.rows_written, again.rows_rejected],
      [3, 3, 0],
      JSON.stringify(await allErrors(t, 'rej', again.id, 1000, auth)),
    );
    const coupons = await listAll(t, 'rej', 'coupons', auth);
    assert.equal(coupons.find((c) => c.sys_external_id === 'R2')?.code, '=1+2', 'the formula escape is taken off again');
    assert.equal(coupons.length, 5);
    // a load without rejected rows: the header only
    const none = await t.call({ method: 'GET', url: `/bulkLoads/rej/${again.id}/rejects`, auth });
    assert.equal(none.body, `${COUPON_HEADER},error\n`);
    assert.equal((await t.call({ method: 'GET', url: `/bulkLoads/other/${done.id}/rejects`, auth: t.admin })).statusCode, 403);
  });

  test('JSON Lines: each rejected object with _errors (a line that is no object as _line); fixed, it loads', async () => {
    const auth = await t.token({ tenants: ['rejj'] });
    const lines = ['{"name":"Ethics"}', '{"name":5,"description":"five"}', '{ not json', '[1]', '{"name":"Law"}'];
    const done = await load(t, 'rejj', 'creditTypes', lines.join('\n'), { auth, type: 'application/x-ndjson' });
    assert.deepEqual([done.rows_written, done.rows_rejected], [2, 3]);
    const res = await t.call({ method: 'GET', url: `/bulkLoads/rejj/${done.id}/rejects`, auth });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^application\/x-ndjson/);
    const out = res.body
      .trim()
      .split('\n')
      .map((l: string) => JSON.parse(l));
    assert.deepEqual(out[0], { name: 5, description: 'five', _errors: [{ field: 'name', reason: 'must be a string' }] });
    assert.equal(out[1]._line, '{ not json');
    assert.match(out[1]._errors[0].reason, /^is not valid JSON/);
    assert.deepEqual(out[2], { _line: '[1]', _errors: [{ field: '(row)', reason: 'must be a JSON object' }] });
    const fixed = `${JSON.stringify({ ...out[0], name: 'Five' })}\n`;
    const again = await load(t, 'rejj', 'creditTypes', fixed, { auth, type: 'application/x-ndjson' });
    assert.deepEqual([again.rows_written, again.rows_rejected], [1, 0], 'the _errors of a rejects file are ignored');
    assert.ok((await listAll(t, 'rejj', 'creditTypes', auth)).some((r) => r.name === 'Five' && r.description === 'five'));
  });
});

describe('cancelling a load', () => {
  test('POST …/cancel stops a running load between chunks: what is written stays, it ends cancelled with its counts', async () => {
    const auth = await t.token({ tenants: ['cnl'] });
    const n = BACKEND === 'sqlite' ? 40_000 : 8_000;
    const rows = Array.from({ length: n }, (_v, i) => `T${i + 1},Type ${i + 1}`);
    const started = await upload(t, 'cnl', 'creditTypes', `sys_external_id,name\n${rows.join('\n')}\n`, { auth });
    for (;;) {
      const v = (await t.call({ method: 'GET', url: `/bulkLoads/cnl/${started.id}`, auth })).json();
      if (v.rows_read > 0) break;
      assert.equal(v.status === 'completed', false, 'the load ended before it could be cancelled');
      await new Promise((r) => setTimeout(r, 10));
    }
    const res = await t.call({ method: 'POST', url: `/bulkLoads/cnl/${started.id}/cancel`, auth });
    assert.equal(res.statusCode, 202, res.body);
    assert.ok(res.json().cancel_requested_at);
    const end = await finished(t, 'cnl', started.id, { auth });
    assert.equal(end.status, 'cancelled', JSON.stringify(end));
    assert.ok(end.finished_at);
    assert.ok(end.rows_read > 0 && end.rows_read < n, JSON.stringify(end));
    assert.equal(end.rows_read % 500, 0, 'it stops between chunks');
    const written = await listAll(t, 'cnl', 'creditTypes', auth);
    assert.equal(written.length, end.rows_written);
    assert.equal(end.rows_written, end.rows_read);
    const again = await t.call({ method: 'POST', url: `/bulkLoads/cnl/${started.id}/cancel`, auth });
    assert.equal(again.statusCode, 409, again.body);
    const listed = (await t.call({ method: 'GET', url: '/bulkLoads/cnl?status=cancelled', auth })).json();
    assert.deepEqual(
      listed.Items.map((l: any) => l.id),
      [started.id],
    );
    assert.equal((await t.call({ method: 'POST', url: `/bulkLoads/cnl/${started.id}/cancel`, auth: t.admin })).statusCode, 403);
    const missing = await t.call({ method: 'POST', url: '/bulkLoads/cnl/019a0000-0000-7000-8000-000000000000/cancel', auth });
    assert.equal(missing.statusCode, 404, missing.body);
  });
});

describe('natural keys', () => {
  test('a certification row without sys_external_id matching program + number updates it instead of adding one', async () => {
    const auth = await t.token({ tenants: ['nat'], scope: 'certifications:admin' });
    const f = new Factory(t, auth, 'nat');
    const program = await f.create('programs');
    const cert = (n: number, over: Record<string, unknown> = {}) =>
      JSON.stringify({ number: n, contact_id: `contact-${n}`, program_id: program.id, status: 'active', name: `Holder ${n}`, ...over });
    const first = await load(t, 'nat', 'certifications', [cert(1), cert(2)].join('\n'), { auth, type: 'application/x-ndjson' });
    assert.deepEqual([first.rows_written, first.rows_rejected], [2, 0]);
    const before = await listAll(t, 'nat', 'certifications', auth);
    const file = [
      cert(1, { name: 'Holder One' }), // changed: updates number 1
      cert(2), // the same: unchanged
      cert(3), // new
      cert(1, { name: 'Again' }), // repeats the key of row 1
    ].join('\n');
    const second = await load(t, 'nat', 'certifications', file, { auth, type: 'application/x-ndjson' });
    assert.deepEqual([second.rows_written, second.rows_unchanged, second.rows_rejected], [2, 1, 1], JSON.stringify(second));
    assert.deepEqual(await allErrors(t, 'nat', second.id, 1000, auth), [
      { row: 4, errors: [{ field: 'number', reason: 'repeats the program_id and number of row 1 of this file' }] },
    ]);
    const after = await listAll(t, 'nat', 'certifications', auth);
    assert.equal(after.length, 3);
    const one = after.find((c) => c.number === 1)!;
    assert.equal(one.id, before.find((c) => c.number === 1)!.id, 'the same record');
    assert.equal(one.name, 'Holder One');
    assert.equal(one.sys_version, 2);
    assert.equal(one.sys_bulk_load_id, second.id);
    // a dry run matches the same way
    const dry = await load(t, 'nat', 'certifications', cert(3, { name: 'Three' }), {
      auth,
      type: 'application/x-ndjson',
      query: 'dryRun=true',
    });
    assert.deepEqual([dry.rows_written, dry.rows_rejected], [1, 0]);
  });
});

describe('exports by criteria', () => {
  test('POST /exports/{tenantId}/{resource} exports the records the search body selects', async () => {
    const auth = await t.token({ tenants: ['xc'] });
    const file = [
      COUPON_HEADER,
      'X1,Spring sale,S1,inline discount,10',
      'X2,Autumn sale,A1,discount line item,20',
      'X3,Spring extra,S2,discount line item,30',
    ].join('\n');
    await load(t, 'xc', 'coupons', file, { auth });
    const post = (body: unknown, q = '') => t.call({ method: 'POST', url: `/exports/xc/coupons${q}`, payload: body as object, auth });
    const res = await post({ name: 'spring', discount_method: ['discount line item'] }, '?fields=sys_external_id,name');
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^text\/csv/);
    assert.equal(res.body, 'sys_external_id,name\nX3,Spring extra\n');
    const jsonl = await post({ code: ['S1', 'A1'] }, '?format=jsonl&fields=name');
    assert.equal(jsonl.statusCode, 200, jsonl.body);
    assert.deepEqual(
      jsonl.body
        .trim()
        .split('\n')
        .map((l: string) => JSON.parse(l).name),
      ['Spring sale', 'Autumn sale'],
    );
    const every = await post({});
    assert.equal(every.body.trim().split('\n').length, 4, 'an empty search selects every record');
    const bad = await post({ colour: 'red' });
    assert.equal(bad.statusCode, 400, bad.body);
    assert.equal(bad.json().errors[0].field, 'colour');
    const badRange = await post({ end_date: ['soon', ''] });
    assert.equal(badRange.statusCode, 400, badRange.body);
    assert.equal((await t.call({ method: 'POST', url: '/exports/xc/nothings', payload: {}, auth })).statusCode, 404);
    assert.equal((await t.call({ method: 'POST', url: '/exports/xc/coupons', payload: {}, auth: t.admin })).statusCode, 403);
  });
});
