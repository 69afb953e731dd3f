import { Type, type TSchema } from '@sinclair/typebox';
import type { HitCounter } from '../store/limits.js';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { AppError } from '../core/errors.js';
import { ID_PATTERN } from '../core/ids.js';
import type { RequestContext } from '../core/context.js';
import type { AppServices } from '../resources/kit/context.js';
import { DIRECTORY_FIELDS } from '../domain/registry/publishing.js';
import { PUBLIC_PAGE_DEFAULT, PUBLIC_PAGE_MAX } from '../services/registry.js';
import { registerPublicCredentialRoutes } from './credentials.js';
import { registerStorefrontRoutes } from './storefront.js';
import { registerRegistryPages } from './registry-pages.js';

/**
 * The public registry: what anyone may ask without a token, and the same directory view with one.
 *
 * - GET /public/directories/{tenantId}/{id}/search?<criterion>=<value>…: a directory with is_public,
 *   searched over its searchable fields; entries show only its published fields (see
 *   domain/registry/publishing.ts). A directory that does not exist, is not public, or belongs to
 *   another tenant is the same 404.
 * - GET /public/verify/{tenantId}/{programId}/{number}: is certificate N of a programme valid today
 *   (domain/registry/verification.ts)? Unknown number: 404 with `valid: false`.
 * - GET /directories/{tenantId}/{id}/entries?…: any directory, with a token (read scope), its
 *   eligibility criteria applied to what it lists.
 *
 * - GET /courseOfferings/{tenantId}/public/event/{event_id} and POST /examFees/{tenantId}/public/onlineStore:
 *   the catalog's public routes, in http/storefront.ts (registered here, with the same hook).
 * - GET /registry/{tenantId}… : the same registry as HTML pages for people, in http/registry-pages.ts
 *   (registered here, with the same hook).
 *
 * The public routes have no auth hook; they are limited per client address (PUBLIC_RATE_LIMIT_PER_MINUTE,
 * default 60 a minute over all of them together; a 429 carries Retry-After), apart from the per-token
 * limit of the rest of the API. Their work runs in the tenant's scope like every :tenantId route
 * (app.ts wraps the handler); the request context they set names an anonymous actor. The work is
 * services/registry.ts's.
 */

/** Fixed one-minute windows per client address, counted in the store shared by every process. */
export class SharedLimiter {
  constructor(
    readonly max: number,
    private readonly counter: HitCounter,
    private readonly windowMs = 60_000,
  ) {}
  async take(key: string, now = Date.now()): Promise<{ allowed: boolean; remaining: number; retryAfterS: number }> {
    const w = await this.counter.hit(`p:${key}`, this.windowMs, this.max, now);
    return {
      allowed: w.count <= this.max,
      remaining: Math.max(0, this.max - w.count),
      retryAfterS: Math.max(1, Math.ceil((w.resetAt - now) / 1000)),
    };
  }
}

const anonymous = (req: FastifyRequest, tenantId: string): RequestContext => ({
  tenantId,
  actor: { sub: 'anonymous', tenants: [tenantId], scopes: new Set() },
  requestId: String(req.id),
  clientIp: req.ip,
});

// ---- routes -----------------------------------------------------------------------------------------

const ErrorRef = { $ref: 'Error#' } as unknown as TSchema;
const entrySchema = Type.Object(
  {
    program: Type.Object({ id: Type.String(), name: Type.Optional(Type.String()) }),
    number: Type.Number({ description: 'certificate number' }),
    ...Object.fromEntries(
      Object.keys(DIRECTORY_FIELDS)
        .filter((f) => f !== 'program_id' && f !== 'number')
        .map((f) => [f, Type.Optional(Type.String({ description: 'when the directory publishes it' }))]),
    ),
  },
  // the response schema is a second whitelist: a field outside the registry fields is never serialized
  { additionalProperties: false, title: 'DirectoryEntry' },
);
const entriesPage = Type.Object({ Count: Type.Integer(), Items: Type.Array(entrySchema), LastEvaluatedKey: Type.Optional(Type.String()) });
const entriesQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.String({ pattern: '^[0-9]{1,6}$', description: `page size (default ${PUBLIC_PAGE_DEFAULT}, at most ${PUBLIC_PAGE_MAX})` }),
    ),
    exclusiveStartKey: Type.Optional(Type.String({ maxLength: 512, description: 'LastEvaluatedKey of the previous page' })),
  },
  { additionalProperties: Type.String({ maxLength: 200, description: 'a searchable field of the directory and the value looked for' }) },
);
const verification = Type.Object(
  {
    valid: Type.Boolean({ description: 'active, and today is on or before its expiration date or the end of its grace period' }),
    checked_on: Type.String({ format: 'date', description: 'the day the answer is about (server clock, UTC)' }),
    program: Type.Object({ id: Type.String(), name: Type.Optional(Type.String()) }),
    number: Type.Number(),
    holder: Type.Object({ name: Type.String() }),
    status: Type.String({
      description:
        "today's status: inactive once it is past the end of its grace period (lapsed), even before the lifecycle sweep has written it",
    }),
    standing: Type.Optional(
      Type.String({
        enum: ['current', 'in_grace', 'lapsed_reinstatable', 'lapsed'],
        description:
          "the certification's standing today, as its record shows it (absent when suspended or retired); valid = current or in_grace",
      }),
    ),
    certification_date: Type.Optional(Type.String()),
    expiration_date: Type.Optional(Type.String()),
    in_grace_period: Type.Boolean(),
    grace_period_end_date: Type.Optional(Type.String()),
  },
  { title: 'CertificateVerification' },
);
const verifyNotFound = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  code: Type.String(),
  message: Type.String(),
  valid: Type.Literal(false),
  requestId: Type.String(),
});

