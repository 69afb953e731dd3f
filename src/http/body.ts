import type { FastifyInstance } from 'fastify';
import { invalid } from '../core/errors.js';

/**
 * JSON bodies (application/json and application/json-patch+json; anything else is a 415), parsed
 * with Fastify's prototype-poisoning protection, then walked once (iteratively) to refuse what no
 * record needs and what would hurt later: nesting deeper than MAX_DEPTH (recursive validators and
 * serializers), NUL characters and unpaired surrogates (PostgreSQL text cannot hold them).
 * An empty body is "no body" (actions such as refresh take none).
 */
export const MAX_DEPTH = 32;

export function checkJsonValue(root: unknown): string | null {
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return 'contains a NUL character';
      if (!(v as string & { isWellFormed(): boolean }).isWellFormed()) return 'contains an unpaired UTF-16 surrogate';
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_DEPTH) return `is nested more than ${MAX_DEPTH} levels deep`;
    if (Array.isArray(v)) for (const x of v) stack.push([x, depth + 1]);
    else
      for (const [k, x] of Object.entries(v)) {
        stack.push([k, depth + 1]);
        stack.push([x, depth + 1]);
      }
  }
  return null;
}

export function installJsonParser(app: FastifyInstance) {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', 'application/json-patch+json'], { parseAs: 'string' }, (req, body, done) => {
    if (body === '' || (Buffer.isBuffer(body) && body.length === 0)) return done(null, undefined);
    parseJson(req, body as string, (err: Error | null, value?: unknown) => {
      if (err) return done(err);
      const why = checkJsonValue(value);
      if (why) return done(invalid([{ field: '(body)', reason: why }], 'bad_request'));
      done(null, value);
    });
  });
}
