import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startApp, type TestApp } from '../helpers.js';
import { Factory, sampleScalar } from '../factory.js';
import { RESOURCES } from '../../src/resources/index.js';
import type { Resource } from '../../src/resources/kit/define.js';

/**
 * Bad input never hurts: property-based tests (fast-check) over every route of every resource, the
 * routes derived from RESOURCES. Whatever a client sends that is wrong — malformed JSON, a wrong
 * content type, a wrong value anywhere in a body, unknown fields, bad JSON Patch documents, bad
 * paging keys, limits and projections, bad ids, bad search bodies, bad batch envelopes, huge strings
 * and arrays, deeply nested values — the answer is a 4xx with a JSON error body (a message, and for a
 * 400 about the body the field at fault), and nothing stored changes: every resource has a record
 * created before the properties run, read back after each rejected write and compared byte for byte.
 *
 * Generated values are small descriptions (a length, a depth, a literal); bodies are built as text
 * from them, so counterexamples stay readable and 1 MB strings or 10,000-deep values cost nothing to
 * shrink. Runs are deterministic (fixed seed); FUZZ_SCALE=10 runs ten times as many cases.
 */
type S = Record<string, any>;
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
type Res = Awaited<ReturnType<TestApp['call']>>;

const SEED = 20251126;
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
/** After the first failure, at most this many further runs (shrinking) make requests. */
const SHRINK_BUDGET = 150;

let t: TestApp;
before(async () => {
  t = await startApp();
  await setUpFixtures();
});
after(() => t?.close());

// ---------------------------------------------------------------------------------------------------
// Requests and the assertions every answer must satisfy

interface Req {
  method: Method;
  url: string;
  body?: string | Buffer;
  /** Content-Type of the body (default application/json). */
  type?: string;
  headers?: Record<string, string>;
}

const clip = (s: string, n = 300) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);
const show = (req: Req, res?: Res) =>
  `${req.method} ${clip(req.url, 200)}${req.body !== undefined ? ` [${req.type ?? 'application/json'}] ${clip(String(req.body))}` : ''}` +
  (res ? `\n  -> ${res.statusCode} ${clip(res.body, 500)}` : '');

/** Fixtures whose resource received a write in the current run. */
const touched = new Set<string>();
function send(req: Req): Promise<Res> {
  if (req.method !== 'GET') {
    const slug = req.url.split('/')[1] ?? '';
    if (FX.has(slug)) touched.add(slug);
  }
  const headers: Record<string, string> = { ...req.headers };
  if (req.body !== undefined) headers['content-type'] = req.type ?? 'application/json';
  return t.call({ method: req.method, url: req.url, payload: req.body, headers, auth: t.admin });
}

/** The documented error body: JSON with statusCode, error, code, a non-empty message and a requestId. */
function errorBody(req: Req, res: Res): S {
  const where = show(req, res);
  assert.ok(res.statusCode >= 400 && res.statusCode < 500, `expected a 4xx:\n${where}`);
  assert.match(String(res.headers['content-type']), /^application\/json/, `error is not JSON:\n${where}`);
  let b: S;
  try {
    b = JSON.parse(res.body);
  } catch {
    assert.fail(`error body does not parse:\n${where}`);
  }
  assert.equal(b.statusCode, res.statusCode, `statusCode in the body:\n${where}`);
  assert.ok(typeof b.message === 'string' && b.message.trim() !== '', `no message:\n${where}`);
  assert.ok(typeof b.error === 'string' && b.error !== '' && typeof b.code === 'string' && b.code !== '', `no error/code:\n${where}`);
  assert.ok(typeof b.requestId === 'string' && b.requestId !== '', `no requestId:\n${where}`);
  if (b.errors !== undefined) assertFieldErrors(b.errors, where);
  return b;
}

function assertFieldErrors(errors: unknown, where: string) {
  assert.ok(Array.isArray(errors) && errors.length > 0, `errors must be a non-empty array:\n${where}`);
  for (const e of errors as S[]) {
    assert.ok(typeof e.field === 'string' && e.field !== '' && typeof e.reason === 'string' && e.reason !== '', `bad field error ${JSON.stringify(e)}:\n${where}`);
  }
}

interface Expect {
  /** Allowed statuses (default: any 4xx). */
  status?: number | number[];
  /** The field errors[0] must name (a 400/422 about the body). */
  field?: string;
}

async function rejected(req: Req, x: Expect = {}): Promise<S> {
  const res = await send(req);
  const b = errorBody(req, res);
  const where = show(req, res);
  // Body-level refusals (nesting too deep, NUL, unpaired surrogates) come from the parser, before any
  // route-specific check: a 400 naming where in the body, whatever status the route would give.
  if (res.statusCode === 400 && /NUL|surrogate|nested more than/.test(b.errors?.[0]?.reason ?? '')) {
    assertFieldErrors(b.errors, where);
    return b;
  }
  if (x.status !== undefined) {
    const ok = Array.isArray(x.status) ? x.status : [x.status];
    assert.ok(ok.includes(res.statusCode), `expected ${ok.join(' or ')}:\n${where}`);
  }
  // Every 400 here is about the body, a parameter or the path: it must name the field at fault.
  if (res.statusCode === 400) assertFieldErrors(b.errors, where);
  if (x.field !== undefined) {
    assertFieldErrors(b.errors, where);
    // A value nested too deeply is named by the path where it became too deep, inside the field.
    const f = b.errors[0].field as string;
    assert.ok(f === x.field || f.startsWith(`${x.field}.`), `errors[0].field ${f} should be ${x.field}:\n${where}`);
  }
  return b;
}

