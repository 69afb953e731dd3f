import { test } from 'node:test';
import fc from 'fast-check';
import { batchAllFail, changingOps, check, fx, SLUGS, rejected, type Req, singletonUrls, unchanged, useFuzzApp } from './harness.js';
import { badOp } from './generators.js';
import { json, type S } from './schema.js';

/** Bad input never hurts (see harness.ts): Bad JSON Patch documents. */
useFuzzApp();

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
      ifMatch: fc.constantFrom<string | undefined>(
        undefined,
        undefined,
        undefined,
        `"${f.version}"`,
        '*',
        '"999"',
        'garbage',
        `W/"${f.version}"`,
      ),
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
      req = {
        method: 'POST',
        url: `${f.base}/batch`,
        body: json({ operations: [{ operation: 'patch', id: f.id, patch_directives: ops }] }),
      };
      await batchAllFail(req, [{ status: [400, 409, 422], prefix: 'operations.0' }]);
    }
    await unchanged(f, req);
  });
});
