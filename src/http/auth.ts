import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { SignJWT, createRemoteJWKSet, jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.js';
import { dataDirSecret as dataFolderSecret } from '../core/secret-file.js';
import type { Actor, RequestContext } from '../core/context.js';
import { ConfigError, SCOPES, formatDuration, parseDuration, type Config } from '../config.js';

/**
 * Bearer JWT verification with jose: HS256 with JWT_SECRET, or RS256/ES256 from a JWKS URL (keys are
 * fetched and cached by jose). With neither, a secret is created once in the data folder so that a
 * newcomer can try the server at once (dev mode; the start-up log prints a token).
 */
export interface Verifier {
  mode: 'secret' | 'jwks' | 'generated-secret';
  verify(token: string): Promise<Actor>;
  /**
   * Signs a token (not available with JWKS: the private key lives with the identity provider), with
   * iat and exp; `expiresIn` (e.g. 1h) beyond JWT_MAX_AGE throws a TokenLifetimeError.
   */
  sign?(claims: { sub: string; tenants: string[] | '*'; scope?: string; expiresIn?: string }): Promise<string>;
}

export const SECRET_FILE = 'jwt-secret';

/** Reads the data folder's secret, creating it (mode 0600) on first start. */
export const dataDirSecret = (dataDir: string) => dataFolderSecret(dataDir, SECRET_FILE);

const ALL_SCOPES = new Set<string>(SCOPES);
/** Each scope includes the ones below it: admin > write > read. */
export function expandScopes(list: string[]): Set<string> {
  const s = new Set(list.filter((x) => ALL_SCOPES.has(x)));
  if (s.has('certifications:admin')) s.add('certifications:write');
  if (s.has('certifications:write')) s.add('certifications:read');
  return s;
}

function toActor(p: JWTPayload, defaultScope: string): Actor {
  if (typeof p.sub !== 'string' || !p.sub) throw new AppError('unauthorized', 'the token has no subject (sub)');
  const t = (p as Record<string, unknown>).tenants;
  let tenants: string[] | '*';
  if (t === '*' || (Array.isArray(t) && t.includes('*'))) tenants = '*';
  else if (Array.isArray(t) && t.every((x) => typeof x === 'string')) tenants = t as string[];
  else throw new AppError('unauthorized', 'the token has no tenants claim (an array of tenant ids, or "*")');
  const raw = (p as Record<string, unknown>).scope;
  const scopes = typeof raw === 'string' ? raw.split(' ') : Array.isArray(raw) ? raw.map(String) : [defaultScope];
  return { sub: p.sub, tokenId: typeof p.jti === 'string' ? p.jti : undefined, tenants, scopes: expandScopes(scopes) };
}

/**
 * Verified tokens, remembered by their whole text until min(the end of their validity, 60 s) from now: a client sends the
 * same token on every request, and signature checking was a third of a GET's CPU. Bounded in size.
 */
class TokenCache {
  private readonly map = new Map<string, { actor: Actor; until: number }>();
  constructor(private readonly max = 10_000) {}
  get(token: string, now: number): Actor | undefined {
    const hit = this.map.get(token);
    if (!hit) return undefined;
    if (hit.until <= now) {
      this.map.delete(token);
      return undefined;
    }
    return hit.actor;
  }
  /** `until`: when the token stops being valid (ms), if it does. */
  set(token: string, actor: Actor, until: number | undefined, now: number) {
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value!);
    this.map.set(token, { actor, until: Math.min(now + 60_000, until ?? now + 60_000) });
  }
}

/**
 * `createSecret: false` (the token command): without JWT_SECRET the secret must already be in DATA_DIR,
 * where `serve` created it; a token signed with a new secret of its own would fit no server.
 */
export function createVerifier(config: Config, opts: { createSecret?: boolean } = {}): Verifier {
  if (opts.createSecret === false && !config.jwt.secret && !config.jwt.jwksUrl && !fs.existsSync(path.join(config.dataDir, SECRET_FILE))) {
    throw new ConfigError(
      'JWT_SECRET',
      `not set, and there is no ${path.join(config.dataDir, SECRET_FILE)}: set JWT_SECRET as the server has it, or DATA_DIR to the data folder of the server (where serve created its secret)`,
    );
  }
  const verifier = createUncachedVerifier(config);
  const cache = new TokenCache();
  return {
    ...verifier,
    async verify(token) {
      const now = Date.now();
      const hit = cache.get(token, now);
      if (hit) return hit;
      const { actor, until } = await verifier.verifyWithExp(token);
      cache.set(token, actor, until, now);
      return actor;
    },
  };
}

/**
 * A token's life, beyond what jose checks (signature, exp, nbf, iss, aud): it must carry `exp` (unless
 * JWT_ALLOW_NO_EXP), and JWT_MAX_AGE caps it counted from `iat` (issued longer ago, or made to live
 * longer than that, is refused); a token without `iat` may not expire further than JWT_MAX_AGE from
 * now. Returns when it stops being valid (ms), or throws a 401 that says why.
 */
