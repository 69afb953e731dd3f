import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { check, errorBody, type Fx, fx, SLUGS, rejected, type Req, send, show, useFuzzApp } from './harness.js';
import { anyJson } from './generators.js';
import type { S } from './schema.js';

/** Bad input never hurts (see harness.ts): Bad query parameters: paging keys, limits, projections. */
useFuzzApp();

const VALID_ID = /^[\w|:-]{1,128}$/;
/** A key that names a well-formed record id: the server cannot tell it from one it issued. */
const looksIssued = (k: string) => {
  if (!/^[A-Za-z0-9_-]+$/.test(k) || k.length > 512) return false;
  try {
    const v = JSON.parse(Buffer.from(k, 'base64url').toString('utf8'));
    return v !== null && typeof v === 'object' && typeof v.id === 'string' && VALID_ID.test(v.id);
  } catch {
    return false;
  }
};
const b64url = (v: unknown) => Buffer.from(JSON.stringify(v) ?? 'null').toString('base64url');
const badKey: fc.Arbitrary<string> = fc
  .oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }),
    fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/),
    anyJson.map(b64url),
    fc
      .constantFrom<unknown>(
        { id: '' },
        { id: '../x' },
        { id: 'a b' },
        { id: 'x'.repeat(129) },
        { id: 1 },
        { id: null },
        { Id: 'x' },
        [],
        'x',
      )
      .map(b64url),
    fc
      .string({ minLength: 1, maxLength: 20 })
      .map((id) => Buffer.from(JSON.stringify({ id })).toString('base64'))
      .filter((k) => /[+/=]/.test(k)),
    fc.integer({ min: 513, max: 2000 }).map((n) => 'A'.repeat(n)),
  )
  .filter((k) => k !== '' && !looksIssued(k));
const badLimit: fc.Arbitrary<string> = fc
  .oneof(
    fc.constantFrom(
      '0',
      '-1',
      '1.5',
      'abc',
      '1001',
      '1e3',
      ' 1',
      '1 ',
      '+1',
      '0x10',
      '９',
      '1000000',
      '99999999',
      'null',
      'true',
      '[1]',
      '1,2',
    ),
    fc.integer({ min: 1001, max: 999_999 }).map(String),
    fc.integer({ min: -1000, max: 0 }).map(String),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 }),
  )
  .filter((v) => !(/^[0-9]{1,6}$/.test(v) && Number(v) >= 1 && Number(v) <= 1000));
/** A projection with at least one part naming nothing the resource has. */
function badFields(f: Fx): fc.Arbitrary<string> {
  const known = [...f.r.projectable];
  const okPart = fc.constantFrom(...known);
  const bad = fc.oneof(
    fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 20 })
      .filter((p) => !p.includes(',') && p.trim() !== '' && !known.includes(p.trim().split('.')[0]!)),
    fc.constantFrom('__proto__', 'constructor', 'toString', 'tenant_id', 'data', 'ID'),
    okPart.chain((k) => fc.constantFrom(`${k}.__proto__`, `${k}..x`, `.${k}`, `${k}.`)),
  );
  return fc.oneof(
    fc
      .record({ before: fc.array(okPart, { maxLength: 2 }), bad, after: fc.array(okPart, { maxLength: 2 }) })
      .map(({ before: b, bad: x, after: a }) => [...b, x, ...a].join(',')),
    fc.integer({ min: 201, max: 1000 }).map((n) => Array(n).fill('id').join(',')),
    fc.integer({ min: 4001, max: 20_000 }).map((n) => `id,${'x'.repeat(n)}`),
  );
}

