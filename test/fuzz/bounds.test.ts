import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { check, fx, refusedVia, rejected, type Req, SLUGS, unchanged, useFuzzApp, WRITE_VIAS, type WriteVia } from './harness.js';
import { outOfBounds } from './generators.js';
import { json, ptr, type S, shape } from './schema.js';

/** Bad input never hurts (see harness.ts): Bounds and ordered pairs, found in the definitions. */
useFuzzApp();

/** A path into a body: property names, `*` for an array's items (the first item is used). */
type Path = string[];
type BoundCase = { kind: 'bound'; slug: string; path: Path; value: number; when?: S };
type PairCase = { kind: 'pair'; slug: string; at: Path; first: string; second: string; type: 'date' | 'date-time' | 'number'; a: S; b: S };

const ORDER_KEY = 'x-ordered';
const orderType = (x: S): PairCase['type'] => (x.type === 'string' ? x.format : 'number');

/** Every numeric bound, conditional bound (if/then) and ordered pair of a resource's input schema. */
function boundsOf(slug: string, root: S): (BoundCase | PairCase)[] {
  const out: (BoundCase | PairCase)[] = [];
  const walk = (s: S, path: Path) => {
    if (!s || s.readOnly) return;
    if (s.anyOf) for (const b of s.anyOf as S[]) walk(b, path);
    if (s.type === 'number' || s.type === 'integer') for (const value of outOfBounds(s)) out.push({ kind: 'bound', slug, path, value });
    if (s.type === 'array' && s.items) walk(s.items, [...path, '*']);
    if (s.type !== 'object' || !s.properties) return;
    for (const [k, p] of Object.entries(s.properties as S)) walk(p, [...path, k]);
    for (const rule of (s.allOf ?? []) as S[]) {
      const when = Object.fromEntries(Object.entries((rule.if?.properties ?? {}) as S).map(([k, v]) => [k, (v as S).const]));
      for (const [k, p] of Object.entries((rule.then?.properties ?? {}) as S)) {
        for (const value of outOfBounds(p as S)) {
          // only values the property itself accepts: the rule alone refuses them
          if (
            !outOfBounds(s.properties[k]).includes(value) &&
            (s.properties[k].maximum === undefined || value <= s.properties[k].maximum) &&
            value >= (s.properties[k].minimum ?? -Infinity)
          ) {
            out.push({ kind: 'bound', slug, path: [...path, k], value, when });
          }
        }
      }
    }
    for (const [first, second] of (s[ORDER_KEY] ?? []) as [string, string][]) {
      out.push({
        kind: 'pair',
        slug,
        at: path,
        first,
        second,
        type: orderType(s.properties[first]),
        a: s.properties[first],
        b: s.properties[second],
      });
    }
  };
  walk(root, []);
  return out;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
/** The concrete path (`*` = item 0) for field names and JSON pointers. */
const concrete = (path: Path) => path.map((k) => (k === '*' ? '0' : k));
const valueAt = (body: unknown, path: Path): unknown => concrete(path).reduce<any>((o, k) => (o == null ? undefined : o[k]), body);

/** A copy of `body` with `set` applied to the object at `path`, creating what is missing from the schema (required parts only). */
function withObjectAt(body: S, root: S, path: Path, set: (o: S) => void): S {
  const out = clone(body);
  let cur: any = out;
  let s = root;
  for (const k of path) {
    if (k === '*') {
      s = s.items;
      if (!Array.isArray(cur) || cur.length === 0) throw new Error('unreachable: arrays are created by their parent');
      if (cur[0] === null || typeof cur[0] !== 'object') cur[0] = shape(s);
      cur = cur[0];
      continue;
    }
    s = s.properties[k];
    if (s.type === 'array') {
      if (!Array.isArray(cur[k]) || cur[k].length === 0) cur[k] = [shape(s.items)];
    } else if (cur[k] === null || typeof cur[k] !== 'object') cur[k] = shape(s);
    cur = cur[k];
  }
  set(cur);
  return out;
}

const DAY = 86_400_000;
/** Values of an ordered pair's fields where the second comes before the first (each valid alone), after `stored` when given. */
function inverted(c: PairCase, stored?: unknown): { first: unknown; second: unknown } {
  switch (c.type) {
    case 'date': {
      const second = typeof stored === 'string' ? stored : '2025-03-01';
      return { first: new Date(Date.parse(second) + DAY).toISOString().slice(0, 10), second };
    }
    case 'date-time': {
      const second = typeof stored === 'string' ? stored : '2025-03-01T12:00:00Z';
      // one hour later, written in a zone two hours behind UTC: as text it sorts before the second
      const later = new Date(Date.parse(second) + 3_600_000 - 2 * 3_600_000);
      return { first: `${later.toISOString().slice(0, 19)}-02:00`, second };
    }
    case 'number': {
      const lo = Math.max(c.a.minimum ?? 0, c.b.minimum ?? 0, (c.a.exclusiveMinimum ?? -1) + 1, (c.b.exclusiveMinimum ?? -1) + 1);
      const second = typeof stored === 'number' ? stored : lo;
      const first = second + 1;
      if (c.a.maximum !== undefined && first > c.a.maximum) throw new Error(`no room to invert ${c.first} / ${c.second}`);
      return { first, second };
    }
  }
}

test('every numeric bound of every definition is enforced: a value out of it is a 400 naming the field (422 for PATCH); nothing changes', async () => {
  const cases = SLUGS.flatMap((slug) => boundsOf(slug, fx(slug).r.inputSchema as S).filter((c): c is BoundCase => c.kind === 'bound'));
  assert.ok(cases.length > 100, `bounded fields found: ${cases.length}`);
  assert.ok(
    cases.some((c) => c.when && c.value === 100.001),
    'the conditional percentage bound of coupons is found',
  );
  await check(14, 300, fc.record({ c: fc.constantFrom(...cases), via: fc.constantFrom(...WRITE_VIAS) }), async ({ c, via }) => {
    const f = fx(c.slug);
    const root = f.r.inputSchema as S;
    const last = c.path.at(-1)!;
    const body = withObjectAt(f.body, root, c.path.slice(0, -1), (o) => {
      Object.assign(o, c.when ?? {});
      o[last === '*' ? 0 : last] = c.value;
    });
    await refusedVia(f, via, body, concrete(c.path).join('.'), [c.path[0]!]);
  });
});

test('every ordered pair of every definition is enforced: the second before the first is a 400 naming it (422 for PATCH, against the stored first too); nothing changes', async () => {
  const cases = SLUGS.flatMap((slug) => boundsOf(slug, fx(slug).r.inputSchema as S).filter((c): c is PairCase => c.kind === 'pair'));
  assert.ok(cases.length >= 20, `ordered pairs found: ${cases.length}`);
  // each fixture holds both fields of most pairs: a patch of one field alone is then judged against the stored other
  const stored = cases.filter((c) => valueAt(fx(c.slug).body, [...c.at, c.second]) !== undefined);
  assert.ok(stored.length >= cases.length / 2, `pairs stored in the fixtures: ${stored.length} of ${cases.length}`);
  const arb = fc.oneof(
    fc.record({ c: fc.constantFrom(...cases), via: fc.constantFrom<WriteVia | 'patch-first'>(...WRITE_VIAS) }),
    fc.record({ c: fc.constantFrom(...stored), via: fc.constant<WriteVia | 'patch-first'>('patch-first') }),
  );
  await check(15, 300, arb, async ({ c, via }) => {
    const f = fx(c.slug);
    const root = f.r.inputSchema as S;
    const field = concrete([...c.at, c.second]).join('.');
    if (via === 'patch-first') {
      // only the first field changes; the second stays as stored
      const v = inverted(c, valueAt(f.body, [...c.at, c.second]));
      const first = [...concrete(c.at), c.first];
      const op = { op: valueAt(f.body, [...c.at, c.first]) === undefined ? 'add' : 'replace', path: ptr(first), value: v.first };
      const req: Req = { method: 'PATCH', url: f.url, body: json([op]) };
      await rejected(req, { status: 422, field });
      await unchanged(f, req);
      return;
    }
    const v = inverted(c);
    const body = withObjectAt(f.body, root, c.at, (o) => {
      o[c.first] = v.first;
      o[c.second] = v.second;
    });
    await refusedVia(f, via, body, field, c.at.length ? [c.at[0]!] : [c.first, c.second]);
  });
});