export function checkLifetime(p: JWTPayload, jwt: Config['jwt'], nowMs: number): number | undefined {
  const now = Math.floor(nowMs / 1000);
  const cap = jwt.maxAgeS;
  const span = formatDuration(cap);
  const refuse = (why: string) => new AppError('unauthorized', why);
  if (p.exp === undefined && !jwt.allowNoExp)
    throw refuse(
      'the token has no expiry (exp): tokens must expire (the server accepts tokens without exp only with JWT_ALLOW_NO_EXP=true)',
    );
  let until = p.exp !== undefined ? p.exp * 1000 : undefined;
  if (cap > 0) {
    if (typeof p.iat === 'number') {
      if (p.exp !== undefined && p.exp - p.iat > cap)
        throw refuse(`the token is made to live longer (exp - iat) than this server allows (JWT_MAX_AGE ${span})`);
      if (now - p.iat > cap) throw refuse(`the token was issued more than ${span} ago (JWT_MAX_AGE): get a new one`);
      until = Math.min(until ?? Infinity, (p.iat + cap) * 1000);
    } else if (p.exp !== undefined && p.exp - now > cap) {
      throw refuse(`the token has no issue time (iat) and expires more than ${span} from now (JWT_MAX_AGE)`);
    }
  }
  return until;
}

/** The lifetime of a token this server signs: `expiresIn` (a span such as 1h), at most JWT_MAX_AGE; 24h (or the cap) by default. */
export function signedLifetime(jwt: Config['jwt'], expiresIn: string | undefined): number {
  const cap = jwt.maxAgeS;
  if (expiresIn === undefined) return cap > 0 ? Math.min(86_400, cap) : 86_400;
  const s = parseDuration(expiresIn);
  if (s === undefined || s <= 0) throw new TokenLifetimeError(`--expires: expected a span such as 1h, 30m or 7d, got "${expiresIn}"`);
  if (cap > 0 && s > cap)
    throw new TokenLifetimeError(`--expires ${expiresIn} is longer than the server accepts (JWT_MAX_AGE ${formatDuration(cap)})`);
  return s;
}

export class TokenLifetimeError extends Error {}

function createUncachedVerifier(
  config: Config,
): Omit<Verifier, 'verify'> & { verifyWithExp(token: string): Promise<{ actor: Actor; until?: number }> } {
  const { jwt } = config;
  const opts = { issuer: jwt.issuer, audience: jwt.audience };
  const verifyWith = async (fn: () => Promise<{ payload: JWTPayload }>) => {
    try {
      const { payload } = await fn();
      const until = checkLifetime(payload, jwt, Date.now());
      return { actor: toActor(payload, jwt.defaultScope), until };
    } catch (e) {
      if (e instanceof AppError) throw e;
      const why = e instanceof joseErrors.JWTExpired ? 'the token has expired' : 'the token is not valid';
      throw new AppError('unauthorized', why);
    }
  };
  if (jwt.jwksUrl) {
    const jwks = createRemoteJWKSet(new URL(jwt.jwksUrl));
    return {
      mode: 'jwks',
      verifyWithExp: (token) => verifyWith(() => jwtVerify(token, jwks, { ...opts, algorithms: ['RS256', 'ES256', 'PS256', 'EdDSA'] })),
    };
  }
  const generated = !jwt.secret;
  const key = new TextEncoder().encode(jwt.secret ?? dataDirSecret(config.dataDir).secret);
  return {
    mode: generated ? 'generated-secret' : 'secret',
    verifyWithExp: (token) => verifyWith(() => jwtVerify(token, key, { ...opts, algorithms: ['HS256'] })),
    async sign({ sub, tenants, scope, expiresIn }) {
      const life = signedLifetime(jwt, expiresIn);
      const iat = Math.floor(Date.now() / 1000);
      let t = new SignJWT({ tenants, ...(scope ? { scope } : {}) })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(sub)
        .setIssuedAt(iat)
        .setJti(crypto.randomUUID())
        .setExpirationTime(iat + life);
      if (jwt.issuer) t = t.setIssuer(jwt.issuer);
      if (jwt.audience) t = t.setAudience(jwt.audience);
      return t.sign(key);
    },
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    ctx: RequestContext;
  }
  interface FastifyContextConfig {
    /** The least scope the route needs; resource routes always set it. */
    scope?: 'read' | 'write' | 'admin';
  }
}

/**
 * onRequest hook of every tenant route: 401 without a valid token, 403 for a tenant the token does
 * not name or a scope it lacks. The tenant of every query comes from here, never from the body.
 */
export function authHook(verifier: Verifier) {
  return async function authenticate(req: FastifyRequest, reply: FastifyReply) {
    const h = req.headers.authorization;
    const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
    if (!m) {
      reply.header('www-authenticate', 'Bearer');
      throw new AppError('unauthorized', 'send a bearer token: Authorization: Bearer <JWT>');
    }
    let actor: Actor;
    try {
      actor = await verifier.verify(m[1]!);
    } catch (e) {
      reply.header('www-authenticate', 'Bearer error="invalid_token"');
      throw e;
    }
    const tenantId = (req.params as { tenantId?: string }).tenantId ?? '';
    if (actor.tenants !== '*' && !actor.tenants.includes(tenantId)) {
      throw new AppError('forbidden', `this token does not give access to tenant ${tenantId}`);
    }
    const need = `certifications:${req.routeOptions.config.scope ?? 'admin'}`;
    if (!actor.scopes.has(need)) throw new AppError('forbidden', `this operation needs the scope ${need}`);
    req.ctx = { tenantId, actor, requestId: String(req.id), clientIp: req.ip };
    // reads (GET, searches) may be served by a replica: consistentRead=true asks for the primary, a
    // consistency token from an earlier write for a replica at least that far along
    if (req.method === 'GET' || req.routeOptions.url?.endsWith('/search')) {
      const token = req.headers['x-consistency-token'];
      req.ctx.read = {
        consistent: (req.query as { consistentRead?: string } | undefined)?.consistentRead === 'true',
        ...(typeof token === 'string' && token ? { after: token } : {}),
      };
    }
  };
}
