import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RESOURCES } from '../../src/resources/index.js';
import {
  batchAllFail,
  changingOps,
  check,
  fx,
  SLUGS,
  type Method,
  rejected,
  type Req,
  send,
  show,
  unchanged,
  useFuzzApp,
  validText,
} from './harness.js';
import { json, type S } from './schema.js';

/** Bad input never hurts (see harness.ts): Bad ids and tenants in paths, malformed percent-encodings, any lookup value. */
useFuzzApp();

const badId: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
  fc.constantFrom(
    '..',
    '.',
    ' ',
    'a b',
    "1' OR '1'='1",
    '<script>',
    '\u0000',
    'a\u0000b',
    '🙂',
    'ñ',
    '%',
    '%00',
    '/',
    '\\',
    '*',
    '?',
    '#',
    'null',
    '__proto__',
    'constructor',
    'no-such-id',
    'x'.repeat(128),
    'x'.repeat(129),
  ),
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
    else if (via === 'PATCH')
      await rejected((req = { method: 'PATCH', url: one, body: json(changingOps(f)) }), { status: [400, 403, 404] });
    else if (via === 'action') {
      // the actions that take a record's id (lifecycleSweep, generateOrder … name none)
      const actions = (f.r.def.actions ?? []).filter((x) => x.path.includes(':id'));
      fc.pre(actions.length > 0);
      const a = actions[tenantRoute % actions.length]!;
      const url = `${f.base}/${a.path.replace(':id', encodeURIComponent(id))}`;
      await rejected((req = { method: a.method, url }), { status: [400, 403, 404] });
    } else if (via === 'batch') {
      const ops = [
        { operation: 'update', id, object: f.body },
        { operation: 'patch', id, patch_directives: changingOps(f) },
        { operation: 'delete', id },
      ];
      req = { method: 'POST', url: `${f.base}/batch`, body: json({ operations: ops }) };
      await batchAllFail(
        req,
        ops.map(() => ({ status: [400, 404] })),
      );
    } else {
      // the tenant segment: the token names acme only
      const routes = f.routes;
      const r = routes[tenantRoute % routes.length]!;
      const url = r.url.replace(/^\/([^/]+)\/acme/, (_m, s: string) => `/${s}/${encodeURIComponent(id)}`);
      const body =
        r.method === 'GET' || r.method === 'DELETE'
          ? undefined
          : r.kind === 'patch'
            ? json(changingOps(f))
            : r.kind === 'search'
              ? '{}'
              : r.kind === 'batch'
                ? validText(f, r)
                : json(f.body);
      await rejected((req = { method: r.method, url, body }), { status: [400, 403, 404] });
    }
    await unchanged(f, req!);
  });
});

test('malformed percent-encodings and over-long path segments are a 4xx with the documented error body', async () => {
  const arb = fc.record({
    slug: fc.constantFrom(...SLUGS),
    seg: fc.oneof(
      fc.constantFrom('%', '%zz', '%E0%A4%A', '%ED%A0%80', '%C0%AF', '%FF', 'a%'),
      fc.integer({ min: 513, max: 3000 }).map((n) => 'a'.repeat(n)),
    ),
    where: fc.constantFrom('id', 'tenant', 'lookup'),
    method: fc.constantFrom<Method>('GET', 'PUT', 'PATCH', 'DELETE'),
  });
  await check(8, 60, arb, async ({ slug, seg, where, method }) => {
    const f = fx(slug);
    const lookup = f.routes.find((r) => r.kind === 'lookup');
    let req: Req;
    if (where === 'lookup' && lookup) req = { method: 'GET', url: lookup.url.replace(/[^/]*$/, seg) };
    else if (where === 'tenant') req = { method: 'GET', url: `/${slug}/${seg}` };
    else
      req = {
        method,
        url: `${f.base}/${seg}`,
        ...(method === 'PUT' ? { body: json(f.body) } : method === 'PATCH' ? { body: json(changingOps(f)) } : {}),
      };
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
  await check(
    9,
    150,
    arb,
    async ({ lookup, value }) => {
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
      assert.ok(
        b.Items.every((i: S) => String(at(i)) === decoded),
        `lookup answered records of another value:\n${show(req, res)}`,
      );
    },
    false,
  );
});
