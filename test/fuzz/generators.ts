import fc from 'fast-check';
import { isClosedObject, ptr, Raw, shape, json, type S } from './schema.js';
import { topKeys, type Fx } from './harness.js';

/**
 * The fast-check generators of wrong input. Generated values are small descriptions (a length, a
 * depth, a literal, where in a value one thing is wrong); bodies are built as text from them, so
 * counterexamples stay readable and shrinking a 1 MB string costs nothing.
 */

/** A value, described: a literal, a string of n characters, an array of n numbers, a d-deep object or array. */
export type V = { lit: unknown } | { str: number } | { arr: number } | { deep: number; obj: boolean };
export function raw(v: V): Raw {
  if ('lit' in v) return new Raw(JSON.stringify(v.lit));
  if ('str' in v) return new Raw(`"${'x'.repeat(v.str)}"`);
  if ('arr' in v) return new Raw(`[${Array.from({ length: v.arr }, (_, i) => i % 10).join(',')}]`);
  return new Raw(v.obj ? `${'{"a":'.repeat(v.deep)}1${'}'.repeat(v.deep)}` : `${'['.repeat(v.deep)}1${']'.repeat(v.deep)}`);
}
export const lit = (x: unknown): V => ({ lit: x });
export const hugeString = fc
  .oneof(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1000, max: 1_000_000 }))
  .map((n): V => ({ str: n }));
export const hugeArray = fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1000, max: 100_000 })).map((n): V => ({ arr: n }));
export const deepValue = (obj: boolean) => fc.integer({ min: 1000, max: 10_000 }).map((d): V => ({ deep: d, obj }));
/** Any JSON value, without keys that the JSON parser refuses (those have their own property). */
export const anyJson = fc.jsonValue({ maxDepth: 2 }).filter((v) => !/"(__proto__|prototype|constructor)"/.test(JSON.stringify(v) ?? ''));
export const anyValue: fc.Arbitrary<V> = fc.oneof(anyJson.map(lit), hugeString, hugeArray);

export const BAD_DATES = [
  '2025-02-30',
  '2025-13-01',
  '2025-00-10',
  '2025-01-32',
  '2023-02-29',
  '2025-04-31',
  '25-01-01',
  '2025-1-1',
  '20250101',
  '2025/01/01',
  ' 2025-01-01',
  '2025-01-01T00:00:00Z',
  'today',
  '',
];
export const BAD_DATE_TIMES = [
  '2025-01-01T10:00:00',
  '2025-02-30T10:00:00Z',
  '2025-13-01T10:00:00Z',
  '2025-01-01T24:00:00Z',
  '2025-01-01T10:60:00Z',
  '2025-01-01T10:00:00+25:00',
  '2025-01-01',
  '2025-01-01T10:00Z',
  'now',
  '',
];
export const BAD_EMAILS = ['not-an-email', 'a@', '@example.org', 'a b@example.org', ''];

function allowedTypes(s: S): Set<string> {
  if (s.anyOf) return new Set((s.anyOf as S[]).flatMap((b) => [...allowedTypes(b)]));
  return new Set(Array.isArray(s.type) ? s.type : [s.type]);
}

/** Values of the wrong JSON type for a schema, and for strings, numbers and arrays the wrong contents. */
export function wrongValue(s: S): fc.Arbitrary<V> {
  const types = allowedTypes(s);
  const opts: fc.Arbitrary<V>[] = [];
  if (!types.has('string')) opts.push(fc.constantFrom<V>(lit('x'), lit(''), lit('2025-01-01')), hugeString);
  if (!types.has('number') && !types.has('integer')) opts.push(fc.constantFrom<V>(lit(0), lit(-1.5), lit(1e300)));
  else if (!types.has('number')) opts.push(fc.constantFrom<V>(lit(1.5), lit(-0.25), lit(1e-7)));
  if (!types.has('boolean')) opts.push(fc.constantFrom<V>(lit(true), lit(false)));
  if (!types.has('null')) opts.push(fc.constant<V>(lit(null)));
  if (!types.has('array')) opts.push(fc.constantFrom<V>(lit([]), lit(['x', 1])), hugeArray, deepValue(false));
  if (!types.has('object')) opts.push(fc.constantFrom<V>(lit({}), lit({ a: 1 })), deepValue(true));
  if (s.type === 'string') {
    if (s.enum) {
      const e = s.enum as string[];
      opts.push(
        fc
          .oneof(
            fc.constantFrom(...e.map((x) => x.toUpperCase()), ...e.map((x) => ` ${x}`), 'zz-not-a-value', ''),
            fc.string({ maxLength: 12 }),
          )
          .filter((x) => !e.includes(x))
          .map(lit),
      );
    }
    if (s.format === 'date') opts.push(fc.constantFrom(...BAD_DATES).map(lit));
    if (s.format === 'date-time') opts.push(fc.constantFrom(...BAD_DATE_TIMES).map(lit));
    if (s.format === 'email') opts.push(fc.constantFrom(...BAD_EMAILS).map(lit));
    if (s.pattern) {
      const re = new RegExp(s.pattern, 'u');
      opts.push(
        fc
          .oneof(fc.constantFrom('', ' ', 'zz', '-'), fc.string({ maxLength: 8 }))
          .filter((x) => !re.test(x))
          .map(lit),
      );
    }
  }
  if (s.type === 'number' || s.type === 'integer') {
    const out = outOfBounds(s);
    if (out.length) opts.push(fc.constantFrom(...out).map(lit));
  }
  if (s.type === 'array' && s.minItems) opts.push(fc.constant(lit([])));
  return fc.oneof(...opts);
}

