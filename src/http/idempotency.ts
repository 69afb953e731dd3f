import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { Store } from '../store/store.js';
import { idempotencyStore, type KeyRef } from '../store/idempotency.js';
import { asSystem, asTenant } from '../store/tenant-scope.js';

/**
 * Idempotent retries of POST (create, batch, actions): a request with an `Idempotency-Key` header is
 * performed once; a retry with the same key and body gets the first answer again (with
 * `Idempotent-Replayed: true`), the same key with another body is a 422, and a key whose first request
 * is still running is a 409. Keys are scoped to tenant and token subject and live 24 hours. The key is
 * claimed with an insert before the work starts, so concurrent retries cannot both perform it.
 */
export const KEY_TTL_MS = 24 * 60 * 60 * 1000;
/** A claim older than this whose request never finished (a crashed process) may be taken over. */
const ABANDONED_MS = 5 * 60 * 1000;
const KEY_RE = /^[\x21-\x7e]{1,255}$/;

declare module 'fastify' {
  interface FastifyRequest {
    idempotency?: KeyRef & { createdAt: string };
  }
}

const fingerprint = (req: FastifyRequest) =>
  crypto
    .createHash('sha256')
    .update(`${req.method} ${req.url}\n${req.body === undefined ? '' : JSON.stringify(req.body)}`)
    .digest('base64url');

export function installIdempotency(app: FastifyInstance, store: Store, clock: Clock) {
  const db = store.db;

  const preHandler = async (req: FastifyRequest, reply: FastifyReply) => {
    const raw = req.headers['idempotency-key'];
    if (raw === undefined || !req.ctx) return;
    return asTenant(req.ctx.tenantId, () => claimOrReplay(req, reply, raw));
  };

  async function claimOrReplay(req: FastifyRequest, reply: FastifyReply, raw: string | string[]) {
    const key = Array.isArray(raw) ? raw[0]! : raw;
    if (!KEY_RE.test(key)) {
      throw new AppError('bad_request', 'Idempotency-Key must be 1 to 255 visible ASCII characters', {
        errors: [{ field: 'Idempotency-Key', reason: 'must be 1 to 255 visible ASCII characters' }],
      });
    }
    const ref: KeyRef = { tenantId: req.ctx.tenantId, actor: req.ctx.actor.sub, key };
    const fp = fingerprint(req);
    const now = clock.now();
    for (let attempt = 0; attempt < 3; attempt++) {
      const createdAt = now.toISOString();
      if (await idempotencyStore.claim(db, ref, fp, createdAt)) {
        req.idempotency = { ...ref, createdAt };
        return;
      }
      const row = await idempotencyStore.find(db, ref);
      if (!row) continue; // released in between: claim again
      const age = now.getTime() - Date.parse(row.created_at);
      if (age > KEY_TTL_MS || (row.state === 'in_flight' && age > ABANDONED_MS)) {
        await idempotencyStore.release(db, ref, row.created_at);
        continue;
      }
      if (row.state === 'in_flight') {
        throw new AppError('conflict', 'a request with this Idempotency-Key is still in progress; retry later', {
          headers: { 'retry-after': '1' },
        });
      }
      if (row.fingerprint !== fp) {
        throw new AppError('unprocessable', 'this Idempotency-Key was used with another request; use a new key for a new request', {
          errors: [{ field: 'Idempotency-Key', reason: 'was used with another request' }],
        });
      }
      reply.header('idempotent-replayed', 'true');
      if (row.etag) reply.header('etag', row.etag);
      reply.code(row.status ?? 200).type(row.content_type ?? 'application/json; charset=utf-8');
      return reply.send(row.body ?? '');
    }
    throw new AppError('conflict', 'this Idempotency-Key is contended; retry later', { headers: { 'retry-after': '1' } });
  }

  const onSend = async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const ref = req.idempotency;
    if (!ref) return payload;
    req.idempotency = undefined;
    if (reply.statusCode >= 500) {
      await asTenant(ref.tenantId, () => idempotencyStore.release(db, ref, ref.createdAt));
    } else {
      await asTenant(ref.tenantId, () =>
        idempotencyStore.complete(db, ref, {
          status: reply.statusCode,
          content_type: String(reply.getHeader('content-type') ?? ''),
          etag: reply.getHeader('etag') as string | undefined,
          body: typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : JSON.stringify(payload ?? ''),
        }),
      );
    }
    return payload;
  };

  // Only POSTs take a key: the hooks go on those routes alone instead of on every request.
  // (first, as a global hook would run)
  const withHook = <T>(given: T | T[] | undefined, hook: T): T[] => [
    hook,
    ...(given === undefined ? [] : Array.isArray(given) ? given : [given]),
  ];
  app.addHook('onRoute', (r) => {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    if (!methods.includes('POST')) return;
    r.preHandler = withHook(r.preHandler, preHandler) as typeof r.preHandler;
    r.onSend = withHook(r.onSend, onSend) as typeof r.onSend;
  });

  // Expired keys are purged in the background (the lookup above also ignores them).
  const timer = setInterval(
    () => {
      asSystem(() => idempotencyStore.purgeBefore(db, new Date(clock.now().getTime() - KEY_TTL_MS).toISOString())).catch((err) =>
        app.log.warn({ err }, 'idempotency purge failed'),
      );
    },
    10 * 60 * 1000,
  );
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
}
