import crypto from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { AppError } from '../core/errors.js';
import type { HitCounter } from '../store/limits.js';

// the plugin passes the window as a third argument, which its type declarations leave out
type Incr = (
  key: string,
  cb: (err: Error | null, res?: { current: number; ttl: number }) => void,
  timeWindow?: number,
  max?: number,
) => void;

/** @fastify/rate-limit's store interface over the shared counters. */
function sharedStore(counter: HitCounter) {
  return class SharedStore {
    incr: Incr = (key, cb, timeWindow, max) => {
      const now = Date.now();
      counter.hit(`t:${key}`, timeWindow ?? 60_000, max ?? 0, now).then(
        (r) => cb(null, { current: r.count, ttl: r.resetAt - now }),
        (e: Error) => cb(e),
      );
    };
    child() {
      return new SharedStore();
    }
  };
}

/**
 * Per-token rate limit: each bearer token (or, without one, each client address) may make
 * `perMinute` requests a minute; past that a 429 with Retry-After. The counters are shared by every
 * process on the database (store/limits.ts), so the limit holds across workers and hosts.
 */
export async function installRateLimit(app: FastifyInstance, perMinute: number, counter: HitCounter) {
  await app.register(rateLimit, {
    store: sharedStore(counter),
    // the database not answering is the request's problem, not the limiter's: count nothing then
    skipOnError: true,
    global: true,
    max: perMinute,
    timeWindow: 60_000,
    cache: 50_000,
    allowList: (req: FastifyRequest) => req.url === '/health',
    keyGenerator: (req: FastifyRequest) => {
      const h = req.headers.authorization;
      return h ? `t:${crypto.createHash('sha256').update(h).digest('base64url').slice(0, 22)}` : `ip:${req.ip}`;
    },
    errorResponseBuilder: (_req, ctx) =>
      new AppError('too_many_requests', `rate limit of ${ctx.max} requests a minute reached; retry in ${Math.ceil(ctx.ttl / 1000)} s`, {
        headers: { 'retry-after': String(Math.ceil(ctx.ttl / 1000)) },
      }),
  });
}
