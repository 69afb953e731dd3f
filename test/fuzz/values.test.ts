import { test } from 'node:test';
import fc from 'fast-check';
import { check, fx, refusedVia, SLUGS, topKeys, useFuzzApp, WRITE_VIAS } from './harness.js';
import { applyMut, mutArb } from './generators.js';
import type { S } from './schema.js';

/** Bad input never hurts (see harness.ts): A wrong value anywhere in a body, on every write route. */
useFuzzApp();

test('a wrong value anywhere in an input body is a 400 naming the field (422 for PATCH); nothing changes', async () => {
  const arb = fc.constantFrom(...SLUGS).chain((slug) =>
    fc
      .record({
        slug: fc.constant(slug),
        top: fc.constantFrom(...topKeys(fx(slug))),
        via: fc.constantFrom(...WRITE_VIAS),
        root: fc.boolean(),
      })
      .chain((c) => mutArb((fx(slug).r.inputSchema.properties as S)[c.top]).map((m) => ({ ...c, m }))),
  );
  await check(2, 300, arb, async ({ slug, top, via, root, m }) => {
    const f = fx(slug);
    const { value, path } = applyMut((f.r.inputSchema.properties as S)[top], m);
    const field = [top, ...path].join('.');
    const body = { ...f.body, [top]: value };
    // a singleton's record answers at its base too: PUT and PATCH go to either
    await refusedVia(f, via, body, field, [top], root && f.r.def.singleton ? f.base : f.url);
  });
});