test('bad paging keys, limits, projections and flags in query strings are a 400 naming the parameter', async () => {
  const arb = fc.constantFrom(...SLUGS).chain((slug) => {
    const f = fx(slug);
    return fc.record({
      slug: fc.constant(slug),
      route: fc.constantFrom(...f.routes.filter((r) => ['list', 'search', 'lookup', 'get'].includes(r.kind))),
      param: fc.constantFrom('exclusiveStartKey', 'limit', 'fields', 'consistentRead', 'repeat'),
      key: badKey,
      limit: badLimit,
      fields: badFields(f),
      flag: fc.string({ maxLength: 8 }).filter((v) => v !== 'true' && v !== 'false'),
    });
  });
  await check(
    5,
    300,
    arb,
    async ({ slug, route, param, key, limit, fields, flag }) => {
      const f = fx(slug);
      const paged = route.kind !== 'get';
      const singletonRoot = route.kind === 'get' && route.url === f.base;
      const fieldsName = route.kind === 'search' ? 'fieldsToReturn' : 'fields';
      let query: string;
      let field: string;
      if (param === 'exclusiveStartKey' && paged) [query, field] = [`exclusiveStartKey=${encodeURIComponent(key)}`, 'exclusiveStartKey'];
      else if (param === 'limit' && paged) [query, field] = [`limit=${encodeURIComponent(limit)}`, 'limit'];
      else if (param === 'consistentRead' && route.kind === 'get' && !singletonRoot)
        [query, field] = [`consistentRead=${encodeURIComponent(flag)}`, 'consistentRead'];
      else if (param === 'repeat') {
        const name = paged ? 'limit' : fieldsName;
        [query, field] = [`${name}=1&${name}=2`, name];
      } else [query, field] = [`${fieldsName}=${encodeURIComponent(fields)}`, fieldsName];
      const req: Req = { method: route.method, url: `${route.url}?${query}`, ...(route.kind === 'search' ? { body: '{}' } : {}) };
      await rejected(req, { status: 400, field });
    },
    false,
  );
});

test('projections with any dotted path into known fields answer 200 or a 400, never a 5xx', async () => {
  const arb = fc.constantFrom(...SLUGS).chain((slug) => {
    const f = fx(slug);
    const props = f.r.inputSchema.properties as S;
    const part = fc.constantFrom(...f.r.projectable).chain((k) => {
      const children = Object.keys(props[k]?.properties ?? props[k]?.items?.properties ?? {});
      return fc.oneof(
        fc.constant(k),
        fc.constantFrom('0', 'length', 'constructor', 'toString', 'x', '0.x', '-1', ...children).map((c) => `${k}.${c}`),
      );
    });
    return fc.record({
      slug: fc.constant(slug),
      route: fc.constantFrom(...f.routes.filter((r) => ['list', 'search', 'lookup', 'get'].includes(r.kind))),
      parts: fc.array(part, { minLength: 1, maxLength: 4 }),
    });
  });
  await check(
    6,
    250,
    arb,
    async ({ slug, route, parts }) => {
      const f = fx(slug);
      const name = route.kind === 'search' ? 'fieldsToReturn' : 'fields';
      const req: Req = {
        method: route.method,
        url: `${route.url}?${name}=${encodeURIComponent(parts.join(','))}`,
        ...(route.kind === 'search' ? { body: '{}' } : {}),
      };
      const res = await send(req);
      if (res.statusCode !== 200) {
        const b = errorBody(req, res);
        assert.equal(res.statusCode, 400, show(req, res));
        assert.equal(b.errors?.[0]?.field, name, show(req, res));
        return;
      }
      let b: S;
      try {
        b = JSON.parse(res.body);
      } catch {
        assert.fail(`not JSON:\n${show(req, res)}`);
      }
      const tops = new Set(['id', ...parts.map((p) => p.split('.')[0]!)]);
      const items: S[] = route.kind === 'get' ? [b] : b.Items;
      assert.ok(
        Array.isArray(items) && items.every((i) => Object.keys(i).every((k) => tops.has(k))),
        `projection leaked other fields:\n${show(req, res)}`,
      );
      if (route.kind === 'get') assert.equal(b.id, f.r.def.singleton && route.url === f.base ? 'acme' : f.id, show(req, res));
    },
    false,
  );
});
