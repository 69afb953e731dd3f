import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';
import { RESOURCES } from '../../src/resources/index.js';

/**
 * The contract, generated from the registry: for every resource, create a minimal valid record
 * (references satisfied by creating their targets), read it back, list it, find it by search and by
 * each lookup, patch it, batch-update it, and delete it.
 */
let t: TestApp;
let f: Factory;
/** Admin includes write: settings only accepts admin tokens. */
const call = (o: Parameters<TestApp['call']>[0]) => t.call({ auth: t.admin, ...o });
before(async () => {
  t = await startApp();
  f = new Factory(t, t.admin);
});
after(() => t.close());

type S = Record<string, any>;
const valueAt = (rec: S, path: string) => path.split('.').reduce<any>((v, k) => (v == null ? undefined : v[k]), rec);

describe('every resource serves the standard operations', () => {
  for (const r of RESOURCES) {
    const { slug } = r.def;
    test(slug, async () => {
      const base = `/${slug}/acme`;
      const props = r.inputSchema.properties as S;
      const fields = new Set<string>([
        ...Object.values(r.def.search).flatMap((s) => ('field' in s ? [s.field] : [])),
        ...(r.def.lookups ?? []).map((l) => l.field),
      ]);
      /** Gives every searched and looked-up field a value, so that each filter can be exercised. */
      const fill = async (filled: S) => {
        let changed = false;
        for (const path of fields) {
          if (valueAt(filled, path) !== undefined || !(path.split('.')[0]! in props)) continue;
          changed = true;
          const [top, ...rest] = path.split('.');
          if (!rest.length) {
            filled[top!] = await f.value(props[top!]);
            continue;
          }
          filled[top!] ??= await f.value(props[top!]);
          let s: S = props[top!];
          let o: S = filled[top!];
          for (const k of rest.slice(0, -1)) {
            s = s.properties[k];
            o = o[k] ??= {};
          }
          const leaf = rest[rest.length - 1]!;
          o[leaf] = await f.value(s.properties[leaf]);
        }
        return changed;
      };
      const body = await f.body(r);
      // a ledger's record cannot be changed after it is made: its fields are filled before
      if (r.def.appendOnly) await fill(body);
      const created = await call({ method: 'POST', url: base, payload: body });
      assert.equal(created.statusCode, 201, created.body);
      let rec = created.json();
      const id: string = rec.id;
      assert.equal(rec.sys_version, 1);
      for (const [k, v] of Object.entries(body)) assert.deepEqual(rec[k], v, `${k} saved as sent`);

      // get
      const got = await call({ method: 'GET', url: `${base}/${encodeURIComponent(id)}` });
      assert.equal(got.statusCode, 200, got.body);
      assert.deepEqual(got.json(), rec);

      // list (or, for a singleton, the root read)
      const root = await call({ method: 'GET', url: `${base}?limit=1000` });
      assert.equal(root.statusCode, 200, root.body);
      if (r.def.singleton) assert.equal(root.json().id, id);
      else
        assert.ok(
          root.json().Items.some((x: S) => x.id === id),
          'listed',
        );

      const { id: _id, ...stored } = rec;
      const filled: S = structuredClone(Object.fromEntries(Object.entries(stored).filter(([k]) => !k.startsWith('sys_'))));
      if (await fill(filled)) {
        const put = await call({ method: 'PUT', url: `${base}/${encodeURIComponent(id)}`, payload: await f.complete(r, filled) });
        assert.equal(put.statusCode, 200, `filling search fields: ${put.body}`);
        rec = put.json();
      }

      // search: by ids, then by each search key with the record's own value
      const byIds = await call({ method: 'POST', url: `${base}/search`, payload: { ids: [id] } });
      assert.equal(byIds.statusCode, 200, byIds.body);
      assert.deepEqual(
        byIds.json().Items.map((x: S) => x.id),
        [id],
      );
      for (const [key, spec] of Object.entries(r.def.search)) {
        if (spec.kind === 'ids') continue;
        const v = valueAt(rec, spec.field);
        if (v === undefined) continue;
        const filter = spec.kind === 'contains' ? String(v).slice(1, 4) : spec.kind === 'range' ? [v, v] : [v];
        const res = await call({ method: 'POST', url: `${base}/search?limit=1000`, payload: { [key]: filter } });
        assert.equal(res.statusCode, 200, `search ${key}: ${res.body}`);
        assert.ok(
          res.json().Items.some((x: S) => x.id === id),
          `found by search ${key}=${JSON.stringify(filter)}`,
        );
      }

      // lookups
      for (const l of r.def.lookups ?? []) {
        const v = valueAt(rec, l.field);
        const res = await call({ method: 'GET', url: `${base}/${l.segment}/${encodeURIComponent(String(v))}?limit=1000` });
        assert.equal(res.statusCode, 200, `lookup ${l.segment}: ${res.body}`);
        assert.ok(
          res.json().Items.some((x: S) => x.id === id),
          `found by lookup ${l.segment}`,
        );
      }

      // patch: lock and unlock (every resource has sys_locked), checking the version moves
      const v0 = rec.sys_version;
      const locked = await call({
        method: 'PATCH',
        url: `${base}/${encodeURIComponent(id)}`,
        payload: [{ op: 'replace', path: '/sys_locked', value: true }],
      });
      assert.equal(locked.statusCode, 200, locked.body);
      assert.equal(locked.json().sys_version, v0 + 1);
      const unlocked = await call({
        method: 'PATCH',
        url: `${base}/${encodeURIComponent(id)}`,
        payload: [{ op: 'replace', path: '/sys_locked', value: false }],
      });
      assert.equal(unlocked.json().sys_version, v0 + 2);

      // batch update (whole record, as read)
      const { id: _i, ...fieldsAndSys } = unlocked.json();
      const batch = await call({
        method: 'POST',
        url: `${base}/batch`,
        payload: { operations: [{ operation: 'update', id, object: { ...fieldsAndSys, sys_version: v0 + 2 } }] },
      });
      assert.equal(batch.statusCode, 200, batch.body);
      assert.equal(batch.json().success_count, 1, batch.body);

      // delete (a ledger's record stays: 409)
      if (r.def.appendOnly) {
        const refused = await call({ method: 'DELETE', url: `${base}/${encodeURIComponent(id)}` });
        assert.equal(refused.statusCode, 409, refused.body);
        assert.equal((await call({ method: 'GET', url: `${base}/${encodeURIComponent(id)}` })).statusCode, 200);
        return;
      }
      const del = await call({ method: 'DELETE', url: `${base}/${encodeURIComponent(id)}` });
      assert.equal(del.statusCode, 200, del.body);
      assert.equal(del.json(), id);
      assert.equal((await call({ method: 'GET', url: `${base}/${encodeURIComponent(id)}` })).statusCode, 404);
    });
  }
});

