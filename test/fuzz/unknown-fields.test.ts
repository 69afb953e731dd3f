import { test } from 'node:test';
import fc from 'fast-check';
import { batchAllFail, check, fx, SLUGS, rejected, type Req, topKeys, unchanged, useFuzzApp } from './harness.js';
import { anyValue, applyMut, type Mut, raw, unknownKey, unknownMutArb } from './generators.js';
import { json, type S } from './schema.js';

/** Bad input never hurts (see harness.ts): Unknown fields, at the top of a body or nested anywhere. */
useFuzzApp();

test('unknown fields in create, PUT and batch bodies are a 400 naming the field; nothing changes', async () => {
  const arb = fc.constantFrom(...SLUGS).chain((slug) => {
    const f = fx(slug);
    const props = f.r.inputSchema.properties as S;
    const nested = topKeys(f).flatMap((k) => {
      const a = unknownMutArb(props[k]);
      return a ? [a.map((m) => ({ top: k as string | null, m }))] : [];
    });
    const atTop = fc
      .record({ key: unknownKey(f.r.inputSchema, true), v: anyValue })
      .map(({ key, v }) => ({ top: null as string | null, m: { at: 'unknown', key, v } as Mut }));
    return fc.record({
      slug: fc.constant(slug),
      where: nested.length ? fc.oneof(atTop, ...nested) : atTop,
      via: fc.constantFrom('create', 'put', 'batch-create', 'batch-update'),
    });
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
      await batchAllFail((req = { method: 'POST', url: batch, body: json({ operations: [op] }) }), [
        { status: [400], field: `operations.0.object.${field}` },
      ]);
    }
    await unchanged(f, req);
  });
});
