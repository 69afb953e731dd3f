import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';
import { RESOURCES } from '../../src/resources/index.js';

/**
 * Tenant isolation, proven over the registered route table (not a hand-written list): with a token
 * for tenant A, every route and method on tenant B's path is a 403, and on A's own path no answer
 * reveals, changes or counts a record of B.
 */
let t: TestApp;
let tokA: string;
let tokB: string;
const bRecords = new Map<string, Record<string, any>>(); // slug -> one record of B
before(async () => {
  t = await startApp();
  tokA = await t.token({ tenants: ['tenant-a'], scope: 'certifications:admin' });
  tokB = await t.token({ tenants: ['tenant-b'], scope: 'certifications:admin' });
  const fb = new Factory(t, tokB, 'tenant-b');
  const fa = new Factory(t, tokA, 'tenant-a');
  for (const r of RESOURCES) {
    bRecords.set(r.def.slug, await fb.create(r.def.slug));
    await fa.create(r.def.slug);
  }
});
after(() => t.close());

const snapshotB = async () => {
  const out: Record<string, string> = {};
  for (const [slug, rec] of bRecords) {
    const res = await t.call({ method: 'GET', url: `/${slug}/tenant-b/${encodeURIComponent(rec.id)}`, auth: tokB });
    out[slug] = res.body;
  }
  return out;
};

function fill(url: string, tenant: string, _slug: string, id: string): string {
  return url
    .replace(':tenantId', tenant)
    .replace(':id', encodeURIComponent(id))
    .replace(':value', encodeURIComponent(id))
    .replace(/:(\w+)/g, 'x');
}
const slugOf = (url: string) => url.split('/')[1]!;
const bodyFor = (method: string, url: string) =>
  method === 'PATCH'
    ? [{ op: 'replace', path: '/sys_locked', value: true }]
    : url.endsWith('/batch')
      ? { operations: [{ operation: 'delete', id: 'x' }] }
      : method === 'POST' || method === 'PUT'
        ? {}
        : undefined;

test('the route table covers every resource', () => {
  const tenantRoutes = t.app.routeTable.filter((r) => r.url.includes(':tenantId'));
  assert.ok(tenantRoutes.length >= RESOURCES.length * 8, `${tenantRoutes.length} routes`);
  for (const r of RESOURCES)
    assert.ok(
      tenantRoutes.some((x) => slugOf(x.url) === r.def.slug),
      r.def.slug,
    );
});

/**
 * The public registry (/public/…) and the catalog's public routes (…/public/… under a resource, e.g.
 * /courseOfferings/{t}/public/event/{id}) answer without a token by design: test/public covers them.
 * Payment providers' webhooks (/webhooks/{t}/…) take no token either: a signature authenticates them,
 * and test/money/orders.test.ts shows that another tenant's endpoint cannot pay this tenant's order.
 * The registry's HTML pages (/registry/{t}/…) are public too: test/public/registry-pages.test.ts. So are
 * what verifiers of credentials read (/credentials/{t}/…, /issuers/{t}/did.json):
 * test/credentials/credentials.test.ts shows that a tenant's path serves none of another's credentials
 * and that the verification refuses another tenant's.
 */
const isPublic = (url: string) =>
  url.includes('/public/') || ['/webhooks/', '/registry/', '/credentials/', '/issuers/'].some((p) => url.startsWith(p));

test("every route and method on another tenant's path is a 403", async () => {
  const before = await snapshotB();
  for (const r of t.app.routeTable.filter((x) => x.url.includes(':tenantId') && x.method !== 'HEAD' && !isPublic(x.url))) {
    const slug = slugOf(r.url);
    const id = bRecords.get(slug)?.id ?? 'x';
    const res = await t.call({
      method: r.method as any,
      url: fill(r.url, 'tenant-b', slug, id),
      auth: tokA,
      payload: bodyFor(r.method, r.url) as any,
    });
    assert.equal(res.statusCode, 403, `${r.method} ${r.url}: ${res.statusCode} ${res.body.slice(0, 200)}`);
  }
  assert.deepEqual(await snapshotB(), before, 'nothing of B changed');
});

test("on its own path, tenant A never reads, changes or counts B's records", async () => {
  const before = await snapshotB();
  const bIds = new Set([...bRecords.values()].map((r) => r.id));
  for (const r of t.app.routeTable.filter((x) => x.url.includes(':tenantId') && x.method !== 'HEAD')) {
    const slug = slugOf(r.url);
    const id = bRecords.get(slug)?.id ?? 'x';
    const res = await t.call({
      method: r.method as any,
      url: fill(r.url, 'tenant-a', slug, id),
      auth: tokA,
      payload: bodyFor(r.method, r.url) as any,
    });
    assert.ok(res.statusCode < 500, `${r.method} ${r.url}: ${res.statusCode}`);
    // (the registry's pages answer HTML, the certificate a PDF: JSON answers are the ones that list records)
    if ((res.statusCode === 200 || res.statusCode === 201) && String(res.headers['content-type']).startsWith('application/json')) {
      const json = res.json();
      const items = Array.isArray(json?.Items)
        ? json.Items
        : json?.results
          ? json.results.map((x: any) => x.object).filter(Boolean)
          : [json];
      for (const item of items)
        assert.ok(!bIds.has(item?.id) || slug === 'settings', `${r.method} ${r.url} revealed a record of B: ${item?.id}`);
    }
  }
  // Listing and searching every resource as A shows only A's records.
  for (const r of RESOURCES) {
    if (r.def.singleton) continue;
    const list = (await t.call({ method: 'GET', url: `/${r.def.slug}/tenant-a?limit=1000`, auth: tokA })).json();
    assert.ok(
      list.Items.every((x: any) => !bIds.has(x.id)),
      r.def.slug,
    );
    const search = (
      await t.call({
        method: 'POST',
        url: `/${r.def.slug}/tenant-a/search?limit=1000`,
        payload: { ids: [...bIds].filter((x) => x !== 'tenant-b') },
        auth: tokA,
      })
    ).json();
    assert.equal(search.Items.length, 0, `${r.def.slug}: search by B's ids finds nothing`);
  }
  assert.deepEqual(await snapshotB(), before, 'nothing of B changed');
});