/** A batch whose every operation is invalid: 200, each operation reported failed on its own. */
async function batchAllFail(req: Req, expected: { status?: number[]; field?: string; prefix?: string }[]) {
  const res = await send(req);
  const where = show(req, res);
  // A body-level problem refuses the whole body, batch included: a NUL anywhere (PostgreSQL text
  // cannot hold it), an unpaired surrogate, or nesting deeper than the parser allows.
  if (res.statusCode === 400) {
    const errors = JSON.parse(res.body).errors;
    assertFieldErrors(errors, where);
    assert.match(errors[0].reason, /NUL|surrogate|nested more than/, `a whole batch is refused only for body-level problems:\n${where}`);
    return;
  }
  assert.equal(res.statusCode, 200, `batch answer:\n${where}`);
  const b = JSON.parse(res.body) as S;
  assert.equal(b.results?.length, expected.length, `one result per operation:\n${where}`);
  assert.equal(b.success_count, 0, `no operation may succeed:\n${where}`);
  assert.equal(b.error_count, expected.length, where);
  expected.forEach((x, i) => {
    const r = b.results[i];
    assert.equal(r.index, i, where);
    assert.equal(r.success, false, `operation ${i} must fail:\n${where}`);
    assert.ok(r.status >= 400 && r.status < 500, `operation ${i}: a 4xx:\n${where}`);
    if (x.status) assert.ok(x.status.includes(r.status), `operation ${i}: expected ${x.status.join(' or ')}:\n${where}`);
    assert.ok(typeof r.error?.message === 'string' && r.error.message !== '' && typeof r.error.code === 'string', `operation ${i}: error message:\n${where}`);
    if (r.status === 400 || r.status === 422 || x.field !== undefined || x.prefix !== undefined) assertFieldErrors(r.error.errors, where);
    if (x.field !== undefined) assert.equal(r.error.errors[0].field, x.field, `operation ${i}: errors[0].field:\n${where}`);
    if (x.prefix !== undefined && r.error.errors) {
      const f = r.error.errors[0].field as string;
      assert.ok(f === x.prefix || f.startsWith(`${x.prefix}.`), `operation ${i}: errors[0].field ${f} should be under ${x.prefix}:\n${where}`);
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// Fixtures: one record per resource, created before the properties run

interface Route {
  kind: 'list' | 'create' | 'search' | 'batch' | 'get' | 'put' | 'patch' | 'delete' | 'lookup' | 'action';
  method: Method;
  url: string;
  /** lookup: the field it filters on; action: its name */
  name?: string;
}

interface Fx {
  slug: string;
  r: Resource;
  id: string;
  /** /slug/acme */
  base: string;
  /** /slug/acme/<id> */
  url: string;
  /** The record as GET answered it before any property ran. */
  text: string;
  /** The record's client fields (no id, no sys_*). */
  body: S;
  version: number;
  routes: Route[];
}

const FX = new Map<string, Fx>();
const fx = (slug: string) => FX.get(slug)!;
const SLUGS = RESOURCES.map((r) => r.def.slug);
let inventoryAtStart = '';

const isInternalRef = (s: S) => typeof s['x-ref'] === 'string' && !s['x-ref'].startsWith('external:');
const isOpenObject = (s: S) => s.type === 'object' && s.additionalProperties !== false;
const isClosedObject = (s: S) => s.type === 'object' && s.additionalProperties === false;
const isPlainString = (s: S) => s.type === 'string' && !s.format && !s.enum && !s.pattern && !isInternalRef(s) && s.minLength === undefined && s.maxLength === undefined;

/** A schema-valid value with the required parts only (references are not resolved: shape only). */
function shape(s: S): unknown {
  if (s.const !== undefined) return s.const;
  if (s.anyOf) return shape(s.anyOf[0]);
  if (s.enum) return s.enum[0];
  switch (s.type) {
    case 'object': {
      const o: S = {};
      for (const k of s.required ?? []) o[k] = shape(s.properties[k]);
      return o;
    }
    case 'array':
      return Array.from({ length: s.minItems ?? 0 }, () => shape(s.items));
    case 'null':
      return null;
    default:
      return sampleScalar(s);
  }
}

/** A valid value with every property and one item per array; undefined where a reference is needed. */
function full(s: S): unknown {
  if (isInternalRef(s)) return undefined;
  if (s.const !== undefined) return s.const;
  if (s.anyOf) return full(s.anyOf[0]);
  if (s.enum) return s.enum[0];
  switch (s.type) {
    case 'object': {
      if (!s.properties || !Object.keys(s.properties).length) return isOpenObject(s) ? { note: 'free-form' } : {};
      const o: S = {};
      for (const [k, p] of Object.entries(s.properties as S)) {
        const v = full(p);
        if (v !== undefined) o[k] = v;
        else if ((s.required ?? []).includes(k)) return undefined;
      }
      return o;
    }
    case 'array': {
      const v = full(s.items);
      return v === undefined ? (s.minItems ? undefined : []) : [v];
    }
    case 'null':
      return null;
    default:
      return sampleScalar(s);
  }
}

function routesOf(r: Resource, base: string, url: string, body: S): Route[] {
  const out: Route[] = [];
  if (r.def.singleton) {
    out.push({ kind: 'get', method: 'GET', url: base }, { kind: 'put', method: 'PUT', url: base }, { kind: 'patch', method: 'PATCH', url: base });
  } else out.push({ kind: 'list', method: 'GET', url: base });
  out.push(
    { kind: 'create', method: 'POST', url: base },
    { kind: 'search', method: 'POST', url: `${base}/search` },
    { kind: 'batch', method: 'POST', url: `${base}/batch` },
    { kind: 'get', method: 'GET', url },
    { kind: 'put', method: 'PUT', url },
    { kind: 'patch', method: 'PATCH', url },
    { kind: 'delete', method: 'DELETE', url },
  );
  for (const l of r.def.lookups ?? []) {
    const v = l.field.split('.').reduce<any>((o, k) => (o == null ? undefined : o[k]), body);
    out.push({ kind: 'lookup', method: 'GET', url: `${base}/${l.segment}/${encodeURIComponent(String(v ?? 'none'))}`, name: l.field });
  }
  for (const a of r.def.actions ?? []) {
    const path = a.path.replace(/:(\w+)/g, (_m, p: string) => (p === 'id' ? url.split('/').pop()! : 'x'));
    out.push({ kind: 'action', method: a.method, url: `${base}/${path}`, name: a.name });
  }
  return out;
}

async function setUpFixtures() {
  const factory = new Factory(t, t.admin);
  for (const r of RESOURCES) {
    // A record with every optional field that needs no reference (arrays, nested objects, dates …).
    let body = await factory.body(r);
    for (const [k, s] of Object.entries(r.inputSchema.properties as S)) {
      if (body[k] !== undefined) continue;
      const v = full(s);
      if (v === undefined) continue;
      const candidate = { ...body, [k]: v };
      if (!r.validate(candidate).length) body = candidate;
    }
    const base = `/${r.def.slug}/acme`;
    const created = await send({ method: 'POST', url: base, body: JSON.stringify(body) });
    assert.equal(created.statusCode, 201, `fixture ${r.def.slug}: ${created.body}`);
    const id = created.json().id as string;
    const url = `${base}/${encodeURIComponent(id)}`;
    const got = await send({ method: 'GET', url });
    assert.equal(got.statusCode, 200, got.body);
    const rec = got.json() as S;
    const fields = Object.fromEntries(Object.entries(rec).filter(([k]) => k !== 'id' && !k.startsWith('sys_')));
    FX.set(r.def.slug, { slug: r.def.slug, r, id, base, url, text: got.body, body: fields, version: rec.sys_version, routes: routesOf(r, base, url, fields) });
  }
  inventoryAtStart = await inventory();
}

/** Every record id of every resource (references created by the factory included). */
async function inventory(): Promise<string> {
  const out: string[] = [];
  for (const r of RESOURCES) {
    const res = await send({ method: 'GET', url: r.def.singleton ? `/${r.def.slug}/acme?fields=id` : `/${r.def.slug}/acme?fields=id&limit=1000` });
    assert.equal(res.statusCode, 200, res.body);
    const b = res.json() as S;
    out.push(`${r.def.slug}: ${(r.def.singleton ? [b.id] : b.Items.map((i: S) => i.id)).join(',')}`);
  }
  return out.join('\n');
}

/** A stored record changed: reported as is, without shrinking (the next runs see the changed record). */
class StateChanged extends assert.AssertionError {}

async function unchanged(f: Fx, cause: Req) {
  const changed = await changedSince(f, cause);
  if (changed) throw new StateChanged({ message: changed });
}

/** Whether the record differs from its snapshot (then the snapshot is taken again: later runs compare with it). */
async function changedSince(f: Fx, cause: Req): Promise<string | undefined> {
  const res = await send({ method: 'GET', url: f.url });
  if (res.statusCode === 200 && res.body === f.text) return undefined;
  const message = `the ${f.slug} record changed after\n${show(cause)}\n  before: ${clip(f.text, 2000)}\n  after:  ${res.statusCode} ${clip(res.body, 2000)}`;
  if (res.statusCode === 200) snapshot(f, res.body);
  return message;
}

function snapshot(f: Fx, text: string) {
  const rec = JSON.parse(text) as S;
  f.text = text;
  f.version = rec.sys_version;
  f.body = Object.fromEntries(Object.entries(rec).filter(([k]) => k !== 'id' && !k.startsWith('sys_')));
}

/** Ends every test: no record appeared or vanished, and every fixture is as it was. */
async function nothingChanged() {
  const now = await inventory();
  const before = inventoryAtStart;
  inventoryAtStart = now;
  assert.equal(now, before, 'records were created or deleted by rejected requests');
  for (const f of FX.values()) await unchanged(f, { method: 'GET', url: '(end of test)' });
}

/** After a failed property: take the baselines again, so that the next test reports only its own findings. */
async function resync() {
  inventoryAtStart = await inventory();
  for (const f of FX.values()) await changedSince(f, { method: 'GET', url: '(resync)' });
}

/**
 * fc.assert with a fixed seed and a bounded shrinking phase. A run that fails for any reason is also
 * checked for a changed record (the more serious finding). Properties that write end with
 * nothingChanged() (`writes`).
 */
async function check<T>(seed: number, runs: number, arb: fc.Arbitrary<T>, predicate: (v: T) => Promise<void>, writes = true) {
  let failed = false;
  let afterFailure = 0;
  try {
    await fc.assert(
      fc.asyncProperty(arb, async (v) => {
        if (failed && ++afterFailure > SHRINK_BUDGET) return; // shrinking budget spent: keep the smallest failure so far
        touched.clear();
        try {
          await predicate(v);
        } catch (e) {
          failed = true;
          if (!(e instanceof StateChanged)) {
            for (const slug of [...touched]) {
              const changed = await changedSince(fx(slug), { method: 'GET', url: '(the request above)' });
              if (changed) e = new StateChanged({ message: `${(e as Error).message}\n${changed}` });
            }
          }
          // A changed record is reported as found: shrinking would run against a different record.
          if (e instanceof StateChanged) afterFailure = SHRINK_BUDGET;
          throw e;
        }
      }),
      { seed: SEED + seed, numRuns: Math.max(1, Math.round(runs * SCALE)) },
    );
  } catch (e) {
    await resync();
    throw e;
  }
  if (writes) await nothingChanged();
}

// ---------------------------------------------------------------------------------------------------
// Building bodies as text (1 MB strings and 10,000-deep values are never JSON.stringify'd)

class Raw {
  constructor(readonly text: string) {}
}
function json(value: unknown): string {
  const parts: string[] = [];
  const text = JSON.stringify(value, (_k, v) => {
    if (!(v instanceof Raw)) return v;
    parts.push(v.text);
    return `\u0001slot${parts.length - 1}\u0001`;
  });
  return parts.length ? text.replace(/"\\u0001slot(\d+)\\u0001"/g, (_m, i: string) => parts[Number(i)]!) : text;
}

/** A value, described: a literal, a string of n characters, an array of n numbers, a d-deep object or array. */
type V = { lit: unknown } | { str: number } | { arr: number } | { deep: number; obj: boolean };
function raw(v: V): Raw {
  if ('lit' in v) return new Raw(JSON.stringify(v.lit));
  if ('str' in v) return new Raw(`"${'x'.repeat(v.str)}"`);
  if ('arr' in v) return new Raw(`[${Array.from({ length: v.arr }, (_, i) => i % 10).join(',')}]`);
  return new Raw(v.obj ? `${'{"a":'.repeat(v.deep)}1${'}'.repeat(v.deep)}` : `${'['.repeat(v.deep)}1${']'.repeat(v.deep)}`);
}
const lit = (x: unknown): V => ({ lit: x });
const hugeString = fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1000, max: 1_000_000 })).map((n): V => ({ str: n }));
const hugeArray = fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1000, max: 100_000 })).map((n): V => ({ arr: n }));
const deepValue = (obj: boolean) => fc.integer({ min: 1000, max: 10_000 }).map((d): V => ({ deep: d, obj }));
/** Any JSON value, without keys that the JSON parser refuses (those have their own property). */
const anyJson = fc.jsonValue({ maxDepth: 2 }).filter((v) => !/"(__proto__|prototype|constructor)"/.test(JSON.stringify(v) ?? ''));
const anyValue: fc.Arbitrary<V> = fc.oneof(anyJson.map(lit), hugeString, hugeArray);

