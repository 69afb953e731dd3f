import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { parse } from 'csv-parse/sync';
import { startApp, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';
import { RESOURCES } from '../../src/resources/index.js';
import { asSystem } from '../../src/store/tenant-scope.js';

/**
 * Queries end to end through HTTP (issue #9): query definitions served from the registry, then
 * run -> describe -> result in JSON and CSV over certifications made through the API, with nested
 * criteria, sort, limit and offset, the results checked against what the test computes itself; the
 * 400s, the 409 before a run is done, the 404 of another tenant's query, scopes, and a 5,000-row
 * result that arrives in chunks over a real socket.
 */
let t: TestApp;
type S = Record<string, any>;
const call = async (method: string, url: string, body?: unknown, status = 200, auth?: string) => {
  const res = await t.call({ method: method as any, url, payload: body as any, auth: auth ?? t.admin });
  assert.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
  return res;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function finished(id: string, tenant = 'acme', auth?: string): Promise<S> {
  for (let i = 0; i < 3000; i++) {
    const d = (await call('GET', `/queries/${tenant}/describe/${id}`, undefined, 200, auth)).json();
    if (d.status !== 'RUNNING') return d;
    await sleep(10);
  }
  throw new Error('query did not finish');
}
async function runQuery(queryType: string, format: 'json' | 'csv', body: unknown, tenant = 'acme', auth?: string) {
  const started = (await call('POST', `/queries/${tenant}/run/${queryType}/${format}`, body, 202, auth)).json();
  const d = await finished(started.id, tenant, auth);
  assert.equal(d.status, 'SUCCEEDED', JSON.stringify(d));
  const res = await call('GET', d.result_url, undefined, 200, auth);
  return { started, describe: d, res };
}
const queryCount = () =>
  asSystem(async () =>
    Number(
      (
        await t.store.db
          .selectFrom('executions')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('resource', '=', 'queries')
          .executeTakeFirstOrThrow()
      ).n,
    ),
  );

let certs: S[] = [];
const CITIES = ['Paris', 'Lyon', 'paris', undefined];
const STATUSES = ['active', 'inactive', 'suspended', 'retired'];
const day = (i: number) => new Date(Date.UTC(2025, 0, 1) + i * 10 * 86_400_000).toISOString().slice(0, 10);

before(async () => {
  t = await startApp({ env: { WORKER_POLL_MS: '50' } });
  const f = new Factory(t, t.admin);
  const programs = [await f.create('programs'), await f.create('programs')];
  const operations = Array.from({ length: 60 }, (_, i) => {
    const object: S = {
      number: 1000 + i,
      owner_type: i % 5 === 0 ? 'organization' : 'contact',
      contact_id: `contact-${i % 7}`,
      program_id: programs[i % 2]!.id,
      status: STATUSES[i % 4],
      name: i % 10 === 3 ? `O'Neil, "Jr" ${i}` : `Holder ${String(i).padStart(2, '0')}`,
    };
    if (i % 5 === 0) object.organization_id = `org-${i}`;
    if (i % 6 !== 5) object.expiration_date = day(i);
    if (i % 3 !== 2) object.grandfathered = i % 3 === 0;
    if (i % 4 !== 0) object.forecasted_renewal_amount = i * 12.5;
    if (CITIES[i % 4]) object.city = CITIES[i % 4];
    return { operation: 'create', object };
  });
  const batch = (await call('POST', '/certifications/acme/batch', { operations })).json();
  assert.equal(batch.success_count, 60, JSON.stringify(batch.results.find((r: S) => !r.success)));
  // the records as stored (read back through the API), in id (creation) order
  certs = (await call('GET', '/certifications/acme?limit=1000')).json().Items;
  assert.equal(certs.length, 60);
});
after(() => t.close());

/** Sorts like the server: each key ascending or descending with missing values last, then id. */
function sortLike(rows: S[], keys: [string, 'asc' | 'desc'][]) {
  return [...rows].sort((a, b) => {
    for (const [k, dir] of [...keys, ['id', 'asc'] as [string, 'asc']]) {
      const x = a[k];
      const y = b[k];
      if (x === y) continue;
      if (x === undefined) return 1;
      if (y === undefined) return -1;
      const c = x < y ? -1 : 1;
      return dir === 'asc' ? c : -c;
    }
    return 0;
  });
}

describe('query definitions come from the registry', () => {
  test('one per resource, listed first; get by slug; projections work', async () => {
    const list = (await call('GET', '/queryDefinitions/acme?limit=1000')).json();
    const ids = list.Items.map((d: S) => d.id);
    assert.deepEqual(
      ids.slice(0, RESOURCES.length),
      RESOURCES.map((r) => r.def.slug),
    );
    assert.equal(list.Count, list.Items.length);
    const def = (await call('GET', '/queryDefinitions/acme/certifications')).json();
    assert.equal(def.primary_table, 'certifications');
    assert.deepEqual(def.services, ['certifications']);
    assert.deepEqual(def.default_sort_fields, ['id']);
    const byName = new Map(def.fields.map((f: S) => [f.name, f]));
    assert.deepEqual(byName.get('status'), { name: 'status', type: 'string', label: 'Status', enum: STATUSES, sortable: true });
    assert.equal((byName.get('expiration_date') as S).type, 'date');
    assert.equal((byName.get('sys_created_at') as S).type, 'date-time');
    assert.equal((byName.get('number') as S).type, 'number');
    assert.ok(def.default_output_fields.includes('id') && def.default_output_fields.every((n: string) => byName.has(n)));
    const projected = (await call('GET', '/queryDefinitions/acme/certifications?fields=name,primary_table')).json();
    assert.deepEqual(projected, { id: 'certifications', name: 'Certifications', primary_table: 'certifications' });
  });

  test('a built-in definition cannot be changed (409); stored ones keep working', async () => {
    for (const [method, body] of [
      ['PUT', { name: 'mine' }],
      ['PATCH', [{ op: 'replace', path: '/name', value: 'mine' }]],
      ['DELETE', undefined],
    ] as const) {
      const res = await call(method, '/queryDefinitions/acme/certifications', body, 409);
      assert.match(res.json().message, /provided by the server/);
    }
    const mine = (await call('POST', '/queryDefinitions/acme', { name: 'my own', primary_table: 'certifications' }, 201)).json();
    const list = (await call('GET', '/queryDefinitions/acme?limit=1000')).json();
    assert.ok(list.Items.some((d: S) => d.id === mine.id));
    await call('DELETE', `/queryDefinitions/acme/${mine.id}`);
  });
});

describe('run -> describe -> result', () => {
  test('JSON: nested criteria, sort, output fields; counts and bytes as described', async () => {
    const criteria = {
      all: [
        { field: 'status', operator: 'in', value: ['active', 'inactive'] },
        {
          any: [
            { field: 'expiration_date', operator: 'between', value: ['2025-03-01', '2025-12-31'] },
            {
              all: [
                { field: 'grandfathered', operator: 'equals', value: true },
                { field: 'city', operator: 'contains', value: 'PARIS' },
              ],
            },
          ],
        },
        { field: 'name', operator: 'not_contains', value: 'neil' },
      ],
    };
    const output_fields = ['id', 'number', 'name', 'status', 'expiration_date', 'grandfathered', 'city'];
    const {
      started,
      describe: d,
      res,
    } = await runQuery('certifications', 'json', {
      criteria,
      output_fields,
      sort_fields: ['-expiration_date', 'number'],
      name: 'Renewals 2025',
    });
    assert.equal(started.status, 'RUNNING');
    assert.equal(started.name, 'Renewals 2025');
    assert.equal(started.describe_url, `/queries/acme/describe/${started.id}`);
    assert.match(started.executionArn, new RegExp(`${started.id}$`));

    const expected = sortLike(
      certs.filter(
        (c) =>
          ['active', 'inactive'].includes(c.status) &&
          ((c.expiration_date >= '2025-03-01' && c.expiration_date <= '2025-12-31') ||
            (c.grandfathered === true && /paris/i.test(c.city ?? ''))) &&
          !/neil/i.test(c.name),
      ),
      [
        ['expiration_date', 'desc'],
        ['number', 'asc'],
      ],
    );
    assert.ok(expected.length > 5 && expected.length < 40, `a selective query (${expected.length})`);
    assert.deepEqual(
      { id: d.id, name: d.name, query_type: d.query_type, output_format: d.output_format, row_count: d.row_count, error: d.error },
      {
        id: started.id,
        name: 'Renewals 2025',
        query_type: 'certifications',
        output_format: 'json',
        row_count: expected.length,
        error: null,
      },
    );
    assert.ok(Date.parse(d.completed_at) >= Date.parse(d.created_at));
    assert.match(res.headers['content-type'] as string, /^application\/json/);
    assert.equal(d.size_bytes, res.rawPayload.length, 'size_bytes is the size of the result');
    const body = res.json();
    assert.equal(body.Count, expected.length);
    assert.deepEqual(
      body.Items,
      expected.map((c) => Object.fromEntries(output_fields.map((k) => [k, c[k] ?? null]))),
    );
  });

  test('CSV: header of the output fields, quoting, nested values as JSON; limit and offset', async () => {
    const criteria = {
      any: [
        { field: 'city', operator: 'equals', value: 'Paris' },
        { field: 'forecasted_renewal_amount', operator: 'greater_than', value: 300 },
      ],
    };
    const output_fields = [
      'number',
      'name',
      'city',
      'forecasted_renewal_amount',
      'grandfathered',
      'sys_version',
      'sys_last_security_context',
    ];
    const body = { criteria, output_fields, sort_fields: ['city', { field: 'number', direction: 'desc' }], limit: 10, offset: 2 };
    const { describe: d, res } = await runQuery('certifications', 'csv', body);
    const all = sortLike(
      certs.filter((c) => c.city === 'Paris' || c.forecasted_renewal_amount > 300),
      [
        ['city', 'asc'],
        ['number', 'desc'],
      ],
    );
    const expected = all.slice(2, 12);
    assert.equal(d.row_count, 10);
    assert.equal(d.size_bytes, res.rawPayload.length);
    assert.match(res.headers['content-type'] as string, /^text\/csv; charset=utf-8/);
    assert.match(res.headers['content-disposition'] as string, /^attachment; filename="[\w.-]+\.csv"$/);
    const rows: string[][] = parse(res.body);
    assert.deepEqual(rows[0], output_fields);
    assert.equal(rows.length, 11);
    rows.slice(1).forEach((row, i) => {
      const c = expected[i]!;
      assert.deepEqual(row.slice(0, 6), [
        String(c.number),
        c.name,
        c.city ?? '',
        c.forecasted_renewal_amount === undefined ? '' : String(c.forecasted_renewal_amount),
        c.grandfathered === undefined ? '' : String(c.grandfathered),
        '1',
      ]);
      assert.deepEqual(JSON.parse(row[6]!), c.sys_last_security_context);
    });
    assert.ok(
      res.body.includes(`"O'Neil, ""Jr""`) || !expected.some((c) => c.name.includes('"')),
      'quotes are doubled inside a quoted cell',
    );
  });

  test('defaults: every record, default output fields, id order', async () => {
    const def = (await call('GET', '/queryDefinitions/acme/certifications')).json();
    const { describe: d, res } = await runQuery('certifications', 'csv', undefined);
    assert.equal(d.row_count, 60);
    assert.equal(d.name, 'Certifications query');
    const rows: string[][] = parse(res.body);
    assert.deepEqual(rows[0], def.default_output_fields);
    assert.deepEqual(
      rows.slice(1).map((r) => r[0]),
      certs.map((c) => c.id),
    );
  });

  test('id order, descending, with offset and limit', async () => {
    const { describe: d, res } = await runQuery('certifications', 'json', {
      output_fields: ['id', 'number'],
      sort_fields: ['-id'],
      offset: 5,
      limit: 7,
    });
    const expected = [...certs].reverse().slice(5, 12);
    assert.equal(d.row_count, 7);
    assert.deepEqual(
      res.json().Items,
      expected.map((c) => ({ id: c.id, number: c.number })),
    );
  });

  test('an empty result is well-formed in both formats', async () => {
    const criteria = { all: [{ field: 'number', operator: 'less_than', value: 0 }] };
    const json = await runQuery('certifications', 'json', { criteria });
    assert.deepEqual(json.res.json(), { Items: [], Count: 0 });
    assert.equal(json.describe.row_count, 0);
    const csv = await runQuery('certifications', 'csv', { criteria, output_fields: ['id', 'name'] });
    assert.equal(csv.res.body, 'id,name\n');
    assert.equal(csv.describe.size_bytes, 8);
  });

  test('the result is not ready before the run is done (409), then it is', async () => {
    const executions = t.app.services.executions;
    await executions.stop(); // no worker: the run stays RUNNING
    try {
      const started = (await call('POST', '/queries/acme/run/certifications/json', { output_fields: ['id'] }, 202)).json();
      const d = (await call('GET', started.describe_url)).json();
      assert.deepEqual([d.status, d.row_count, d.size_bytes, d.completed_at], ['RUNNING', null, null, null]);
      const res = await call('GET', started.result_url, undefined, 409);
      assert.match(res.json().message, /still running/);
      executions.startWorker();
      assert.equal((await finished(started.id)).status, 'SUCCEEDED');
      assert.equal((await call('GET', started.result_url)).json().Count, 60);
    } finally {
      executions.startWorker();
    }
  });
});

describe('refusals', () => {
  const run = (body: unknown, path = 'certifications/json') =>
    t.call({ method: 'POST', url: `/queries/acme/run/${path}`, payload: body as any, auth: t.admin });
  test('400 naming the field, and nothing starts', async () => {
    const before = await queryCount();
    const CASES: [unknown, string][] = [
      [{ criteria: { all: [{ field: 'nope', operator: 'equals', value: 1 }] } }, 'criteria.all.0.field'],
      [
        {
          criteria: {
            all: [
              { field: 'name', operator: 'is_empty' },
              {
                any: [
                  { field: 'status', operator: 'equals', value: 'active' },
                  { field: 'name', operator: 'sounds_like', value: 'x' },
                ],
              },
            ],
          },
        },
        'criteria.all.1.any.1.operator',
      ],
      [
        {
          criteria: {
            all: [
              { field: 'name', operator: 'is_empty' },
              { field: 'number', operator: 'equals', value: 'ten' },
            ],
          },
        },
        'criteria.all.1.value',
      ],
      [{ criteria: { all: [{ field: 'status', operator: 'equals', value: 'bogus' }] } }, 'criteria.all.0.value'],
      [{ criteria: { all: [{ field: "name') or 1=1 --", operator: 'equals', value: 'x' }] } }, 'criteria.all.0.field'],
      [{ output_fields: ['id', 'nope'] }, 'output_fields.1'],
      [{ sort_fields: ['-nope'] }, 'sort_fields.0'],
      [{ limit: 0 }, 'limit'],
      [{ limit: 1_000_001 }, 'limit'],
      [{ offset: -1 }, 'offset'],
      [{ name: '' }, 'name'],
      [{ where: '1=1' }, 'where'],
    ];
    for (const [body, field] of CASES) {
      const res = await run(body);
      assert.equal(res.statusCode, 400, `${JSON.stringify(body)}: ${res.body}`);
      assert.equal(res.json().errors[0].field, field, JSON.stringify(body));
    }
    assert.equal((await run({}, 'certifications/xml')).statusCode, 400);
    assert.equal((await run({}, 'nope/json')).statusCode, 404);
    assert.equal(await queryCount(), before, 'no run started');
  });

  test("another tenant's query is a 404; another tenant's path is a 403; scopes", async () => {
    const started = (await call('POST', '/queries/acme/run/certifications/json', { output_fields: ['id'] }, 202)).json();
    await finished(started.id);
    const both = await t.token({ tenants: ['acme', 'other'], scope: 'certifications:write' });
    await call('GET', `/queries/other/describe/${started.id}`, undefined, 404, both);
    await call('GET', `/queries/other/result/${started.id}`, undefined, 404, both);
    const otherOnly = await t.token({ tenants: ['other'], scope: 'certifications:admin' });
    await call('GET', `/queries/acme/describe/${started.id}`, undefined, 403, otherOnly);
    // the other tenant's own query sees none of acme's records
    const theirs = await runQuery('certifications', 'json', {}, 'other', otherOnly);
    assert.deepEqual(theirs.res.json(), { Items: [], Count: 0 });
    const reader = await t.token({ tenants: ['acme'], scope: 'certifications:read' });
    await call('POST', '/queries/acme/run/certifications/json', {}, 403, reader);
    await call('GET', `/queries/acme/describe/${started.id}`, undefined, 200, reader);
    await call('GET', `/queries/acme/result/${started.id}`, undefined, 200, reader);
    await call('GET', `/queries/acme/describe/00000000-0000-4000-8000-000000000000`, undefined, 404);
  });
});

describe('a large result streams', () => {
  const N = 5000;
  test(`${N} rows arrive in chunks over a socket, in order, as described`, async () => {
    const tok = await t.token({ tenants: ['bulk'], scope: 'certifications:write' });
    for (let b = 0; b < N / 100; b++) {
      const operations = Array.from({ length: 100 }, (_, i) => ({
        operation: 'create',
        object: { name: `course type ${b * 100 + i}`, description: 'd'.repeat(40), is_active: i % 2 === 0 },
      }));
      const res = await call('POST', '/courseTypes/bulk/batch', { operations }, 200, tok);
      assert.equal(res.json().success_count, 100);
    }
    const started = (
      await call('POST', '/queries/bulk/run/courseTypes/csv', { output_fields: ['id', 'name', 'description', 'is_active'] }, 202, tok)
    ).json();
    const d = await finished(started.id, 'bulk', tok);
    assert.equal(d.status, 'SUCCEEDED', JSON.stringify(d));
    assert.equal(d.row_count, N);

    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}${d.result_url}`, { headers: { authorization: `Bearer ${tok}` } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), null, 'no length known up front: streamed');
    assert.equal(res.headers.get('transfer-encoding'), 'chunked');
    const reader = res.body!.getReader();
    const chunks: Uint8Array[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
    assert.ok(chunks.length > 1, `arrived in ${chunks.length} chunk(s)`);
    const text = Buffer.concat(chunks).toString('utf8');
    assert.equal(Buffer.byteLength(text), d.size_bytes);
    const rows: string[][] = parse(text);
    assert.equal(rows.length, N + 1);
    const ids = rows.slice(1).map((r) => r[0]!);
    assert.deepEqual(ids, [...ids].sort(), 'in id order');
    assert.deepEqual(
      rows.slice(1).map((r) => r[1]),
      Array.from({ length: N }, (_, i) => `course type ${i}`),
    );

    // sorted on another field (on SQLite: the sorted ids first, then the records by id, in batches)
    const sorted = await runQuery(
      'courseTypes',
      'json',
      { output_fields: ['name', 'is_active'], sort_fields: ['is_active', '-name'], offset: 10, limit: 4000 },
      'bulk',
      tok,
    );
    assert.equal(sorted.describe.row_count, 4000);
    const names = Array.from({ length: N }, (_, i) => ({ name: `course type ${i}`, is_active: i % 2 === 0 }));
    const order = (a: S, b: S) => (a.is_active !== b.is_active ? (a.is_active ? 1 : -1) : a.name < b.name ? 1 : a.name > b.name ? -1 : 0);
    assert.deepEqual(sorted.res.json().Items, names.sort(order).slice(10, 4010));
  });
});
