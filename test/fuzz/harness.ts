import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startApp, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';
import { RESOURCES } from '../../src/resources/index.js';
import type { Resource } from '../../src/resources/kit/define.js';
import { full, isPlainString, json, ptr, type S } from './schema.js';

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
 *
 * This module is what every test/fuzz/*.test.ts shares: the app (one per file), the fixtures, the
 * requests, the assertions every answer must satisfy and check(); the generators are in generators.ts.
 */
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type Res = Awaited<ReturnType<TestApp['call']>>;

const SEED = 20251126;
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
/** After the first failure, at most this many further runs (shrinking) make requests. */
const SHRINK_BUDGET = 150;

let t: TestApp;
/** Starts the app and creates the fixtures before the file's tests; closes it after them. */
export function useFuzzApp() {
  before(async () => {
    t = await startApp();
    await setUpFixtures();
  });
  after(() => t?.close());
}

// ---------------------------------------------------------------------------------------------------
// Requests and the assertions every answer must satisfy

export interface Req {
  method: Method;
  url: string;
  body?: string | Buffer;
  /** Content-Type of the body (default application/json). */
  type?: string;
  headers?: Record<string, string>;
}

export const clip = (s: string, n = 300) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);
export const show = (req: Req, res?: Res) =>
  `${req.method} ${clip(req.url, 200)}${req.body !== undefined ? ` [${req.type ?? 'application/json'}] ${clip(String(req.body))}` : ''}` +
  (res ? `\n  -> ${res.statusCode} ${clip(res.body, 500)}` : '');

/** Fixtures whose resource received a write in the current run. */
const touched = new Set<string>();
export function send(req: Req): Promise<Res> {
  if (req.method !== 'GET') {
    const slug = req.url.split('/')[1] ?? '';
    if (FX.has(slug)) touched.add(slug);
  }
  const headers: Record<string, string> = { ...req.headers };
  if (req.body !== undefined) headers['content-type'] = req.type ?? 'application/json';
  return t.call({ method: req.method, url: req.url, payload: req.body, headers, auth: t.admin });
}