/** Numbers a bounded numeric schema refuses: below its minimum, above its maximum, at an exclusive minimum, not whole. */
export function outOfBounds(s: S): number[] {
  const out: number[] = [];
  if (typeof s.minimum === 'number') out.push(s.minimum - 1, s.minimum - 1000, s.minimum - 0.001);
  if (typeof s.exclusiveMinimum === 'number') out.push(s.exclusiveMinimum, s.exclusiveMinimum - 1);
  if (typeof s.maximum === 'number') out.push(s.maximum + 1, s.maximum + 1000, s.maximum + 0.001);
  if (s.multipleOf === 1) out.push((s.minimum ?? s.exclusiveMinimum ?? 0) + 1.5);
  // an integer schema refuses fractions by its type already; keep the values of the right type only
  return s.type === 'integer' ? out.filter((n) => Number.isInteger(n)) : out;
}

/** Where one thing is wrong inside a value of a schema. */
export type Mut =
  | { at: 'value'; v: V }
  | { at: 'item'; n: number; k: number; inner: Mut }
  | { at: 'unknown'; key: string; v: V }
  | { at: 'missing'; key: string }
  | { at: 'child'; key: string; inner: Mut };

/** Builds the value (valid everywhere else) and the path of the one wrong place. */
export function applyMut(s: S, m: Mut): { value: unknown; path: string[] } {
  switch (m.at) {
    case 'value':
      return { value: raw(m.v), path: [] };
    case 'item': {
      const inner = applyMut(s.items, m.inner);
      const good = json(shape(s.items));
      const n = Math.max(1, Math.min(m.n, Math.floor(4_000_000 / (good.length + 1)))); // stay far below BODY_LIMIT
      const k = m.k % n;
      const items = [...Array<string>(k).fill(good), json(inner.value), ...Array<string>(n - k - 1).fill(good)];
      return { value: new Raw(`[${items.join(',')}]`), path: [String(k), ...inner.path] };
    }
    case 'unknown': {
      const o = shape(s) as S;
      o[m.key] = raw(m.v);
      return { value: o, path: [m.key] };
    }
    case 'missing': {
      const o = shape(s) as S;
      delete o[m.key];
      return { value: o, path: [m.key] };
    }
    case 'child': {
      const o = shape(s) as S;
      const inner = applyMut(s.properties[m.key], m.inner);
      o[m.key] = inner.value;
      return { value: o, path: [m.key, ...inner.path] };
    }
  }
}

const SPECIAL_KEYS = [
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'isPrototypeOf',
  '__defineGetter__',
  'prototype',
  'tenant_id',
  '$ref',
  'a.b',
  '0',
  'ID',
  '🙂',
  'nul\u0000key',
  'x'.repeat(1000),
];
/** Field names an object schema does not have. */
export function unknownKey(s: S, top: boolean): fc.Arbitrary<string> {
  const props = Object.keys(s.properties ?? {});
  const near = props.flatMap((p) => [p.toUpperCase(), `${p} `, ` ${p}`, `${p}_x`]);
  return fc
    .oneof(fc.constantFrom(...SPECIAL_KEYS, ...near), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 }))
    .filter((k) => k !== '__proto__' && !props.includes(k) && (!top || (k !== 'id' && !k.startsWith('sys_'))));
}