const BAD_DATES = ['2025-02-30', '2025-13-01', '2025-00-10', '2025-01-32', '2023-02-29', '2025-04-31', '25-01-01', '2025-1-1', '20250101', '2025/01/01', ' 2025-01-01', '2025-01-01T00:00:00Z', 'today', ''];
const BAD_DATE_TIMES = ['2025-01-01T10:00:00', '2025-02-30T10:00:00Z', '2025-13-01T10:00:00Z', '2025-01-01T24:00:00Z', '2025-01-01T10:60:00Z', '2025-01-01T10:00:00+25:00', '2025-01-01', '2025-01-01T10:00Z', 'now', ''];
const BAD_EMAILS = ['not-an-email', 'a@', '@example.org', 'a b@example.org', ''];

function allowedTypes(s: S): Set<string> {
  if (s.anyOf) return new Set((s.anyOf as S[]).flatMap((b) => [...allowedTypes(b)]));
  return new Set(Array.isArray(s.type) ? s.type : [s.type]);
}

/** Values of the wrong JSON type for a schema, and for strings, numbers and arrays the wrong contents. */
function wrongValue(s: S): fc.Arbitrary<V> {
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
      opts.push(fc.oneof(fc.constantFrom(...e.map((x) => x.toUpperCase()), ...e.map((x) => ` ${x}`), 'zz-not-a-value', ''), fc.string({ maxLength: 12 })).filter((x) => !e.includes(x)).map(lit));
    }
    if (s.format === 'date') opts.push(fc.constantFrom(...BAD_DATES).map(lit));
    if (s.format === 'date-time') opts.push(fc.constantFrom(...BAD_DATE_TIMES).map(lit));
    if (s.format === 'email') opts.push(fc.constantFrom(...BAD_EMAILS).map(lit));
    if (s.pattern) {
      const re = new RegExp(s.pattern, 'u');
      opts.push(fc.oneof(fc.constantFrom('', ' ', 'zz', '-'), fc.string({ maxLength: 8 })).filter((x) => !re.test(x)).map(lit));
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
function outOfBounds(s: S): number[] {
  const out: number[] = [];
  if (typeof s.minimum === 'number') out.push(s.minimum - 1, s.minimum - 1000, s.minimum - 0.001);
  if (typeof s.exclusiveMinimum === 'number') out.push(s.exclusiveMinimum, s.exclusiveMinimum - 1);
  if (typeof s.maximum === 'number') out.push(s.maximum + 1, s.maximum + 1000, s.maximum + 0.001);
  if (s.multipleOf === 1) out.push((s.minimum ?? s.exclusiveMinimum ?? 0) + 1.5);
  // an integer schema refuses fractions by its type already; keep the values of the right type only
  return s.type === 'integer' ? out.filter((n) => Number.isInteger(n)) : out;
}

/** Where one thing is wrong inside a value of a schema. */
type Mut =
  | { at: 'value'; v: V }
  | { at: 'item'; n: number; k: number; inner: Mut }
  | { at: 'unknown'; key: string; v: V }
  | { at: 'missing'; key: string }
  | { at: 'child'; key: string; inner: Mut };

/** Builds the value (valid everywhere else) and the path of the one wrong place. */
function applyMut(s: S, m: Mut): { value: unknown; path: string[] } {
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

const SPECIAL_KEYS = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__', 'prototype', 'tenant_id', '$ref', 'a.b', '0', 'ID', '🙂', 'nul\u0000key', 'x'.repeat(1000)];
/** Field names an object schema does not have. */
function unknownKey(s: S, top: boolean): fc.Arbitrary<string> {
  const props = Object.keys(s.properties ?? {});
  const near = props.flatMap((p) => [p.toUpperCase(), `${p} `, ` ${p}`, `${p}_x`]);
  return fc
    .oneof(fc.constantFrom(...SPECIAL_KEYS, ...near), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 }))
    .filter((k) => k !== '__proto__' && !props.includes(k) && (!top || (k !== 'id' && !k.startsWith('sys_'))));
}

const sizes = fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1000, max: 50_000 }));
const mutCache = new WeakMap<object, fc.Arbitrary<Mut>>();
/** One wrong place anywhere in a value of the schema: its type, its contents, an item, a child, a key. */
function mutArb(s: S): fc.Arbitrary<Mut> {
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
function unknownMutArb(s: S): fc.Arbitrary<Mut> | undefined {
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
    if (inner) opts.push(fc.record({ n: fc.integer({ min: 1, max: 3 }), k: fc.nat(), inner }).map(({ n, k, inner: i }): Mut => ({ at: 'item', n, k, inner: i })));
  }
  return opts.length ? fc.oneof(...opts) : undefined;
}

