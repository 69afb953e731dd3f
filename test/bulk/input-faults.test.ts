import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, type TestApp } from '../helpers.js';
import { allErrors, finished, listAll } from './util.js';
import { MAX_ROW_BYTES } from '../../src/bulk/reader.js';

/**
 * Input that cannot be read as it was meant is refused, never stored mangled: rows that are not
 * UTF-8 (the row is rejected, naming its line; a BOM is dropped), a CSV record beyond the size limit
 * (one row, rejected once, the rows after it loaded), a quote never closed (named by the line where
 * it opened), and JSON bodies that are not UTF-8 (400 naming `(body)`).
 */
let t: TestApp;
before(async () => {
  t = await startApp({ env: { WORKER_POLL_MS: '50', SCHEDULER_POLL_MS: '0' } });
});
after(() => t.close());

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const latin1 = (s: string) => Buffer.from(s, 'latin1');

function post(tenant: string, body: Buffer, type: string) {
  return t
    .token({ tenants: [tenant] })
    .then((auth) =>
      t.call({ method: 'POST', url: `/bulkLoads/${tenant}?resource=creditTypes`, payload: body, headers: { 'content-type': type }, auth }),
    );
}

async function loadBytes(tenant: string, body: Buffer, type: string) {
  const res = await post(tenant, body, type);
  assert.equal(res.statusCode, 202, res.body);
  const auth = await t.token({ tenants: [tenant] });
  const view = await finished(t, tenant, res.json().id, { auth });
  return { view, errors: await allErrors(t, tenant, view.id, 1000, auth), records: await listAll(t, tenant, 'creditTypes', auth) };
}

const counts = (v: any) => [v.status, v.rows_read, v.rows_written, v.rows_rejected];

test('CSV: a row that is not UTF-8 is rejected naming its line; the others load exactly; a BOM is dropped', async () => {
  const body = Buffer.concat([
    BOM,
    Buffer.from('name,unit,is_active\nZoë hours,hour,true\n'),
    latin1('Zo\xeb points,point,true\n'),
    Buffer.from('Ünits,unit,false\n'),
  ]);
  const { view, errors, records } = await loadBytes('utf8csv', body, 'text/csv');
  assert.deepEqual(counts(view), ['completed', 3, 2, 1], JSON.stringify({ view, errors }));
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.row, 2);
  assert.equal(errors[0]!.errors[0]!.field, '(row)');
  assert.match(errors[0]!.errors[0]!.reason, /not valid UTF-8 \(byte 0xEB\) on line 3 of the file/);
  assert.deepEqual(records.map((r) => r.name).sort(), ['Zoë hours', 'Ünits']);
  assert.ok(records.every((r) => !JSON.stringify(r).includes('\ufffd')));
});

test('JSON Lines: a line that is not UTF-8 is rejected naming its line; a BOM is dropped', async () => {
  const body = Buffer.concat([
    BOM,
    Buffer.from('{"name":"Zoë hours","unit":"hour"}\n\n'),
    latin1('{"name":"Zo\xeb points","unit":"point"}\n'),
    Buffer.from('{"name":"Ünits","unit":"unit"}\n'),
  ]);
  const { view, errors, records } = await loadBytes('utf8jsonl', body, 'application/x-ndjson');
  assert.deepEqual(counts(view), ['completed', 3, 2, 1], JSON.stringify({ view, errors }));
  assert.equal(errors[0]!.row, 2);
  assert.match(errors[0]!.errors[0]!.reason, /not valid UTF-8 \(byte 0xEB at offset 11\) on line 3 of the file/);
  assert.deepEqual(records.map((r) => r.name).sort(), ['Zoë hours', 'Ünits']);
});

test('CSV: a header that is not UTF-8 refuses the file (400 naming the body)', async () => {
  const res = await post('utf8head', Buffer.concat([latin1('nam\xe9,unit\n'), Buffer.from('a,hour\n')]), 'text/csv');
  assert.equal(res.statusCode, 400, res.body);
  const body = res.json();
  assert.equal(body.errors[0].field, '(body)');
  assert.match(body.errors[0].reason, /header row .*not valid UTF-8/);
});

test('CSV: one record beyond the size limit is one row, rejected once; the rows after it load', { timeout: 120_000 }, async () => {
  const huge = `"${'x'.repeat(MAX_ROW_BYTES / 2)}\n${'y'.repeat(MAX_ROW_BYTES / 2)}"`;
  const body = Buffer.from(`name,unit,is_active\nBefore,hour,true\n${huge},hour,true\nAfter,hour,true\nLast,unit,false\n`);
  const { view, errors, records } = await loadBytes('toolong', body, 'text/csv');
  assert.deepEqual(counts(view), ['completed', 4, 3, 1], JSON.stringify({ view, errors }));
  assert.deepEqual(
    errors.map((e) => [e.row, e.errors.length]),
    [[2, 1]],
  );
  assert.match(errors[0]!.errors[0]!.reason, new RegExp(`is longer than ${MAX_ROW_BYTES} bytes \\(lines 3 to 4 of the file\\)`));
  assert.deepEqual(records.map((r) => r.name).sort(), ['After', 'Before', 'Last']);
});

test('CSV: a quote never closed names the line where it opened', async () => {
  const body = Buffer.from('name,unit,is_active\nA,hour,true\nB,"hour,true\nC,hour,true\nD,hour,true\n');
  const { view, errors, records } = await loadBytes('quote', body, 'text/csv');
  assert.deepEqual(counts(view), ['completed', 2, 1, 1], JSON.stringify({ view, errors }));
  assert.equal(errors[0]!.row, 2);
  assert.match(errors[0]!.errors[0]!.reason, /a quote opened on line 3 that is never closed/);
  assert.deepEqual(
    records.map((r) => r.name),
    ['A'],
  );
});

test('JSON bodies that are not UTF-8: 400 naming (body) on every JSON route; a BOM is accepted', async () => {
  const bad = Buffer.concat([Buffer.from('{"name":"Zo'), Buffer.from([0xeb]), Buffer.from('","unit":"hour"}')]);
  const create = await t.call({ method: 'POST', url: '/creditTypes/acme', payload: bad, headers: { 'content-type': 'application/json' } });
  assert.equal(create.statusCode, 400, create.body);
  assert.equal(create.json().errors[0].field, '(body)');
  assert.match(create.json().errors[0].reason, /is not valid UTF-8 \(byte 0xEB at offset 11\)/);

  const ok = await t.call({
    method: 'POST',
    url: '/creditTypes/acme',
    payload: Buffer.concat([BOM, Buffer.from('{"name":"Zoë","unit":"hour"}')]),
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(ok.statusCode, 201, ok.body);
  assert.equal(ok.json().name, 'Zoë');

  const patch = Buffer.concat([Buffer.from('[{"op":"replace","path":"/name","value":"Zo'), Buffer.from([0xeb]), Buffer.from('"}]')]);
  const patched = await t.call({
    method: 'PATCH',
    url: `/creditTypes/acme/${ok.json().id}`,
    payload: patch,
    headers: { 'content-type': 'application/json-patch+json' },
  });
  assert.equal(patched.statusCode, 400, patched.body);
  assert.equal(patched.json().errors[0].field, '(body)');
  const search = await t.call({
    method: 'POST',
    url: '/creditTypes/acme/search',
    payload: Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff]), Buffer.from('"}')]),
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(search.statusCode, 400, search.body);
  assert.equal(search.json().errors[0].field, '(body)');
  const after = await t.call({ method: 'GET', url: `/creditTypes/acme/${ok.json().id}` });
  assert.equal(after.json().name, 'Zoë');
});