const sizes = fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1000, max: 50_000 }));
const mutCache = new WeakMap<object, fc.Arbitrary<Mut>>();
/** One wrong place anywhere in a value of the schema: its type, its contents, an item, a child, a key. */
export function mutArb(s: S): fc.Arbitrary<Mut> {
  const cached = mutCache.get(s);
  if (cached) return cached;
  const opts: fc.Arbitrary<Mut>[] = [wrongValue(s).map((v): Mut => ({ at: 'value', v }))];
  if (s.type === 'array' && s.items) {
    const inner = mutArb(s.items);
    opts.push(fc.record({ n: sizes, k: fc.nat(), inner }).map(({ n, k, inner: i }): Mut => ({ at: 'item', n, k, inner: i })));
  }
  if (isClosedObject(s)) {
    opts.push(fc.record({ key: unknownKey(s, false), v: anyValue }).map(({ key, v }): Mut => ({ at: 'unknown', key, v })));
    if (s.required?.length) opts.push(fc.constantFrom<string>(...s.required).map((key): Mut => ({ at: 'missing', key })));
    const keys = Object.keys(s.properties ?? {});
    if (keys.length) {
      const children = keys.map((key) => mutArb(s.properties[key]).map((inner): Mut => ({ at: 'child', key, inner })));
      opts.push(fc.oneof(...children));
    }
  }
  const arb = fc.oneof(...opts);
  mutCache.set(s, arb);
  return arb;
}

/** Like mutArb, but the wrong place is always an unknown key of a closed object (nested anywhere). */
export function unknownMutArb(s: S): fc.Arbitrary<Mut> | undefined {
  const opts: fc.Arbitrary<Mut>[] = [];
  if (isClosedObject(s)) {
    opts.push(fc.record({ key: unknownKey(s, false), v: anyValue }).map(({ key, v }): Mut => ({ at: 'unknown', key, v })));
    for (const [key, p] of Object.entries((s.properties ?? {}) as S)) {
      const inner = unknownMutArb(p);
      if (inner) opts.push(inner.map((i): Mut => ({ at: 'child', key, inner: i })));
    }
  }
  if (s.type === 'array' && s.items) {
    const inner = unknownMutArb(s.items);
    if (inner)
      opts.push(
        fc
          .record({ n: fc.integer({ min: 1, max: 3 }), k: fc.nat(), inner })
          .map(({ n, k, inner: i }): Mut => ({ at: 'item', n, k, inner: i })),
      );
  }
  return opts.length ? fc.oneof(...opts) : undefined;
}

// ---------------------------------------------------------------------------------------------------
// Bad JSON Patch operations