const ptr = (segs: string[]) => segs.map((s) => `/${s.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
const topKeys = (f: Fx) => Object.keys(f.r.inputSchema.properties as S);
const stringField = (f: Fx) => topKeys(f).find((k) => typeof f.body[k] === 'string' && isPlainString((f.r.inputSchema.properties as S)[k]));
/** A patch document that would change the record if it were applied alone. */
const changingOps = (f: Fx): S[] => {
  const k = stringField(f);
  return k ? [{ op: 'replace', path: ptr([k]), value: 'changed by fuzz' }] : [{ op: 'test', path: '/id', value: f.id }];
};
const singletonUrls = (f: Fx) => (f.r.def.singleton ? [f.url, f.base] : [f.url]);

// ---------------------------------------------------------------------------------------------------
// 1. Malformed bodies and wrong content types on every route that takes a body

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'application/json-patch+json'];
const OTHER_TYPES = ['text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx', 'text/json', 'application/octet-stream', '*/*'];
const BROKEN_TYPES = ['', ';', 'application/', '/json', 'application/json; charset', 'application/json; charset=utf-16le'];

function validText(f: Fx, r: Route): string {
  switch (r.kind) {
    case 'create':
    case 'put':
      return json(f.body);
    case 'patch':
      return json([{ op: 'test', path: '/id', value: f.id }]);
    case 'search':
      return json({ ids: [f.id] });
    case 'batch':
      return json({ operations: [{ operation: 'patch', id: f.id, patch_directives: [{ op: 'test', path: '/id', value: f.id }] }] });
    default:
      return json({ note: 'ignored' });
  }
}
const parses = (s: string) => {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
};

type Payload =
  | { k: 'truncate'; cut: number }
  | { k: 'garbage'; bytes: Uint8Array }
  | { k: 'text'; s: string }
  | { k: 'tail'; junk: string }
  | { k: 'proto'; which: number }
  | { k: 'wrongTop'; text: string }
  | { k: 'oversize' }
  | { k: 'valid' };

test('malformed bodies and wrong content types on every body route are a 4xx and change nothing', async () => {
  const arb = fc.record({
    slug: fc.constantFrom(...SLUGS),
    route: fc.nat(),
    ct: fc.oneof({ arbitrary: fc.constantFrom(...JSON_TYPES), weight: 3 }, fc.constantFrom(...OTHER_TYPES), fc.constantFrom(...BROKEN_TYPES)),
    payload: fc.oneof(
      { weight: 1, arbitrary: fc.constant<Payload>({ k: 'oversize' }) }, // 10 MB bodies are slow: rare
      {
        weight: 40,
        arbitrary: fc.oneof(
          fc.nat().map((cut): Payload => ({ k: 'truncate', cut })),
          fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes): Payload => ({ k: 'garbage', bytes })),
          fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).map((s): Payload => ({ k: 'text', s })),
          fc.constantFrom(',', '}', ']', 'x', ' {}', '\u0000', '//', '\n]').map((junk): Payload => ({ k: 'tail', junk })),
          fc.integer({ min: 0, max: 3 }).map((which): Payload => ({ k: 'proto', which })),
          fc.constantFrom('1', '"x"', 'true', '[]', '[1]', '{}', '"{}"').map((text): Payload => ({ k: 'wrongTop', text })),
          fc.constant<Payload>({ k: 'valid' }),
        ),
      },
    ),
  });
  await check(1, 200, arb, async ({ slug, route, ct, payload }) => {
    const f = fx(slug);
    const routes = f.routes.filter((r) => r.method !== 'GET');
    const r = routes[route % routes.length]!;
    const jsonType = JSON_TYPES.includes(ct);
    const valid = validText(f, r);
    let body: string | Buffer;
    switch (payload.k) {
      case 'truncate':
        body = valid.slice(0, 1 + (payload.cut % (valid.length - 1)));
        break;
      case 'garbage':
        body = Buffer.from(payload.bytes);
        break;
      case 'text':
        body = payload.s;
        break;
      case 'tail':
        body = valid + payload.junk;
        break;
      case 'proto': {
        const evil = ['"__proto__":{"sys_locked":true}', '"__proto__":null', '"constructor":{"prototype":{"x":1}}', '"a":{"__proto__":{"x":1}}'][payload.which]!;
        body = valid.startsWith('{') ? `{${evil},${valid.slice(1)}` : `[{${evil}},${valid.slice(1)}`;
        break;
      }
      case 'wrongTop':
        // a well-formed JSON body of the wrong shape: only where the route reads the body
        fc.pre(['create', 'put', 'patch', 'search', 'batch'].includes(r.kind));
        fc.pre(r.kind === 'patch' || r.kind === 'batch' || !payload.text.startsWith('{'));
        body = payload.text;
        break;
      case 'oversize':
        body = `{"name":"${'x'.repeat(10 * 1024 * 1024 + 10)}"}`;
        break;
      case 'valid':
        fc.pre(!jsonType && !BROKEN_TYPES.includes(ct)); // a valid body is only wrong in a non-JSON type
        body = valid;
        break;
    }
    if (['truncate', 'garbage', 'text', 'tail'].includes(payload.k)) fc.pre(!parses(String(body)));
    const req: Req = { method: r.method, url: r.url, body, type: ct };
    let x: Expect = { status: [400, 413, 415] };
    if (payload.k === 'oversize') x = { status: [413, 415] };
    else if (OTHER_TYPES.includes(ct)) x = { status: 415 };
    else if (jsonType && payload.k === 'wrongTop') x = { status: 400 };
    else if (jsonType) x = { status: 400, field: '(body)' };
    await rejected(req, x);
    await unchanged(f, req);
  });
});

// ---------------------------------------------------------------------------------------------------
// 2. A wrong value anywhere in a body, on every write route

test('a wrong value anywhere in an input body is a 400 naming the field (422 for PATCH); nothing changes', async () => {
  const arb = fc.constantFrom(...SLUGS).chain((slug) =>
    fc
      .record({
        slug: fc.constant(slug),
        top: fc.constantFrom(...topKeys(fx(slug))),
        via: fc.constantFrom('create', 'put', 'patch', 'batch-create', 'batch-update', 'batch-patch'),
        root: fc.boolean(),
      })
      .chain((c) => mutArb((fx(slug).r.inputSchema.properties as S)[c.top]).map((m) => ({ ...c, m }))),
  );
  await check(2, 300, arb, async ({ slug, top, via, root, m }) => {
    const f = fx(slug);
    const { value, path } = applyMut((f.r.inputSchema.properties as S)[top], m);
    const field = [top, ...path].join('.');
    const body = { ...f.body, [top]: value };
    const url = root && f.r.def.singleton ? f.base : f.url;
    const op = { op: f.body[top] === undefined ? 'add' : 'replace', path: ptr([top]), value };
    let req: Req;
    switch (via) {
      case 'create':
        await rejected((req = { method: 'POST', url: f.base, body: json(body) }), { status: 400, field });
        break;
      case 'put':
        await rejected((req = { method: 'PUT', url, body: json(body) }), { status: 400, field });
        break;
      case 'patch':
        await rejected((req = { method: 'PATCH', url, body: json([op]) }), { status: 422, field });
        break;
      case 'batch-create':
        req = { method: 'POST', url: `${f.base}/batch`, body: json({ operations: [{ operation: 'create', object: body }] }) };
        await batchAllFail(req, [{ status: [400], field: `operations.0.object.${field}` }]);
        break;
      case 'batch-update':
        req = { method: 'POST', url: `${f.base}/batch`, body: json({ operations: [{ operation: 'update', id: f.id, object: body }] }) };
        await batchAllFail(req, [{ status: [400], field: `operations.0.object.${field}` }]);
        break;
      default:
        req = { method: 'POST', url: `${f.base}/batch`, body: json({ operations: [{ operation: 'patch', id: f.id, patch_directives: [op] }] }) };
        await batchAllFail(req, [{ status: [422], field: `operations.0.patch_directives.${field}` }]);
    }
    await unchanged(f, req!);
  });
});

// ---------------------------------------------------------------------------------------------------
// 2b. Bounds and ordered pairs, found in the definitions

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
          if (!outOfBounds(s.properties[k]).includes(value) && (s.properties[k].maximum === undefined || value <= s.properties[k].maximum) && value >= (s.properties[k].minimum ?? -Infinity)) {
            out.push({ kind: 'bound', slug, path: [...path, k], value, when });
          }
        }
      }
    }
    for (const [first, second] of (s[ORDER_KEY] ?? []) as [string, string][]) {
      out.push({ kind: 'pair', slug, at: path, first, second, type: orderType(s.properties[first]), a: s.properties[first], b: s.properties[second] });
    }
  };
  walk(root, []);
  return out;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const schemaOf = (root: S, path: Path): S => path.reduce<S>((s, k) => (k === '*' ? s.items : s.properties[k]), root);
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

type BoundVia = 'create' | 'put' | 'patch' | 'batch-create' | 'batch-update' | 'batch-patch';

/** Sends a body with one wrong place through one write route (a patch replaces the top-level fields `tops`); expects the field named (400, 422 for a patch). */
async function refusedVia(f: Fx, via: BoundVia, body: S, field: string, tops: string[]) {
  let req: Req;
  const ops = tops.map((top) => ({ op: f.body[top] === undefined ? 'add' : 'replace', path: ptr([top]), value: body[top] }));
  switch (via) {
    case 'create':
      await rejected((req = { method: 'POST', url: f.base, body: json(body) }), { status: 400, field });
      break;
    case 'put':
      await rejected((req = { method: 'PUT', url: f.url, body: json(body) }), { status: 400, field });
      break;
    case 'patch':
      await rejected((req = { method: 'PATCH', url: f.url, body: json(ops) }), { status: 422, field });
      break;
    case 'batch-create':
      req = { method: 'POST', url: `${f.base}/batch`, body: json({ operations: [{ operation: 'create', object: body }] }) };
      await batchAllFail(req, [{ status: [400], field: `operations.0.object.${field}` }]);
      break;
    case 'batch-update':
      req = { method: 'POST', url: `${f.base}/batch`, body: json({ operations: [{ operation: 'update', id: f.id, object: body }] }) };
      await batchAllFail(req, [{ status: [400], field: `operations.0.object.${field}` }]);
      break;
    case 'batch-patch':
      req = { method: 'POST', url: `${f.base}/batch`, body: json({ operations: [{ operation: 'patch', id: f.id, patch_directives: ops }] }) };
      await batchAllFail(req, [{ status: [422], field: `operations.0.patch_directives.${field}` }]);
      break;
  }
  await unchanged(f, req);
}

const BOUND_VIAS: BoundVia[] = ['create', 'put', 'patch', 'batch-create', 'batch-update', 'batch-patch'];

test('every numeric bound of every definition is enforced: a value out of it is a 400 naming the field (422 for PATCH); nothing changes', async () => {
  const cases = SLUGS.flatMap((slug) => boundsOf(slug, fx(slug).r.inputSchema as S).filter((c): c is BoundCase => c.kind === 'bound'));
  assert.ok(cases.length > 100, `bounded fields found: ${cases.length}`);
  assert.ok(cases.some((c) => c.when && c.value === 100.001), 'the conditional percentage bound of coupons is found');
  await check(14, 300, fc.record({ c: fc.constantFrom(...cases), via: fc.constantFrom(...BOUND_VIAS) }), async ({ c, via }) => {
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
    fc.record({ c: fc.constantFrom(...cases), via: fc.constantFrom<BoundVia | 'patch-first'>(...BOUND_VIAS) }),
    fc.record({ c: fc.constantFrom(...stored), via: fc.constant<BoundVia | 'patch-first'>('patch-first') }),
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

// ---------------------------------------------------------------------------------------------------
// 3. Unknown fields

test('unknown fields in create, PUT and batch bodies are a 400 naming the field; nothing changes', async () => {
  const arb = fc.constantFrom(...SLUGS).chain((slug) => {
    const f = fx(slug);
    const props = f.r.inputSchema.properties as S;
    const nested = topKeys(f).flatMap((k) => {
      const a = unknownMutArb(props[k]);
      return a ? [a.map((m) => ({ top: k as string | null, m }))] : [];
    });
    const atTop = fc.record({ key: unknownKey(f.r.inputSchema, true), v: anyValue }).map(({ key, v }) => ({ top: null as string | null, m: { at: 'unknown', key, v } as Mut }));
    return fc.record({ slug: fc.constant(slug), where: nested.length ? fc.oneof(atTop, ...nested) : atTop, via: fc.constantFrom('create', 'put', 'batch-create', 'batch-update') });
  });
  await check(3, 200, arb, async ({ slug, where, via }) => {
    const f = fx(slug);
    let body: S;
    let field: string;
    if (where.top === null) {
      const m = where.m as Extract<Mut, { at: 'unknown' }>;
      body = { ...f.body, [m.key]: raw(m.v) };
      field = m.key;
    } else {
      const { value, path } = applyMut((f.r.inputSchema.properties as S)[where.top], where.m);
      body = { ...f.body, [where.top]: value };
      field = [where.top, ...path].join('.');
    }
    const batch = `${f.base}/batch`;
    let req: Req;
    if (via === 'create') await rejected((req = { method: 'POST', url: f.base, body: json(body) }), { status: 400, field });
    else if (via === 'put') await rejected((req = { method: 'PUT', url: f.url, body: json(body) }), { status: 400, field });
    else {
      const op = via === 'batch-create' ? { operation: 'create', object: body } : { operation: 'update', id: f.id, object: body };
      await batchAllFail((req = { method: 'POST', url: batch, body: json({ operations: [op] }) }), [{ status: [400], field: `operations.0.object.${field}` }]);
    }
    await unchanged(f, req);
  });
});

// ---------------------------------------------------------------------------------------------------
// 4. Bad JSON Patch documents

const OP_NAMES = ['add', 'remove', 'replace', 'move', 'copy', 'test'];
const INHERITED = ['toString', 'constructor', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf'];
const SERVER_PATHS = ['/id', '/sys_version', '/sys_created_at', '/sys_last_modified_by_id', '/sys_bulk_load_id', ''];

/** One operation that must make any patch document fail, whatever the other operations do. */
function badOp(f: Fx): fc.Arbitrary<S> {
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
    fc.record({ op: fc.constantFrom<unknown>('', 'ADD', 'Add', 'delete', 'get', '_get', 'merge', 1, null, true, ['add']), path: fieldPtr, value: val }),
    fc.record({ op: anyOp, path: fc.constantFrom<unknown>(1, null, ['a'], {}, 'name', 'a/b', '#/name', ' /name', `/${'a'.repeat(1100)}`), value: val, from: fc.constant('/id') }),
    fc.record({ op: anyOp, value: val, from: fc.constant('/id') }),
    fc.record({ op: fc.constantFrom('add', 'replace', 'test'), path: fieldPtr }),
    fc.record({ op: fc.constantFrom('move', 'copy'), path: fieldPtr }),
    fc.record({ op: fc.constantFrom('move', 'copy'), path: fieldPtr, from: fc.constantFrom<unknown>(1, null, 'name', `/${'a'.repeat(1100)}`) }),
    fc.record({ op: anyOp, path: fieldPtr, value: val, from: fc.constant('/id'), extra: fc.constantFrom<unknown>(1, 'x', null) }),
    // prototype paths
    fc.record({ op: anyOp, path: fc.constantFrom('/__proto__', '/__proto__/x', '/constructor/prototype', '/constructor/prototype/x', ...arrays.map((a) => `/${a}/0/__proto__`)), value: val, from: fc.constant('/id') }),
    fc.record({ op: fc.constantFrom('move', 'copy'), from: fc.constantFrom('/__proto__', '/__proto__/x', '/constructor/prototype'), path: fieldPtr }),
    // escapes and paths that do not exist
    fc.record({ op: fc.constantFrom('add', 'replace', 'remove'), path: fc.constantFrom('/a/~2', '/~', '/zz~', '/zz/~2/x', '/zz_nope/x'), value: val }),
    fc.record({ op: fc.constantFrom('replace', 'remove'), path: fc.constantFrom('/zz_nope', ...absent.map((k) => ptr([k])), ...scalarPresent.map((k) => `${ptr([k])}/zz`)), value: val }),
    fc.record({ op: fc.constantFrom('move', 'copy'), from: fc.constantFrom('/zz_nope', ...absent.map((k) => ptr([k]))), path: fieldPtr }),
    // inherited properties are not fields either
    fc.record({ op: fc.constant('remove'), path: fc.constantFrom(...INHERITED.map((k) => `/${k}`), ...objects.flatMap((o) => INHERITED.map((k) => `${ptr([o])}/${k}`))) }),
    fc.record({ op: fc.constantFrom('move', 'copy'), from: fc.constantFrom(...INHERITED.map((k) => `/${k}`)), path: fc.constant('/zz_target') }),
    // server-managed paths
    fc.record({ op: fc.constantFrom('add', 'replace', 'remove', 'move', 'copy'), path: fc.constantFrom(...SERVER_PATHS), value: val, from: fieldPtr }),
    fc.record({ op: fc.constant('move'), from: fc.constantFrom('/id', '/sys_version', '/sys_created_at', ''), path: fc.constant('/zz_target') }),
    fc.record({ op: fc.constantFrom('add', 'replace'), path: fc.constant('/sys_locked'), value: fc.constantFrom<unknown>('yes', 1, null, {}, []) }),
    // values the schema refuses
    fieldPtr.chain((p) => {
      const s = props[p.slice(1).replace(/~1/g, '/').replace(/~0/g, '~')] ?? { type: 'string' };
      return fc.record({ op: fc.constantFrom('add', 'replace'), path: fc.constant(p), value: wrongValue(s).map(raw) });
    }),
    fc.record({ op: fc.constant('add'), path: unknownKey(f.r.inputSchema, true).map((k) => ptr([k])), value: val }),
    // a failing test
    fc.record({ op: fc.constant('test'), path: fc.constantFrom('/id', '/sys_version'), value: fc.constantFrom<unknown>('not-this', 999, null) }),
  ];
  if (arrays.length) {
    const a = fc.constantFrom(...arrays);
    opts.push(
      fc.record({ op: fc.constantFrom('replace', 'remove', 'test'), a, i: fc.constantFrom('-', '01', '1e0', '-1', ' 0', '0x0', '1.0', '', '99999') }).map(({ op, a: k, i }) => ({ op, path: `${ptr([k])}/${i}`, value: {} })),
      fc.record({ op: fc.constant('add'), a, i: fc.constantFrom('01', '-1', '99999', '2147483648', '4294967296', '4294967297', '9007199254740993', '1e3') }).map(({ op, a: k, i }) => ({ op, path: `${ptr([k])}/${i}`, value: f.body[k][0] ?? {} })),
    );
  }
  return fc.oneof(...opts);
}

test('bad JSON Patch documents are a 4xx and change nothing (all or nothing, batch included)', async () => {
  const arb = fc.constantFrom(...SLUGS).chain((slug) => {
    const f = fx(slug);
    const docArb = fc.oneof(
      { weight: 4, arbitrary: fc.record({ good: fc.boolean(), bad: fc.array(badOp(f), { minLength: 1, maxLength: 2 }), at: fc.nat() }) },
      fc.constantFrom<unknown>({}, 'x', 1, true, null, [], [null], [1], [[]], { op: 'test', path: '/id', value: f.id }, 'too-many'),
    );
    return fc.record({
      slug: fc.constant(slug),
      doc: docArb,
      via: fc.constantFrom('patch', 'patch', 'batch'),
      url: fc.constantFrom(...singletonUrls(f)),
      type: fc.constantFrom('application/json', 'application/json-patch+json'),
      ifMatch: fc.constantFrom<string | undefined>(undefined, undefined, undefined, `"${f.version}"`, '*', '"999"', 'garbage', `W/"${f.version}"`),
    });
  });
  await check(4, 300, arb, async ({ slug, doc, via, url, type, ifMatch }) => {
    const f = fx(slug);
    let ops: unknown = doc;
    if (doc === 'too-many') ops = Array.from({ length: 1001 }, () => ({ op: 'test', path: '/id', value: f.id }));
    else if (doc !== null && typeof doc === 'object' && 'bad' in (doc as S)) {
      const d = doc as { good: boolean; bad: S[]; at: number };
      const list: S[] = d.good ? changingOps(f) : [];
      d.bad.forEach((b, i) => list.splice((d.at + i) % (list.length + 1), 0, b));
      ops = list;
    }
    let req: Req;
    if (via === 'patch') {
      req = { method: 'PATCH', url, body: json(ops), type, headers: ifMatch === undefined ? {} : { 'if-match': ifMatch } };
      await rejected(req, { status: [400, 409, 412, 422] });
    } else {
      req = { method: 'POST', url: `${f.base}/batch`, body: json({ operations: [{ operation: 'patch', id: f.id, patch_directives: ops }] }) };
      await batchAllFail(req, [{ status: [400, 409, 422], prefix: 'operations.0' }]);
    }
    await unchanged(f, req);
  });
});

// ---------------------------------------------------------------------------------------------------
// 5. Bad query parameters: paging keys, limits, projections

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
    fc.constantFrom<unknown>({ id: '' }, { id: '../x' }, { id: 'a b' }, { id: 'x'.repeat(129) }, { id: 1 }, { id: null }, { Id: 'x' }, [], 'x').map(b64url),
    fc.string({ minLength: 1, maxLength: 20 }).map((id) => Buffer.from(JSON.stringify({ id })).toString('base64')).filter((k) => /[+/=]/.test(k)),
    fc.integer({ min: 513, max: 2000 }).map((n) => 'A'.repeat(n)),
  )
  .filter((k) => k !== '' && !looksIssued(k));
const badLimit: fc.Arbitrary<string> = fc
  .oneof(
    fc.constantFrom('0', '-1', '1.5', 'abc', '1001', '1e3', ' 1', '1 ', '+1', '0x10', '９', '1000000', '99999999', 'null', 'true', '[1]', '1,2'),
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
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).filter((p) => !p.includes(',') && p.trim() !== '' && !known.includes(p.trim().split('.')[0]!)),
    fc.constantFrom('__proto__', 'constructor', 'toString', 'tenant_id', 'data', 'ID'),
    okPart.chain((k) => fc.constantFrom(`${k}.__proto__`, `${k}..x`, `.${k}`, `${k}.`)),
  );
  return fc.oneof(
    fc.record({ before: fc.array(okPart, { maxLength: 2 }), bad, after: fc.array(okPart, { maxLength: 2 }) }).map(({ before: b, bad: x, after: a }) => [...b, x, ...a].join(',')),
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
  await check(5, 300, arb, async ({ slug, route, param, key, limit, fields, flag }) => {
    const f = fx(slug);
    const paged = route.kind !== 'get';
    const singletonRoot = route.kind === 'get' && route.url === f.base;
    const fieldsName = route.kind === 'search' ? 'fieldsToReturn' : 'fields';
    let query: string;
    let field: string;
    if (param === 'exclusiveStartKey' && paged) [query, field] = [`exclusiveStartKey=${encodeURIComponent(key)}`, 'exclusiveStartKey'];
    else if (param === 'limit' && paged) [query, field] = [`limit=${encodeURIComponent(limit)}`, 'limit'];
    else if (param === 'consistentRead' && route.kind === 'get' && !singletonRoot) [query, field] = [`consistentRead=${encodeURIComponent(flag)}`, 'consistentRead'];
    else if (param === 'repeat') {
      const name = paged ? 'limit' : fieldsName;
      [query, field] = [`${name}=1&${name}=2`, name];
    } else [query, field] = [`${fieldsName}=${encodeURIComponent(fields)}`, fieldsName];
    const req: Req = { method: route.method, url: `${route.url}?${query}`, ...(route.kind === 'search' ? { body: '{}' } : {}) };
    await rejected(req, { status: 400, field });
  }, false);
});

test('projections with any dotted path into known fields answer 200 or a 400, never a 5xx', async () => {
  const arb = fc.constantFrom(...SLUGS).chain((slug) => {
    const f = fx(slug);
    const props = f.r.inputSchema.properties as S;
    const part = fc.constantFrom(...f.r.projectable).chain((k) => {
      const children = Object.keys(props[k]?.properties ?? props[k]?.items?.properties ?? {});
      return fc.oneof(fc.constant(k), fc.constantFrom('0', 'length', 'constructor', 'toString', 'x', '0.x', '-1', ...children).map((c) => `${k}.${c}`));
    });
    return fc.record({
      slug: fc.constant(slug),
      route: fc.constantFrom(...f.routes.filter((r) => ['list', 'search', 'lookup', 'get'].includes(r.kind))),
      parts: fc.array(part, { minLength: 1, maxLength: 4 }),
    });
  });
  await check(6, 250, arb, async ({ slug, route, parts }) => {
    const f = fx(slug);
    const name = route.kind === 'search' ? 'fieldsToReturn' : 'fields';
    const req: Req = { method: route.method, url: `${route.url}?${name}=${encodeURIComponent(parts.join(','))}`, ...(route.kind === 'search' ? { body: '{}' } : {}) };
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
    assert.ok(Array.isArray(items) && items.every((i) => Object.keys(i).every((k) => tops.has(k))), `projection leaked other fields:\n${show(req, res)}`);
    if (route.kind === 'get') assert.equal(b.id, f.r.def.singleton && route.url === f.base ? 'acme' : f.id, show(req, res));
  }, false);
});

// ---------------------------------------------------------------------------------------------------
// 6. Bad ids and tenants in paths

const badId: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
  fc.constantFrom('..', '.', ' ', 'a b', "1' OR '1'='1", '<script>', '\u0000', 'a\u0000b', '🙂', 'ñ', '%', '%00', '/', '\\', '*', '?', '#', 'null', '__proto__', 'constructor', 'no-such-id', 'x'.repeat(128), 'x'.repeat(129)),
  fc.integer({ min: 129, max: 500 }).map((n) => 'a'.repeat(n)),
);

test('bad or unknown ids in paths are a 4xx and change nothing', async () => {
  const arb = fc.constantFrom(...SLUGS).chain((slug) =>
    fc.record({
      slug: fc.constant(slug),
      // (a lone "." is resolved away by URL normalisation before any server sees it)
      id: badId.filter((id) => id !== fx(slug).id && id !== 'acme' && id !== '.'),
      via: fc.constantFrom('GET', 'PUT', 'PATCH', 'DELETE', 'action', 'batch', 'tenant'),
      tenantRoute: fc.nat(),
    }),
  );
  await check(7, 250, arb, async ({ slug, id, via, tenantRoute }) => {
    const f = fx(slug);
    const one = `${f.base}/${encodeURIComponent(id)}`;
    let req: Req;
    if (via === 'GET' || via === 'DELETE') await rejected((req = { method: via, url: one }), { status: [400, 403, 404] });
    else if (via === 'PUT') await rejected((req = { method: 'PUT', url: one, body: json(f.body) }), { status: [400, 403, 404] });
    else if (via === 'PATCH') await rejected((req = { method: 'PATCH', url: one, body: json(changingOps(f)) }), { status: [400, 403, 404] });
    else if (via === 'action') {
      const actions = f.routes.filter((r) => r.kind === 'action');
      fc.pre(actions.length > 0);
      const a = f.r.def.actions![tenantRoute % actions.length]!;
      const url = `${f.base}/${a.path.replace(':id', encodeURIComponent(id))}`;
      await rejected((req = { method: a.method, url }), { status: [400, 403, 404] });
    } else if (via === 'batch') {
      const ops = [
        { operation: 'update', id, object: f.body },
        { operation: 'patch', id, patch_directives: changingOps(f) },
        { operation: 'delete', id },
      ];
      req = { method: 'POST', url: `${f.base}/batch`, body: json({ operations: ops }) };
      await batchAllFail(req, ops.map(() => ({ status: [400, 404] })));
    } else {
      // the tenant segment: the token names acme only
      const routes = f.routes;
      const r = routes[tenantRoute % routes.length]!;
      const url = r.url.replace(/^\/([^/]+)\/acme/, (_m, s: string) => `/${s}/${encodeURIComponent(id)}`);
      const body = r.method === 'GET' || r.method === 'DELETE' ? undefined : r.kind === 'patch' ? json(changingOps(f)) : r.kind === 'search' ? '{}' : r.kind === 'batch' ? validText(f, r) : json(f.body);
      await rejected((req = { method: r.method, url, body }), { status: [400, 403, 404] });
    }
    await unchanged(f, req!);
  });
});

test('malformed percent-encodings and over-long path segments are a 4xx with the documented error body', async () => {
  const arb = fc.record({
    slug: fc.constantFrom(...SLUGS),
    seg: fc.oneof(fc.constantFrom('%', '%zz', '%E0%A4%A', '%ED%A0%80', '%C0%AF', '%FF', 'a%'), fc.integer({ min: 513, max: 3000 }).map((n) => 'a'.repeat(n))),
    where: fc.constantFrom('id', 'tenant', 'lookup'),
    method: fc.constantFrom<Method>('GET', 'PUT', 'PATCH', 'DELETE'),
  });
  await check(8, 60, arb, async ({ slug, seg, where, method }) => {
    const f = fx(slug);
    const lookup = f.routes.find((r) => r.kind === 'lookup');
    let req: Req;
    if (where === 'lookup' && lookup) req = { method: 'GET', url: lookup.url.replace(/[^/]*$/, seg) };
    else if (where === 'tenant') req = { method: 'GET', url: `/${slug}/${seg}` };
    else req = { method, url: `${f.base}/${seg}`, ...(method === 'PUT' ? { body: json(f.body) } : method === 'PATCH' ? { body: json(changingOps(f)) } : {}) };
    await rejected(req, { status: [400, 403, 404, 414] });
    await unchanged(f, req);
  });
});

test('any lookup value answers a list (up to 256 characters) or a 400 naming the value, never a 5xx', async () => {
  const lookups = RESOURCES.flatMap((r) => (r.def.lookups ?? []).map((l) => ({ slug: r.def.slug, segment: l.segment, field: l.field })));
  const pct = (s: string) => [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  const arb = fc.record({
    lookup: fc.constantFrom(...lookups),
    value: fc.oneof(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
      fc.constantFrom('\u0000', 'a\u0000b', '%', "' OR 1=1 --", '\\', '🙂', 'true', '1e400', 'NaN', ' ', '..'),
      fc.integer({ min: 1, max: 256 }).map((n) => 'v'.repeat(n)),
      fc.integer({ min: 257, max: 500 }).map((n) => 'v'.repeat(n)),
    ),
  });
  await check(9, 150, arb, async ({ lookup, value }) => {
    const req: Req = { method: 'GET', url: `/${lookup.slug}/acme/${lookup.segment}/${pct(value)}` };
    const res = await send(req);
    const decoded = Buffer.from(value, 'utf8').toString('utf8'); // lone surrogates travel as U+FFFD
    fc.pre(decoded !== '.' && decoded !== '..'); // dot segments are resolved away by URL normalisation
    // Over-long values, and values with control characters (NUL cannot be stored), are refused naming the value.
    if (decoded.length > 256 || /[\u0000-\u001f]/.test(decoded)) {
      await rejected(req, { status: 400, field: 'value' });
      return;
    }
    assert.equal(res.statusCode, 200, show(req, res));
    const b = res.json() as S;
    assert.equal(b.Count, b.Items.length, show(req, res));
    const at = (rec: S) => lookup.field.split('.').reduce<any>((o, k) => (o == null ? undefined : o[k]), rec);
    assert.ok(b.Items.every((i: S) => String(at(i)) === decoded), `lookup answered records of another value:\n${show(req, res)}`);
  }, false);
});

// ---------------------------------------------------------------------------------------------------
// 7. Bad search bodies

function badSearch(f: Fx): fc.Arbitrary<{ body: unknown; field: string }> {
  const props = f.r.searchSchema.properties as S;
  const keys = Object.keys(props);
  const per = keys.map((key) => {
    const spec = f.r.def.search[key]!;
    const s = props[key];
    const one = (v: fc.Arbitrary<unknown>, sub: (x: any) => string = () => key) => v.map((x) => ({ body: { [key]: x }, field: sub(x) }));
    const at = (items: fc.Arbitrary<unknown>, good: unknown) =>
      fc.record({ n: fc.integer({ min: 1, max: 5 }), k: fc.nat(), bad: items }).map(({ n, k, bad }) => {
        const list: unknown[] = Array.from({ length: n }, () => good);
        list[k % n] = bad;
        return { body: { [key]: list }, field: `${key}.${k % n}` };
      });
    const notArray = one(fc.constantFrom<unknown>('x', 1, true, {}, { from: '2025-01-01' }));
    switch (spec.kind) {
      case 'ids':
        return fc.oneof(notArray, at(fc.constantFrom<unknown>(1, null, '', 'a b', '../x', 'x'.repeat(129), '🙂', {}), f.id), one(fc.constant(Array(1001).fill('x'))));
      case 'contains':
        return fc.oneof(one(fc.constantFrom<unknown>(1, true, [], {}, ['x'])), one(fc.integer({ min: 501, max: 1_000_000 }).map((n) => 'x'.repeat(n))));
      case 'in':
        return fc.oneof(notArray, at(wrongValue(s.items).filter((v) => 'lit' in v).map((v) => (v as { lit: unknown }).lit), shape(s.items)), one(fc.constant(Array(1001).fill(shape(s.items)))));
      case 'range':
        return fc.oneof(
          notArray,
          one(fc.constantFrom<unknown>([], ['2025-01-01'], ['2025-01-01', '2025-12-31', '2026-01-01'])),
          fc.record({ i: fc.integer({ min: 0, max: 1 }), bad: fc.oneof(fc.constantFrom<unknown>(1, true, {}, []), fc.constantFrom(...BAD_DATES.filter((d) => d.trim() !== '' && d !== '2025-01-01T00:00:00Z'), '2025-01-01junk', '2025-01-01T10:00:00', '2025-01-01T25:00:00Z', '1e10'), fc.constant('2025-01-01T00:00:00Z'.padEnd(41, '0'))) }).map(({ i, bad }) => {
            const range: unknown[] = ['', ''];
            range[i] = bad;
            return { body: { [key]: range }, field: `${key}.${i}` };
          }),
        );
    }
  });
  const unknown = unknownKey({ properties: props }, false).map((k) => ({ body: { [k]: 'x' }, field: k }));
  return fc.oneof(unknown, ...per);
}

test('bad search bodies are a 400 naming the search field', async () => {
  const arb = fc.constantFrom(...SLUGS).chain((slug) =>
    fc.record({ slug: fc.constant(slug), bad: fc.oneof({ weight: 6, arbitrary: badSearch(fx(slug)) }, fc.constantFrom<unknown>('[]', '"x"', '1', 'true').map((text) => ({ body: new Raw(text as string), field: '(body)' }))) }),
  );
  await check(10, 250, arb, async ({ slug, bad }) => {
    const f = fx(slug);
    await rejected({ method: 'POST', url: `${f.base}/search`, body: json(bad.body) }, { status: 400, field: bad.field });
  }, false);
});

// ---------------------------------------------------------------------------------------------------
// 8. Batch envelopes and operations

test('bad batch envelopes are a 400 and run nothing; bad operations each fail on their own; nothing changes', async () => {
  const arb = fc.constantFrom(...SLUGS).chain((slug) => {
    const f = fx(slug);
    const env = fc.oneof(
      fc.constantFrom('[]', '1', '"x"', 'true', 'null', '{}').map((text) => ({ text, field: 'operations' })),
      fc.constantFrom<unknown>({}, 'x', 1, null, true, []).map((ops) => ({ text: json({ operations: ops }), field: 'operations' })),
      fc.integer({ min: 101, max: 150 }).map((n) => ({ text: json({ operations: [{ operation: 'patch', id: f.id, patch_directives: changingOps(f) }, ...Array.from({ length: n - 1 }, () => ({ operation: 'delete', id: 'no-such-id' }))] }), field: 'operations' })),
      unknownKey({ properties: { operations: {} } }, false).map((k) => ({ text: json({ operations: [{ operation: 'patch', id: f.id, patch_directives: changingOps(f) }], [k]: 1 }), field: k })),
    );
    const objectBad = fc.constantFrom<unknown>(undefined, 'x', [], 1, null, { ...f.body, zz_unknown: 1 });
    const op = fc.oneof(
      fc.constantFrom<unknown>(1, 'x', null, [], true).map((o) => ({ o, x: { status: [400], field: '' } })),
      unknownKey({ properties: { operation: {}, id: {}, object: {}, patch_directives: {} } }, false).map((k) => ({ o: { operation: 'delete', id: 'no-such-id', [k]: 1 }, x: { status: [400], field: `.${k}` } })),
      fc.constantFrom<unknown>(undefined, '', 'CREATE', 'upsert', 'get', 'toString', 'constructor', 1, null, {}, ['create']).map((operation) => ({ o: { operation, id: f.id, object: f.body }, x: { status: [400], field: '.operation' } })),
      fc.record({ operation: fc.constantFrom('update', 'patch', 'delete'), id: fc.constantFrom<unknown>(undefined, 1, null, '', 'a b', '../x', 'x'.repeat(129), '🙂', {}) }).map(({ operation, id }) => ({ o: { operation, id, object: f.body, patch_directives: changingOps(f) }, x: { status: [400], field: '.id' } })),
      fc.constant({ o: { operation: 'create', id: 'x', object: f.body }, x: { status: [400], field: '.id' } }),
      fc.record({ operation: fc.constantFrom('create', 'update'), object: objectBad }).map(({ operation, object }) => ({ o: { operation, id: operation === 'update' ? f.id : undefined, object }, x: { status: [400], prefix: '.object' } })),
      fc.array(badOp(f), { minLength: 1, maxLength: 2 }).map((d) => ({ o: { operation: 'patch', id: f.id, patch_directives: [...changingOps(f), ...d] }, x: { status: [400, 409, 422], prefix: '.patch_directives' } })),
      fc.constant({ o: { operation: 'patch', id: f.id }, x: { status: [400], field: '.patch_directives' } }),
    );
    return fc.record({ slug: fc.constant(slug), bad: fc.oneof(env.map((e) => ({ env: e })), fc.array(op, { minLength: 1, maxLength: 4 }).map((ops) => ({ ops }))) });
  });
  await check(11, 200, arb, async ({ slug, bad }) => {
    const f = fx(slug);
    const url = `${f.base}/batch`;
    let req: Req;
    if ('env' in bad) await rejected((req = { method: 'POST', url, body: bad.env.text }), { status: 400, field: bad.env.field });
    else {
      req = { method: 'POST', url, body: json({ operations: bad.ops.map((o) => o.o) }) };
      await batchAllFail(
        req,
        bad.ops.map((o, i) => {
          const x = o.x as { status: number[]; field?: string; prefix?: string };
          return { status: x.status, ...(x.field !== undefined ? { field: `operations.${i}${x.field}` } : {}), ...(x.prefix !== undefined ? { prefix: `operations.${i}${x.prefix}` } : {}) };
        }),
      );
    }
    await unchanged(f, req);
  });
});

// ---------------------------------------------------------------------------------------------------
// 9. Deep nesting and odd strings

/** The free-form (open object) places of a record that are present in its fixture. */
function freeFormSites(f: Fx): string[][] {
  const out: string[][] = [];
  const walk = (s: S, v: unknown, path: string[]) => {
    if (v === undefined || v === null) return;
    if (isOpenObject(s)) out.push(path);
    else if (s.type === 'object' && typeof v === 'object') for (const [k, p] of Object.entries((s.properties ?? {}) as S)) walk(p, (v as S)[k], [...path, k]);
    else if (s.type === 'array' && Array.isArray(v) && v.length) walk(s.items, v[0], [...path, '0']);
  };
  walk(f.r.inputSchema, f.body, []);
  return out;
}
const setAt = (o: S, path: string[], value: unknown): S => {
  const copy = structuredClone(o);
  let cur: any = copy;
  for (const k of path.slice(0, -1)) cur = cur[k];
  cur[path[path.length - 1]!] = value;
  return copy;
};
const depthOf = (v: unknown) => {
  let d = 0;
  while (v !== null && typeof v === 'object') {
    v = Array.isArray(v) ? v[0] : (v as S).a;
    d++;
  }
  return d;
};

test('deeply nested bodies are refused with a 400; deep free-form values are stored or refused, never a 5xx', async () => {
  const sites = SLUGS.flatMap((slug) => freeFormSites(fx(slug)).map((path) => ({ slug, path })));
  const arb = fc.record({
    slug: fc.constantFrom(...SLUGS),
    route: fc.constantFrom('create', 'put', 'patch', 'search', 'batch', 'free-create', 'free-patch'),
    site: fc.constantFrom(...sites),
    depth: fc.integer({ min: 1000, max: 10_000 }),
    obj: fc.boolean(),
  });
  await check(12, 30, arb, async ({ slug, route, site, depth, obj }) => {
    const deep = raw({ deep: depth, obj });
    if (!route.startsWith('free')) {
      const f = fx(slug);
      const urls: Record<string, string> = { create: f.base, put: f.url, patch: f.url, search: `${f.base}/search`, batch: `${f.base}/batch` };
      const url = urls[route]!;
      const req: Req = { method: route === 'put' ? 'PUT' : route === 'patch' ? 'PATCH' : 'POST', url, body: deep.text };
      await rejected(req, { status: 400 });
      await unchanged(f, req);
      return;
    }
    // A free-form field accepts any object: a deep one must be stored faithfully or refused with a 4xx.
    const f = fx(site.slug);
    const value = obj ? deep : raw({ deep: depth, obj: true });
    let id: string | undefined;
    try {
      let req: Req;
      let res: Res;
      if (route === 'free-create') {
        req = { method: 'POST', url: f.base, body: json(setAt(f.body, site.path, value)) };
        res = await send(req);
        if (res.statusCode === 201) id = res.json().id;
      } else {
        const made = await send({ method: 'POST', url: f.base, body: json(f.body) });
        assert.equal(made.statusCode, 201, made.body);
        id = made.json().id as string;
        req = { method: 'PATCH', url: `${f.base}/${id}`, body: json([{ op: 'replace', path: ptr(site.path), value }]) };
        res = await send(req);
      }
      if (res.statusCode >= 300) errorBody(req, res);
      else {
        const got = await send({ method: 'GET', url: `${f.base}/${id}` });
        assert.equal(got.statusCode, 200, `accepted, then unreadable:\n${show(req, res)}\nthen GET ${f.base}/${id} -> ${got.statusCode} ${clip(got.body)}`);
        const v = site.path.reduce<any>((o, k) => o?.[k], got.json());
        assert.equal(depthOf(v), depth, `stored value differs:\n${show(req, res)}`);
      }
    } finally {
      if (id) assert.equal((await send({ method: 'DELETE', url: `${f.base}/${id}` })).statusCode, 200);
    }
  });
});

test('odd strings (NUL, lone surrogates, 1 MB) in string fields and searches are stored faithfully or refused, never a 5xx', async () => {
  const sites = SLUGS.filter((s) => !fx(s).r.def.singleton).flatMap((slug) =>
    topKeys(fx(slug))
      .filter((k) => isPlainString((fx(slug).r.inputSchema.properties as S)[k]))
      .map((field) => ({ slug, field })),
  );
  const arb = fc.record({
    site: fc.constantFrom(...sites),
    value: fc.oneof(
      fc.constantFrom('\u0000', 'a\u0000b', '\ud800', 'x\udfff', '\ud83d', 'e\u0301', '🙂', '\u202e', '\uffff', '\ufeff', '\\u0000', '%00'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }),
      fc.integer({ min: 1, max: 1_000_000 }).map((n) => `${'x'.repeat(n)}\u0000`),
    ),
    via: fc.constantFrom('create', 'search'),
  });
  await check(13, 80, arb, async ({ site, value, via }) => {
    const f = fx(site.slug);
    if (via === 'search') {
      const key = Object.entries(f.r.def.search).find(([, s]) => s.kind === 'contains')?.[0];
      fc.pre(key !== undefined);
      const req: Req = { method: 'POST', url: `${f.base}/search`, body: json({ [key!]: value }) };
      const res = await send(req);
      if (value.length > 500 || value.includes('\u0000') || !(value as string & { isWellFormed(): boolean }).isWellFormed()) {
        return void (await rejected(req, { status: 400, field: key }));
      }
      assert.equal(res.statusCode, 200, show(req, res));
      return;
    }
    const req: Req = { method: 'POST', url: f.base, body: json({ ...f.body, [site.field]: value }) };
    const res = await send(req);
    if (res.statusCode !== 201) return void errorBody(req, res);
    const id = res.json().id as string;
    try {
      const got = await send({ method: 'GET', url: `${f.base}/${id}` });
      assert.ok(got.statusCode === 200 && got.json()[site.field] === value, `stored value differs:\n${show(req, got)}`);
    } finally {
      assert.equal((await send({ method: 'DELETE', url: `${f.base}/${id}` })).statusCode, 200);
    }
  });
});
