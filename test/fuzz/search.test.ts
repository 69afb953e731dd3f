import { test } from 'node:test';
import fc from 'fast-check';
import { check, type Fx, fx, SLUGS, rejected, useFuzzApp } from './harness.js';
import { BAD_DATES, unknownKey, wrongValue } from './generators.js';
import { json, Raw, type S, shape } from './schema.js';

/** Bad input never hurts (see harness.ts): Bad search bodies. */
useFuzzApp();

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
        return fc.oneof(
          notArray,
          at(fc.constantFrom<unknown>(1, null, '', 'a b', '../x', 'x'.repeat(129), '🙂', {}), f.id),
          one(fc.constant(Array(1001).fill('x'))),
        );
      case 'contains':
        return fc.oneof(
          one(fc.constantFrom<unknown>(1, true, [], {}, ['x'])),
          one(fc.integer({ min: 501, max: 1_000_000 }).map((n) => 'x'.repeat(n))),
        );
      case 'in':
        return fc.oneof(
          notArray,
          at(
            wrongValue(s.items)
              .filter((v) => 'lit' in v)
              .map((v) => (v as { lit: unknown }).lit),
            shape(s.items),
          ),
          one(fc.constant(Array(1001).fill(shape(s.items)))),
        );
      case 'range':
        return fc.oneof(
          notArray,
          one(fc.constantFrom<unknown>([], ['2025-01-01'], ['2025-01-01', '2025-12-31', '2026-01-01'])),
          fc
            .record({
              i: fc.integer({ min: 0, max: 1 }),
              bad: fc.oneof(
                fc.constantFrom<unknown>(1, true, {}, []),
                fc.constantFrom(
                  ...BAD_DATES.filter((d) => d.trim() !== '' && d !== '2025-01-01T00:00:00Z'),
                  '2025-01-01junk',
                  '2025-01-01T10:00:00',
                  '2025-01-01T25:00:00Z',
                  '1e10',
                ),
                fc.constant('2025-01-01T00:00:00Z'.padEnd(41, '0')),
              ),
            })
            .map(({ i, bad }) => {
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
    fc.record({
      slug: fc.constant(slug),
      bad: fc.oneof(
        { weight: 6, arbitrary: badSearch(fx(slug)) },
        fc.constantFrom<unknown>('[]', '"x"', '1', 'true').map((text) => ({ body: new Raw(text as string), field: '(body)' })),
      ),
    }),
  );
  await check(
    10,
    250,
    arb,
    async ({ slug, bad }) => {
      const f = fx(slug);
      await rejected({ method: 'POST', url: `${f.base}/search`, body: json(bad.body) }, { status: 400, field: bad.field });
    },
    false,
  );
});
