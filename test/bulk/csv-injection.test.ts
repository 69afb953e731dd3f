import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import { startApp, type TestApp } from '../helpers.js';
import { fieldsOf, listAll, load } from './util.js';

/**
 * CSV injection: text cells that a spreadsheet would run as a formula (beginning with = + - @, a tab
 * or a carriage return) are written with a single quote in front, in exports and in query results;
 * numbers stay numbers; JSON Lines and JSON stay exact; and an export still loads back exactly.
 */
let t: TestApp;
before(async () => {
  t = await startApp({ env: { WORKER_POLL_MS: '50', SCHEDULER_POLL_MS: '0' } });
});
after(() => t.close());

const NAMES = ['=HYPERLINK("http://x","y")', '+1 555', '-2+3', '@SUM(A1)', '\tTabbed', '\rReturn', "'=already quoted", 'Plain', "O'Brien"];

async function seed(tenant: string) {
  const auth = await t.token({ tenants: [tenant], scope: 'certifications:admin' });
  for (const [i, name] of NAMES.entries()) {
    const res = await t.call({
      method: 'POST',
      url: `/appStatusReasons/${tenant}`,
      payload: { name, description: i === 0 ? '-neg' : 'ok', display_order: i === 2 ? -5 : i },
      auth,
    });
    assert.equal(res.statusCode, 201, res.body);
  }
  return auth;
}

test('exports: formula-like text is escaped with a quote, numbers are not, JSON Lines is exact; the export loads back exactly', async () => {
  const auth = await seed('inj');
  const csv = await t.call({ method: 'GET', url: '/exports/inj/appStatusReasons?fields=name,description,display_order', auth });
  assert.equal(csv.statusCode, 200, csv.body);
  const rows = parse(csv.body, { relax_column_count: true }) as string[][];
  assert.deepEqual(rows[0], ['name', 'description', 'display_order']);
  const byOrder = new Map(rows.slice(1).map((r) => [r[2], r]));
  assert.deepEqual(byOrder.get('0'), [`'=HYPERLINK("http://x","y")`, "'-neg", '0']);
  assert.equal(byOrder.get('1')![0], "'+1 555");
  assert.deepEqual(byOrder.get('-5'), ["'-2+3", 'ok', '-5']);
  assert.equal(byOrder.get('3')![0], "'@SUM(A1)");
  assert.equal(byOrder.get('4')![0], "'\tTabbed");
  assert.equal(byOrder.get('5')![0], "'\rReturn");
  assert.equal(byOrder.get('6')![0], "''=already quoted");
  assert.equal(byOrder.get('7')![0], 'Plain');
  assert.equal(byOrder.get('8')![0], "O'Brien");
  for (const r of rows.slice(1)) for (const cell of r.slice(0, 2)) assert.doesNotMatch(cell, /^[=+\-@\t\r]/, cell);

  const jsonl = await t.call({ method: 'GET', url: '/exports/inj/appStatusReasons?format=jsonl', auth });
  assert.deepEqual(
    jsonl.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).name)
      .sort(),
    [...NAMES].sort(),
  );

  // the full export loads back into another tenant as the same records
  const full = await t.call({ method: 'GET', url: '/exports/inj/appStatusReasons', auth });
  const back = await t.token({ tenants: ['injback'], scope: 'certifications:admin' });
  const loaded = await load(t, 'injback', 'appStatusReasons', full.body, { auth: back });
  assert.deepEqual([loaded.status, loaded.rows_written, loaded.rows_rejected], ['completed', NAMES.length, 0]);
  const norm = (rs: Record<string, any>[]) => rs.map(fieldsOf).sort((a, b) => a.display_order - b.display_order);
  assert.deepEqual(norm(await listAll(t, 'injback', 'appStatusReasons', back)), norm(await listAll(t, 'inj', 'appStatusReasons', auth)));
});

test('query results: CSV escapes formula-like text (numbers stay numbers), JSON is exact', async () => {
  const auth = await seed('injq');
  const run = async (format: 'csv' | 'json') => {
    const started = await t.call({
      method: 'POST',
      url: `/queries/injq/run/appStatusReasons/${format}`,
      payload: { output_fields: ['name', 'display_order'], sort_fields: ['name'] },
      auth,
    });
    assert.equal(started.statusCode, 202, started.body);
    for (;;) {
      const d = (await t.call({ method: 'GET', url: `/queries/injq/describe/${started.json().id}`, auth })).json();
      if (d.status !== 'RUNNING') {
        assert.equal(d.status, 'SUCCEEDED', JSON.stringify(d));
        return (await t.call({ method: 'GET', url: d.result_url, auth })).body;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const rows = parse(await run('csv'), { relax_column_count: true }) as string[][];
  const got = new Map(rows.slice(1).map((r) => [r[1], r[0]]));
  assert.equal(got.get('0'), `'=HYPERLINK("http://x","y")`);
  assert.equal(got.get('-5'), "'-2+3");
  assert.equal(got.get('3'), "'@SUM(A1)");
  assert.equal(got.get('4'), "'\tTabbed");
  assert.equal(got.get('7'), 'Plain');
  for (const r of rows.slice(1)) assert.doesNotMatch(r[0]!, /^[=+\-@\t\r]/);
  const json = JSON.parse(await run('json'));
  assert.deepEqual(json.Items.map((i: any) => i.name).sort(), [...NAMES].sort());
  assert.ok(json.Items.some((i: any) => i.display_order === -5));
});
