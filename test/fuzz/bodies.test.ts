import { test } from 'node:test';
import fc from 'fast-check';
import { check, type Expect, fx, SLUGS, rejected, type Req, unchanged, useFuzzApp, validText } from './harness.js';

/** Bad input never hurts (see harness.ts): Malformed bodies and wrong content types on every route that takes a body. */
useFuzzApp();

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'application/json-patch+json'];
const OTHER_TYPES = [
  'text/plain',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/jsonx',
  'text/json',
  'application/octet-stream',
  '*/*',
];
const BROKEN_TYPES = ['', ';', 'application/', '/json', 'application/json; charset', 'application/json; charset=utf-16le'];

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
    ct: fc.oneof(
      { arbitrary: fc.constantFrom(...JSON_TYPES), weight: 3 },
      fc.constantFrom(...OTHER_TYPES),
      fc.constantFrom(...BROKEN_TYPES),
    ),
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
        const evil = [
          '"__proto__":{"sys_locked":true}',
          '"__proto__":null',
          '"constructor":{"prototype":{"x":1}}',
          '"a":{"__proto__":{"x":1}}',
        ][payload.which]!;
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