const OP_NAMES = ['add', 'remove', 'replace', 'move', 'copy', 'test'];
const INHERITED = ['toString', 'constructor', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf'];
const SERVER_PATHS = ['/id', '/sys_version', '/sys_created_at', '/sys_last_modified_by_id', '/sys_bulk_load_id', ''];

/** One operation that must make any patch document fail, whatever the other operations do. */
export function badOp(f: Fx): fc.Arbitrary<S> {
  const props = f.r.inputSchema.properties as S;
  const present = topKeys(f).filter((k) => f.body[k] !== undefined);
  const scalarPresent = present.filter((k) => ['string', 'number', 'integer', 'boolean'].includes(props[k].type));
  const absent = topKeys(f).filter((k) => f.body[k] === undefined);
  const arrays = present.filter((k) => Array.isArray(f.body[k]));
  const objects = present.filter((k) => isClosedObject(props[k]));
  const field = fc.constantFrom(...(present.length ? present : ['zz']));
  const fieldPtr = field.map((k) => ptr([k]));
  const anyOp = fc.constantFrom(...OP_NAMES);
  const val = fc.oneof(anyJson, fc.constant('x'));
  const opts: fc.Arbitrary<S>[] = [
    // the operation itself is malformed
    fc.record({
      op: fc.constantFrom<unknown>('', 'ADD', 'Add', 'delete', 'get', '_get', 'merge', 1, null, true, ['add']),
      path: fieldPtr,
      value: val,
    }),
    fc.record({
      op: anyOp,
      path: fc.constantFrom<unknown>(1, null, ['a'], {}, 'name', 'a/b', '#/name', ' /name', `/${'a'.repeat(1100)}`),
      value: val,
      from: fc.constant('/id'),
    }),
    fc.record({ op: anyOp, value: val, from: fc.constant('/id') }),
    fc.record({ op: fc.constantFrom('add', 'replace', 'test'), path: fieldPtr }),
    fc.record({ op: fc.constantFrom('move', 'copy'), path: fieldPtr }),
    fc.record({
      op: fc.constantFrom('move', 'copy'),
      path: fieldPtr,
      from: fc.constantFrom<unknown>(1, null, 'name', `/${'a'.repeat(1100)}`),
    }),
    fc.record({ op: anyOp, path: fieldPtr, value: val, from: fc.constant('/id'), extra: fc.constantFrom<unknown>(1, 'x', null) }),
    // prototype paths
    fc.record({
      op: anyOp,
      path: fc.constantFrom(
        '/__proto__',
        '/__proto__/x',
        '/constructor/prototype',
        '/constructor/prototype/x',
        ...arrays.map((a) => `/${a}/0/__proto__`),
      ),
      value: val,
      from: fc.constant('/id'),
    }),
    fc.record({
      op: fc.constantFrom('move', 'copy'),
      from: fc.constantFrom('/__proto__', '/__proto__/x', '/constructor/prototype'),
      path: fieldPtr,
    }),
    // escapes and paths that do not exist
    fc.record({
      op: fc.constantFrom('add', 'replace', 'remove'),
      path: fc.constantFrom('/a/~2', '/~', '/zz~', '/zz/~2/x', '/zz_nope/x'),
      value: val,
    }),
    fc.record({
      op: fc.constantFrom('replace', 'remove'),
      path: fc.constantFrom('/zz_nope', ...absent.map((k) => ptr([k])), ...scalarPresent.map((k) => `${ptr([k])}/zz`)),
      value: val,
    }),
    fc.record({ op: fc.constantFrom('move', 'copy'), from: fc.constantFrom('/zz_nope', ...absent.map((k) => ptr([k]))), path: fieldPtr }),
    // inherited properties are not fields either
    fc.record({
      op: fc.constant('remove'),
      path: fc.constantFrom(...INHERITED.map((k) => `/${k}`), ...objects.flatMap((o) => INHERITED.map((k) => `${ptr([o])}/${k}`))),
    }),
    fc.record({
      op: fc.constantFrom('move', 'copy'),
      from: fc.constantFrom(...INHERITED.map((k) => `/${k}`)),
      path: fc.constant('/zz_target'),
    }),
    // server-managed paths
    fc.record({
      op: fc.constantFrom('add', 'replace', 'remove', 'move', 'copy'),
      path: fc.constantFrom(...SERVER_PATHS),
      value: val,
      from: fieldPtr,
    }),
    fc.record({
      op: fc.constant('move'),
      from: fc.constantFrom('/id', '/sys_version', '/sys_created_at', ''),
      path: fc.constant('/zz_target'),
    }),
    fc.record({
      op: fc.constantFrom('add', 'replace'),
      path: fc.constant('/sys_locked'),
      value: fc.constantFrom<unknown>('yes', 1, null, {}, []),
    }),
    // values the schema refuses
    fieldPtr.chain((p) => {
      const s = props[p.slice(1).replace(/~1/g, '/').replace(/~0/g, '~')] ?? { type: 'string' };
      return fc.record({ op: fc.constantFrom('add', 'replace'), path: fc.constant(p), value: wrongValue(s).map(raw) });
    }),
    fc.record({ op: fc.constant('add'), path: unknownKey(f.r.inputSchema, true).map((k) => ptr([k])), value: val }),
    // a failing test
    fc.record({
      op: fc.constant('test'),
      path: fc.constantFrom('/id', '/sys_version'),
      value: fc.constantFrom<unknown>('not-this', 999, null),
    }),
  ];
  if (arrays.length) {
    const a = fc.constantFrom(...arrays);
    opts.push(
      fc
        .record({
          op: fc.constantFrom('replace', 'remove', 'test'),
          a,
          i: fc.constantFrom('-', '01', '1e0', '-1', ' 0', '0x0', '1.0', '', '99999'),
        })
        .map(({ op, a: k, i }) => ({ op, path: `${ptr([k])}/${i}`, value: {} })),
      fc
        .record({
          op: fc.constant('add'),
          a,
          i: fc.constantFrom('01', '-1', '99999', '2147483648', '4294967296', '4294967297', '9007199254740993', '1e3'),
        })
        .map(({ op, a: k, i }) => ({ op, path: `${ptr([k])}/${i}`, value: f.body[k][0] ?? {} })),
    );
  }
  return fc.oneof(...opts);
}
