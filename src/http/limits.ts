import crypto from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { AppError } from '../core/errors.js';

/**
 * Per-token rate limit: each bearer token (or, without one, each client address) may make
 * `perMinute` requests a minute; past that a 429 with Retry-After. Counters live in the process:
 * behind a load balancer each process counts its own share.
 */
export async function installRateLimit(app: FastifyInstance, perMinute: number) {
  await app.register(rateLimit, {
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
