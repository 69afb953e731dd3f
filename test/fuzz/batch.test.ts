import { test } from 'node:test';
import fc from 'fast-check';
import { batchAllFail, changingOps, check, fx, SLUGS, rejected, type Req, unchanged, useFuzzApp } from './harness.js';
import { badOp, unknownKey } from './generators.js';
import { json } from './schema.js';

/** Bad input never hurts (see harness.ts): Batch envelopes and operations. */
useFuzzApp();

test('bad batch envelopes are a 400 and run nothing; bad operations each fail on their own; nothing changes', async () => {
  const arb = fc.constantFrom(...SLUGS).chain((slug) => {
    const f = fx(slug);
    const env = fc.oneof(
      fc.constantFrom('[]', '1', '"x"', 'true', 'null', '{}').map((text) => ({ text, field: 'operations' })),
      fc.constantFrom<unknown>({}, 'x', 1, null, true, []).map((ops) => ({ text: json({ operations: ops }), field: 'operations' })),
      fc.integer({ min: 101, max: 150 }).map((n) => ({
        text: json({
          operations: [
            { operation: 'patch', id: f.id, patch_directives: changingOps(f) },
            ...Array.from({ length: n - 1 }, () => ({ operation: 'delete', id: 'no-such-id' })),
          ],
        }),
        field: 'operations',
      })),
      unknownKey({ properties: { operations: {} } }, false).map((k) => ({
        text: json({ operations: [{ operation: 'patch', id: f.id, patch_directives: changingOps(f) }], [k]: 1 }),
        field: k,
      })),
    );
    const objectBad = fc.constantFrom<unknown>(undefined, 'x', [], 1, null, { ...f.body, zz_unknown: 1 });
    const op = fc.oneof(
      fc.constantFrom<unknown>(1, 'x', null, [], true).map((o) => ({ o, x: { status: [400], field: '' } })),
      unknownKey({ properties: { operation: {}, id: {}, object: {}, patch_directives: {} } }, false).map((k) => ({
        o: { operation: 'delete', id: 'no-such-id', [k]: 1 },
        x: { status: [400], field: `.${k}` },
      })),
      fc
        .constantFrom<unknown>(undefined, '', 'CREATE', 'upsert', 'get', 'toString', 'constructor', 1, null, {}, ['create'])
        .map((operation) => ({ o: { operation, id: f.id, object: f.body }, x: { status: [400], field: '.operation' } })),
      fc
        .record({
          operation: fc.constantFrom('update', 'patch', 'delete'),
          id: fc.constantFrom<unknown>(undefined, 1, null, '', 'a b', '../x', 'x'.repeat(129), '🙂', {}),
        })
        .map(({ operation, id }) => ({
          o: { operation, id, object: f.body, patch_directives: changingOps(f) },
          x: { status: [400], field: '.id' },
        })),
      fc.constant({ o: { operation: 'create', id: 'x', object: f.body }, x: { status: [400], field: '.id' } }),
      fc.record({ operation: fc.constantFrom('create', 'update'), object: objectBad }).map(({ operation, object }) => ({
        o: { operation, id: operation === 'update' ? f.id : undefined, object },
        x: { status: [400], prefix: '.object' },
      })),
      fc.array(badOp(f), { minLength: 1, maxLength: 2 }).map((d) => ({
        o: { operation: 'patch', id: f.id, patch_directives: [...changingOps(f), ...d] },
        x: { status: [400, 409, 422], prefix: '.patch_directives' },
      })),
      fc.constant({ o: { operation: 'patch', id: f.id }, x: { status: [400], field: '.patch_directives' } }),
    );
    return fc.record({
      slug: fc.constant(slug),
      bad: fc.oneof(
        env.map((e) => ({ env: e })),
        fc.array(op, { minLength: 1, maxLength: 4 }).map((ops) => ({ ops })),
      ),
    });
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
          return {
            status: x.status,
            ...(x.field !== undefined ? { field: `operations.${i}${x.field}` } : {}),
            ...(x.prefix !== undefined ? { prefix: `operations.${i}${x.prefix}` } : {}),
          };
        }),
      );
    }
    await unchanged(f, req);
  });
});
