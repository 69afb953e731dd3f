import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, type TestApp } from '../helpers.js';
import { RESOURCES } from '../../src/resources/index.js';

/**
 * Lists whose first records are provided by the server (query definitions from the registry, the
 * computed statistics) page like every other list: `limit` is honoured, a page that is not the last
 * carries a LastEvaluatedKey, the key leads on from the built-ins into the stored records, and a bad
 * limit or key is a 400 naming the parameter.
 */
let t: TestApp;
let otherToken: string;
type S = Record<string, any>;

async function get(url: string, auth?: string, status = 200): Promise<S> {
  const res = await t.call({ method: 'GET', url, auth: auth ?? t.admin });
  assert.equal(res.statusCode, status, `GET ${url}: ${res.body}`);
  return res.json();
}

/** Every page of a list at `limit`, checking each page's size, Count and key on the way. */
async function pages(url: string, limit: number, auth?: string): Promise<S[][]> {
  const out: S[][] = [];
  let key: string | undefined;
  do {
    const page = await get(
      `${url}${url.includes('?') ? '&' : '?'}limit=${limit}${key ? `&exclusiveStartKey=${encodeURIComponent(key)}` : ''}`,
      auth,
    );
    assert.ok(page.Items.length <= limit, `a page of ${page.Items.length} at limit ${limit}`);
    assert.equal(page.Count, page.Items.length);
    if (page.LastEvaluatedKey) assert.equal(page.Items.length, limit, 'only a full page has a key');
    out.push(page.Items);
    key = page.LastEvaluatedKey;
    assert.ok(out.length < 100, 'paging does not end');
  } while (key);
  return out;
}
const ids = (ps: S[][]) => ps.flat().map((r) => r.id);

const SLUGS = RESOURCES.map((r) => r.def.slug);
const stored: string[] = [];

before(async () => {
  t = await startApp();
  otherToken = await t.token({ tenants: ['other'] });
  for (const name of ['mine a', 'mine b', 'mine c']) {
    const res = await t.call({ method: 'POST', url: '/queryDefinitions/acme', payload: { name, primary_table: 'certifications' } });
    assert.equal(res.statusCode, 201, res.body);
    stored.push(res.json().id);
  }
  stored.sort();
});
after(() => t.close());

describe('GET /queryDefinitions/{tenantId}', () => {
  test('limit=5 answers 5 and a key; the pages hold every built-in then every stored definition once', async () => {
    const first = await get('/queryDefinitions/acme?limit=5');
    assert.deepEqual(
      first.Items.map((d: S) => d.id),
      SLUGS.slice(0, 5),
    );
    assert.equal(first.Count, 5);
    assert.ok(first.LastEvaluatedKey);
    for (const limit of [1, 5, 7, SLUGS.length, SLUGS.length + 1, SLUGS.length + 3, 1000]) {
      assert.deepEqual(ids(await pages('/queryDefinitions/acme', limit)), [...SLUGS, ...stored], `limit ${limit}`);
    }
  });

  test('a page that ends with the last built-in has a key only when stored definitions follow', async () => {
    const full = await get(`/queryDefinitions/acme?limit=${SLUGS.length}`);
    assert.ok(full.LastEvaluatedKey, 'stored definitions follow');
    const next = await get(`/queryDefinitions/acme?limit=${SLUGS.length}&exclusiveStartKey=${full.LastEvaluatedKey}`);
    assert.deepEqual(
      next.Items.map((d: S) => d.id),
      stored,
    );
    assert.equal(next.LastEvaluatedKey, undefined);
    // another tenant has built-ins only (and never sees acme's stored ones)
    const other = await get(`/queryDefinitions/other?limit=${SLUGS.length}`, otherToken);
    assert.equal(other.LastEvaluatedKey, undefined);
    assert.deepEqual(ids(await pages('/queryDefinitions/other', 4, otherToken)), SLUGS);
  });

  test('projections apply on every page', async () => {
    for (const page of await pages('/queryDefinitions/acme?fields=name', 10)) {
      for (const d of page) assert.deepEqual(Object.keys(d).sort(), ['id', 'name']);
    }
  });
});

describe('GET /statistics/{tenantId}', () => {
  test('limit=1 answers one computed record and a key, and the pages lead on to the stored ones', async () => {
    const first = await get('/statistics/acme?limit=1');
    assert.deepEqual(
      first.Items.map((s: S) => s.id),
      ['programs'],
    );
    assert.ok(first.LastEvaluatedKey);
    const second = await get(`/statistics/acme?limit=1&exclusiveStartKey=${first.LastEvaluatedKey}`);
    assert.deepEqual(
      second.Items.map((s: S) => s.id),
      ['billing'],
    );
    assert.equal(second.LastEvaluatedKey, undefined, 'no stored statistic yet');
    assert.deepEqual(ids(await pages('/statistics/acme', 1)), ['programs', 'billing']);

    const mine = await t.call({ method: 'POST', url: '/statistics/acme', payload: { name: 'Q1 snapshot', new_certifications: 3 } });
    assert.equal(mine.statusCode, 201, mine.body);
    for (const limit of [1, 2, 3, 100]) {
      assert.deepEqual(ids(await pages('/statistics/acme', limit)), ['programs', 'billing', mine.json().id], `limit ${limit}`);
    }
    assert.deepEqual(ids(await pages('/statistics/other', 1, otherToken)), ['programs', 'billing']);
  });
});

describe('bad limits and keys are 400s naming the parameter', () => {
  for (const base of ['/queryDefinitions/acme', '/statistics/acme']) {
    test(base, async () => {
      for (const limit of ['0', '1001', 'abc', '-1', '2.5']) {
        const body = await get(`${base}?limit=${limit}`, undefined, 400);
        assert.match(JSON.stringify(body), /limit/, `limit=${limit}: ${JSON.stringify(body)}`);
      }
      const foreign = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
      for (const key of ['not a key', 'zzzz', foreign({ id: 'no-such-built-in', b: 1 }), foreign({ id: 'programs', b: 2 })]) {
        const body = await get(`${base}?exclusiveStartKey=${encodeURIComponent(key)}`, undefined, 400);
        assert.match(JSON.stringify(body), /exclusiveStartKey/, `key ${key}: ${JSON.stringify(body)}`);
      }
    });
  }
});