export interface PublicRouteOptions {
  /** Requests per client address per minute over the public routes; 0 = no limit. */
  perMinute: number;
  /** The counters shared by every process (store/limits.ts). */
  counter: HitCounter;
}

export function registerPublicRoutes(app: FastifyInstance, services: AppServices, auth: onRequestHookHandler, opts: PublicRouteOptions) {
  const { registry } = services;
  const limiter = opts.perMinute > 0 ? new SharedLimiter(opts.perMinute, opts.counter) : undefined;
  const directoryId = Type.String({ pattern: services.resource('directories').resource.idPattern });
  const programId = Type.String({ pattern: services.resource('programs').resource.idPattern });
  const tenantId = Type.String({ pattern: ID_PATTERN });

  /** onRequest of the public routes: the per-address limit, then an anonymous context for the tenant. */
  const publicRequest = async (req: FastifyRequest, reply: FastifyReply) => {
    if (limiter) {
      const r = await limiter.take(req.ip);
      reply.header('x-ratelimit-limit', String(limiter.max)).header('x-ratelimit-remaining', String(r.remaining));
      if (!r.allowed) {
        throw new AppError(
          'too_many_requests',
          `the public registry allows ${limiter.max} requests a minute per client address; retry in ${r.retryAfterS} s`,
          {
            headers: { 'retry-after': String(r.retryAfterS) },
          },
        );
      }
    }
    req.ctx = anonymous(req, (req.params as { tenantId?: string }).tenantId ?? '');
  };
  const notFound = (id: string) => new AppError('not_found', `directory ${id} not found`);
  const tags = ['Public registry'];

  app.get('/public/directories/:tenantId/:id/search', {
    onRequest: publicRequest,
    schema: {
      tags,
      security: [],
      operationId: 'public_searchDirectory',
      summary: 'Search a public directory (no token)',
      description:
        "Query parameters are the directory's searchable field names (strings: case-insensitive contains; number: exact; status, program_id and dates: exact), plus limit and exclusiveStartKey. Entries show the certificate number and programme and the directory's published fields only. A directory that is not public is a 404. Limited per client address (429 with Retry-After).",
      params: Type.Object({ tenantId, id: directoryId }),
      querystring: entriesQuery,
      response: { 200: entriesPage, 400: ErrorRef, 404: ErrorRef, 429: ErrorRef },
    },
    handler: async (req) => {
      const { id } = req.params as { id: string };
      const d = await registry.directory(req.ctx.tenantId, id);
      if (d?.is_public !== true) throw notFound(id);
      return registry.entries(req.ctx.tenantId, d, req.query as Record<string, unknown>);
    },
  });

  app.get('/public/verify/:tenantId/:programId/:number', {
    onRequest: publicRequest,
    schema: {
      tags,
      security: [],
      operationId: 'public_verify',
      summary: 'Is certificate number N of a programme valid today? (no token)',
      description:
        "The holder's name, the status, the certification and expiration dates and whether the certification is in its grace period. valid: active and today is on or before the grace period end (or the expiration date). An unknown number or programme is a 404 with valid: false. Limited per client address (429 with Retry-After).",
      params: Type.Object({
        tenantId,
        programId,
        number: Type.String({ pattern: '^[0-9]{1,15}$', description: 'the certificate number' }),
      }),
      response: { 200: verification, 400: ErrorRef, 404: verifyNotFound, 429: ErrorRef },
    },
    handler: async (req) => {
      const p = req.params as { programId: string; number: string };
      return registry.verify(req.ctx.tenantId, p.programId, Number(p.number));
    },
  });

  registerStorefrontRoutes(app, services, publicRequest);
  registerRegistryPages(app, services, publicRequest);
  registerPublicCredentialRoutes(app, services, publicRequest);

  app.get('/directories/:tenantId/:id/entries', {
    onRequest: auth,
    config: { scope: 'read' },
    schema: {
      tags: ['Directories'],
      security: [{ bearerAuth: [] }],
      operationId: 'directories_entries',
      summary: "Search a directory's entries (public or not), its eligibility criteria applied",
      description:
        'As GET /public/directories/{tenantId}/{id}/search, for any directory of the tenant, with a token. With enable_eligibility_criteria, certificants + certification_options.program_ids and enable_status_restriction + status_restrictions narrow the entries; criteria about members, committees, organizations and age are not evaluated.',
      params: Type.Object({ tenantId, id: directoryId }),
      querystring: entriesQuery,
      response: { 200: entriesPage, 400: ErrorRef, 401: ErrorRef, 403: ErrorRef, 404: ErrorRef },
    },
    handler: async (req) => {
      const { id } = req.params as { id: string };
      const d = await registry.directory(req.ctx.tenantId, id);
      if (!d) throw notFound(id);
      return registry.entries(req.ctx.tenantId, d, req.query as Record<string, unknown>);
    },
  });
}