test('/openapi.json lists every operation of all 51 catalog resources (and our invoices, orders and payments) with request and response schemas', async () => {
  const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
  assert.equal(RESOURCES.filter((r) => !r.def.coverage.startsWith('designed (not in the catalog)')).length, 51);
  assert.equal(RESOURCES.length, 54);
  for (const r of RESOURCES) {
    const p = (suffix: string) => doc.paths[`/${r.def.slug}/{tenantId}${suffix}`];
    const ops: [any, string, boolean][] = [
      [p(''), 'post', true],
      [p(''), 'get', false],
      [p('/search'), 'post', true],
      [p('/batch'), 'post', true],
      [p('/{id}'), 'get', false],
      [p('/{id}'), 'put', true],
      [p('/{id}'), 'patch', true],
      [p('/{id}'), 'delete', false],
      ...(r.def.lookups ?? []).map((l) => [p(`/${l.segment}/{value}`), 'get', false] as [any, string, boolean]),
    ];
    for (const [path, method, hasBody] of ops) {
      assert.ok(path?.[method], `${r.def.slug}: ${method}`);
      assert.ok(path[method].responses['200'] ?? path[method].responses['201'], `${r.def.slug} ${method}: response schema`);
      if (hasBody) assert.ok(path[method].requestBody, `${r.def.slug} ${method}: request schema`);
    }
    assert.ok(doc.components.schemas[r.def.typeName], `${r.def.typeName} component`);
  }
});

test("/openapi.json describes a resource on its tag (the definition's description), every tag once, in the operations' order", async () => {
  const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
  const tags = doc.tags as { name: string; description?: string }[];
  const named: string[] = [];
  for (const ops of Object.values(doc.paths) as Record<string, { tags?: string[] }>[])
    for (const op of Object.values(ops)) for (const n of op.tags ?? []) if (!named.includes(n)) named.push(n);
  assert.deepEqual(
    tags.map((x) => x.name),
    named,
  );
  const described = RESOURCES.filter((r) => r.def.description?.length);
  assert.ok(described.length >= 40, `resources with a description: ${described.length}`);
  for (const r of RESOURCES) {
    const tag = tags.find((x) => x.name === r.def.name);
    assert.equal(tag?.description, r.def.description?.join('\n\n'), r.def.slug);
  }
});
