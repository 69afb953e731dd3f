import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  check,
  clip,
  errorBody,
  type Fx,
  fx,
  rejected,
  type Req,
  type Res,
  send,
  show,
  SLUGS,
  topKeys,
  unchanged,
  useFuzzApp,
} from './harness.js';
import { raw } from './generators.js';
import { isOpenObject, isPlainString, json, ptr, type S } from './schema.js';

/** Bad input never hurts (see harness.ts): Deep nesting and odd strings (NUL, lone surrogates, 1 MB). */
useFuzzApp();

/** The free-form (open object) places of a record that are present in its fixture. */
function freeFormSites(f: Fx): string[][] {
  const out: string[][] = [];
  const walk = (s: S, v: unknown, path: string[]) => {
    if (v === undefined || v === null) return;
    if (isOpenObject(s)) out.push(path);
    else if (s.type === 'object' && typeof v === 'object')
      for (const [k, p] of Object.entries((s.properties ?? {}) as S)) walk(p, (v as S)[k], [...path, k]);
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
      const urls: Record<string, string> = {
        create: f.base,
        put: f.url,
        patch: f.url,
        search: `${f.base}/search`,
        batch: `${f.base}/batch`,
      };
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
        assert.equal(
          got.statusCode,
          200,
          `accepted, then unreadable:\n${show(req, res)}\nthen GET ${f.base}/${id} -> ${got.statusCode} ${clip(got.body)}`,
        );
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
