import type { FastifyInstance } from 'fastify';
import { invalid } from '../core/errors.js';
import { utf8Problem } from '../core/utf8.js';

/**
 * JSON bodies (application/json and application/json-patch+json; anything else is a 415), parsed
 * with Fastify's prototype-poisoning protection, then walked once (iteratively) to refuse what no
 * record needs and what would hurt later: nesting deeper than MAX_DEPTH (recursive validators and
 * serializers), NUL characters and unpaired surrogates (PostgreSQL text cannot hold them).
 * The bytes must be UTF-8 (RFC 8259): anything else is a 400, never text with U+FFFD in it.
 * An empty body is "no body" (actions such as refresh take none).
 */
export const MAX_DEPTH = 32;

/** The first problem in a parsed body, with the dotted path of the field it is in. */
export function checkJsonValue(root: unknown): { field: string; reason: string } | null {
  const stack: [unknown, number, string][] = [[root, 0, '']];
  const at = (path: string, k: string) => (path ? `${path}.${k}` : k);
  const badString = (s: string) =>
    s.includes('\u0000')
      ? 'contains a NUL character'
      : !(s as string & { isWellFormed(): boolean }).isWellFormed()
        ? 'contains an unpaired UTF-16 surrogate'
        : null;
  while (stack.length) {
    const [v, depth, path] = stack.pop()!;
    if (typeof v === 'string') {
      const why = badString(v);
      if (why) return { field: path || '(body)', reason: why };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_DEPTH) return { field: path || '(body)', reason: `is nested more than ${MAX_DEPTH} levels deep` };
    if (Array.isArray(v)) v.forEach((x, i) => stack.push([x, depth + 1, at(path, String(i))]));
    else
      for (const [k, x] of Object.entries(v)) {
        const why = badString(k);
        if (why) return { field: at(path, k), reason: `has a name that ${why}` };
        stack.push([x, depth + 1, at(path, k)]);
      }
  }
  return null;
}

export function installJsonParser(app: FastifyInstance) {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', 'application/json-patch+json'], { parseAs: 'buffer' }, (req, body, done) => {
    const buf = body as Buffer;
    if (buf.length === 0) return done(null, undefined);
    const bad = utf8Problem(buf);
    if (bad) return done(invalid([{ field: '(body)', reason: bad.reason }], 'bad_request'));
    parseJson(req, buf.toString('utf8'), (err: Error | null, value?: unknown) => {
      if (err) return done(err);
      const problem = checkJsonValue(value);
      if (problem) return done(invalid([problem], 'bad_request'));
      done(null, value);
    });
  });
}