/** The documented error body: JSON with statusCode, error, code, a non-empty message and a requestId. */
export function errorBody(req: Req, res: Res): S {
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

export function assertFieldErrors(errors: unknown, where: string) {
  assert.ok(Array.isArray(errors) && errors.length > 0, `errors must be a non-empty array:\n${where}`);
  for (const e of errors as S[]) {
    assert.ok(
      typeof e.field === 'string' && e.field !== '' && typeof e.reason === 'string' && e.reason !== '',
      `bad field error ${JSON.stringify(e)}:\n${where}`,
    );
  }
}

export interface Expect {
  /** Allowed statuses (default: any 4xx). */
  status?: number | number[];
  /** The field errors[0] must name (a 400/422 about the body). */
  field?: string;
}

export async function rejected(req: Req, x: Expect = {}): Promise<S> {
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
export async function batchAllFail(req: Req, expected: { status?: number[]; field?: string; prefix?: string }[]) {
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
    assert.ok(
      typeof r.error?.message === 'string' && r.error.message !== '' && typeof r.error.code === 'string',
      `operation ${i}: error message:\n${where}`,
    );
    if (r.status === 400 || r.status === 422 || x.field !== undefined || x.prefix !== undefined) assertFieldErrors(r.error.errors, where);
    if (x.field !== undefined) assert.equal(r.error.errors[0].field, x.field, `operation ${i}: errors[0].field:\n${where}`);
    if (x.prefix !== undefined && r.error.errors) {
      const f = r.error.errors[0].field as string;
      assert.ok(
        f === x.prefix || f.startsWith(`${x.prefix}.`),
        `operation ${i}: errors[0].field ${f} should be under ${x.prefix}:\n${where}`,
      );
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// Fixtures: one record per resource, created before the properties run

export interface Route {
  kind: 'list' | 'create' | 'search' | 'batch' | 'get' | 'put' | 'patch' | 'delete' | 'lookup' | 'action';
  method: Method;
  url: string;
  /** lookup: the field it filters on; action: its name */
  name?: string;
}

export interface Fx {
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

export const FX = new Map<string, Fx>();
export const fx = (slug: string) => FX.get(slug)!;
export const SLUGS = RESOURCES.map((r) => r.def.slug);
let inventoryAtStart = '';

function routesOf(r: Resource, base: string, url: string, body: S): Route[] {
  const out: Route[] = [];
  if (r.def.singleton) {
    out.push(
      { kind: 'get', method: 'GET', url: base },
      { kind: 'put', method: 'PUT', url: base },
      { kind: 'patch', method: 'PATCH', url: base },
    );
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
    FX.set(r.def.slug, {
      slug: r.def.slug,
      r,
      id,
      base,
      url,
      text: got.body,
      body: fields,
      version: rec.sys_version,
      routes: routesOf(r, base, url, fields),
    });
  }
  inventoryAtStart = await inventory();
}

/** Every record id of every resource (references created by the factory included). */
async function inventory(): Promise<string> {
  const out: string[] = [];
  for (const r of RESOURCES) {
    const res = await send({
      method: 'GET',
      url: r.def.singleton ? `/${r.def.slug}/acme?fields=id` : `/${r.def.slug}/acme?fields=id&limit=1000`,
    });
    assert.equal(res.statusCode, 200, res.body);
    const b = res.json() as S;
    out.push(`${r.def.slug}: ${(r.def.singleton ? [b.id] : b.Items.map((i: S) => i.id)).join(',')}`);
  }
  return out.join('\n');
}

/** A stored record changed: reported as is, without shrinking (the next runs see the changed record). */
class StateChanged extends assert.AssertionError {}

export async function unchanged(f: Fx, cause: Req) {
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
export async function check<T>(seed: number, runs: number, arb: fc.Arbitrary<T>, predicate: (v: T) => Promise<void>, writes = true) {
  let failed = false;
  let afterFailure = 0;
  try {
    await fc.assert(
      fc.asyncProperty(arb, async (v) => {
        if (failed && ++afterFailure > SHRINK_BUDGET) return; // shrinking budget spent: keep the smallest failure so far
        touched.clear();
        try {
          await predicate(v);
        } catch (caught) {
          failed = true;
          let e = caught;
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
// What the tests build from a fixture

export const topKeys = (f: Fx) => Object.keys(f.r.inputSchema.properties as S);
export const stringField = (f: Fx) =>
  topKeys(f).find((k) => typeof f.body[k] === 'string' && isPlainString((f.r.inputSchema.properties as S)[k]));
/** A patch document that would change the record if it were applied alone. */
export const changingOps = (f: Fx): S[] => {
  const k = stringField(f);
  return k ? [{ op: 'replace', path: ptr([k]), value: 'changed by fuzz' }] : [{ op: 'test', path: '/id', value: f.id }];
};
export const singletonUrls = (f: Fx) => (f.r.def.singleton ? [f.url, f.base] : [f.url]);

/** A valid body for a route (the tests break it). */
export function validText(f: Fx, r: Route): string {
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

export type WriteVia = 'create' | 'put' | 'patch' | 'batch-create' | 'batch-update' | 'batch-patch';
export const WRITE_VIAS: WriteVia[] = ['create', 'put', 'patch', 'batch-create', 'batch-update', 'batch-patch'];

/**
 * Sends a body with one wrong place through one write route (a patch replaces the top-level fields
 * `tops`); expects the field named (400, 422 for a patch). PUT and PATCH go to `url` (a singleton's
 * record answers at its base too).
 */
export async function refusedVia(f: Fx, via: WriteVia, body: S, field: string, tops: string[], url = f.url) {
  let req: Req;
  const ops = tops.map((top) => ({ op: f.body[top] === undefined ? 'add' : 'replace', path: ptr([top]), value: body[top] }));
  switch (via) {
    case 'create':
      await rejected((req = { method: 'POST', url: f.base, body: json(body) }), { status: 400, field });
      break;
    case 'put':
      await rejected((req = { method: 'PUT', url, body: json(body) }), { status: 400, field });
      break;
    case 'patch':
      await rejected((req = { method: 'PATCH', url, body: json(ops) }), { status: 422, field });
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
      req = {
        method: 'POST',
        url: `${f.base}/batch`,
        body: json({ operations: [{ operation: 'patch', id: f.id, patch_directives: ops }] }),
      };
      await batchAllFail(req, [{ status: [422], field: `operations.0.patch_directives.${field}` }]);
      break;
  }
  await unchanged(f, req);
}
