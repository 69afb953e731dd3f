import { Type, type TSchema } from '@sinclair/typebox';
import { sql } from 'kysely';
import type { HitCounter } from '../store/limits.js';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { AppError, invalid } from '../core/errors.js';
import { ID_PATTERN } from '../core/ids.js';
import type { RequestContext } from '../core/context.js';
import type { AppServices } from '../resources/kit/context.js';
import { decodeKey, pageLimit, toPage } from '../resources/kit/paging.js';
import { columnName, type StoredRecord } from '../store/records.js';
import { DIRECTORY_FIELDS, entryOf, listingScope, listsNothing, parseCriteria, publishedFields, type Criterion, type DirectoryEntry, type DirectoryLike } from '../domain/registry/publishing.js';
import { pickCertificate, verdict } from '../domain/registry/verification.js';
import { effectiveStatus, standing } from '../domain/lifecycle/standing.js';
import { effectiveStatusSql, standingSql } from '../store/standing.js';

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
 * The public routes have no auth hook; they are limited per client address (PUBLIC_RATE_LIMIT_PER_MINUTE,
 * default 60 a minute over both routes together; a 429 carries Retry-After), apart from the per-token
 * limit of the rest of the API. Their work runs in the tenant's scope like every :tenantId route
 * (app.ts wraps the handler); the request context they set names an anonymous actor.
 */
export const PUBLIC_PAGE_DEFAULT = 20;
export const PUBLIC_PAGE_MAX = 100;

/** Fixed one-minute windows per client address, counted in the store shared by every process. */
export class SharedLimiter {
  constructor(
    readonly max: number,
    private readonly counter: HitCounter,
    private readonly windowMs = 60_000,
  ) {}
  async take(key: string, now = Date.now()): Promise<{ allowed: boolean; remaining: number; retryAfterS: number }> {
    const w = await this.counter.hit(`p:${key}`, this.windowMs, this.max, now);
    return { allowed: w.count <= this.max, remaining: Math.max(0, this.max - w.count), retryAfterS: Math.max(1, Math.ceil((w.resetAt - now) / 1000)) };
  }
}

const anonymous = (req: FastifyRequest, tenantId: string): RequestContext => ({
  tenantId,
  actor: { sub: 'anonymous', tenants: [tenantId], scopes: new Set() },
  requestId: String(req.id),
  clientIp: req.ip,
});

// ---- data access ------------------------------------------------------------------------------------

export class Registry {
  constructor(private readonly s: AppServices) {}

  today() {
    return this.s.clock.now().toISOString().slice(0, 10);
  }

  private get certs() {
    return this.s.resource('certifications');
  }

  async directory(tenantId: string, id: string): Promise<DirectoryLike | undefined> {
    return (await this.s.resource('directories').table.get(this.s.store.db, tenantId, id)) as DirectoryLike | undefined;
  }

  /** The text of a top-level field of the stored JSON (fields without an extracted column). */
  private jsonText(field: string) {
    return this.s.store.dialect === 'postgres' ? sql<string>`(data ->> ${field}::text)` : sql<string>`json_extract(data, ${`$.${field}`})`;
  }

  private condition(c: Criterion, today: string) {
    // status and standing are today's (domain/lifecycle/standing.ts), as the records and verify show them
    if (c.field === 'status') return sql<boolean>`${effectiveStatusSql(today)} = ${String(c.value)}`;
    if (c.field === 'standing') return sql<boolean>`${standingSql(today)} = ${String(c.value)}`;
    const column = this.certs.table.spec.columns.find((col) => col.path.length === 1 && col.path[0] === c.field);
    const expr = column ? sql.ref(column.name) : this.jsonText(c.field);
    if (c.kind === 'contains') {
      const pattern = `%${String(c.value).toLowerCase().replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
      return sql<boolean>`lower(${expr}) like ${pattern} escape '\\'`;
    }
    if (c.kind === 'number') {
      if (column?.type === 'num') return sql<boolean>`${expr} = ${c.value}`;
      // a number inside the JSON, compared as its text (whole numbers only)
      return sql<boolean>`${this.s.store.dialect === 'postgres' ? expr : sql`cast(${expr} as text)`} = ${String(c.value)}`;
    }
    return sql<boolean>`${expr} = ${String(c.value)}`;
  }

  private async programNames(tenantId: string, ids: string[]): Promise<Map<string, string | undefined>> {
    const out = new Map<string, string | undefined>();
    if (!ids.length) return out;
    const rows = await this.s.store.db.selectFrom(this.s.resource('programs').table.spec.name).select(['id', 'data']).where('tenant_id', '=', tenantId).where('id', 'in', ids).execute();
    for (const r of rows) out.set(String(r.id), ((typeof r.data === 'string' ? JSON.parse(r.data) : r.data) as { name?: string }).name);
    return out;
  }

  /** A certification with today's status and standing (what the lifecycle says it is now). */
  private asOfToday(rec: StoredRecord, today: string): StoredRecord {
    const s = standing(rec, today);
    return { ...rec, status: effectiveStatus(rec, today), ...(s ? { standing: s } : {}) } as StoredRecord;
  }

  /** One page of a directory's entries matching the query's criteria. */
  async entries(tenantId: string, d: DirectoryLike, query: Record<string, unknown>) {
    const { criteria, errors } = parseCriteria(query, d);
    if (errors.length) throw invalid(errors, 'bad_request');
    const limit = pageLimit(query.limit, PUBLIC_PAGE_DEFAULT, PUBLIC_PAGE_MAX);
    const after = decodeKey(query.exclusiveStartKey as string | undefined);
    const scope = listingScope(d);
    if (listsNothing(scope)) return { Count: 0, Items: [] as DirectoryEntry[] };
    const spec = this.certs.table.spec;
    const today = this.today();
    // Listed by today's status: an active certification past its grace end counts as inactive (it lapsed).
    const stored = scope.statuses.includes('inactive') && !scope.statuses.includes('active') ? [...scope.statuses, 'active'] : scope.statuses;
    let q = this.s.store.db
      .selectFrom(spec.name)
      .select(['id', 'data'])
      .where('tenant_id', '=', tenantId)
      .where(sql.ref(columnName(['status'])), 'in', stored)
      .where(sql<string>`${effectiveStatusSql(today)}`, 'in', scope.statuses);
    if (scope.programIds) q = q.where(sql.ref(columnName(['program_id'])), 'in', scope.programIds);
    for (const c of criteria) q = q.where(() => this.condition(c, today));
    if (after !== undefined) q = q.where('id', '>', after);
    const rows = (await q.orderBy('id').limit(limit + 1).execute()).map((r) => ({
      id: String(r.id),
      rec: (typeof r.data === 'string' ? JSON.parse(r.data) : r.data) as StoredRecord,
    }));
    const { items, lastKey } = toPage(rows, limit);
    const names = await this.programNames(tenantId, [...new Set(items.map((i) => String(i.rec.program_id)))]);
    const published = publishedFields(d);
    const Items = items.map((i) => entryOf(this.asOfToday(i.rec, today), published, names.get(String(i.rec.program_id))));
    return { Count: Items.length, Items, ...(lastKey ? { LastEvaluatedKey: lastKey } : {}) };
  }

  /** Certificate `number` of programme `programId`, as an employer sees it today. */
  async verify(tenantId: string, programId: string, number: number) {
    const db = this.s.store.db;
    const today = this.today();
    const unknown = () => new AppError('not_found', `no certificate ${number} in programme ${programId}`, { details: { valid: false } });
    const program = await this.s.resource('programs').table.get(db, tenantId, programId);
    if (!program) throw unknown();
    const rows = await db
      .selectFrom(this.certs.table.spec.name)
      .select('data')
      .where('tenant_id', '=', tenantId)
      .where(sql.ref(columnName(['program_id'])), '=', programId)
      .where(sql.ref(columnName(['number'])), '=', number)
      .orderBy('id')
      .limit(100)
      .execute();
    const cert = pickCertificate(rows.map((r) => (typeof r.data === 'string' ? JSON.parse(r.data) : r.data) as StoredRecord), today);
    if (!cert) throw unknown();
    const v = verdict(cert, today);
    const s = standing(cert, today);
    const opt = (k: string) => (typeof cert[k] === 'string' ? { [k]: cert[k] as string } : {});
    return {
      valid: v.valid,
      checked_on: today,
      program: { id: programId, ...(typeof program.name === 'string' ? { name: program.name } : {}) },
      number: cert.number as number,
      holder: { name: String(cert.name ?? '') },
      status: String(effectiveStatus(cert, today)),
      ...(s ? { standing: s } : {}),
      ...opt('certification_date'),
      ...opt('expiration_date'),
      in_grace_period: v.in_grace_period,
      ...opt('grace_period_end_date'),
    };
  }
}

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
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$', description: `page size (default ${PUBLIC_PAGE_DEFAULT}, at most ${PUBLIC_PAGE_MAX})` })),
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
    status: Type.String({ description: "today's status: inactive once it is past the end of its grace period (lapsed), even before the lifecycle sweep has written it" }),
    standing: Type.Optional(
      Type.String({
        enum: ['current', 'in_grace', 'lapsed_reinstatable', 'lapsed'],
        description: "the certification's standing today, as its record shows it (absent when suspended or retired); valid = current or in_grace",
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
  const registry = new Registry(services);
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
        throw new AppError('too_many_requests', `the public registry allows ${limiter.max} requests a minute per client address; retry in ${r.retryAfterS} s`, {
          headers: { 'retry-after': String(r.retryAfterS) },
        });
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
      summary: 'Search a public directory (no token)',
      description:
        'Query parameters are the directory\'s searchable field names (strings: case-insensitive contains; number: exact; status, program_id and dates: exact), plus limit and exclusiveStartKey. Entries show the certificate number and programme and the directory\'s published fields only. A directory that is not public is a 404. Limited per client address (429 with Retry-After).',
      params: Type.Object({ tenantId, id: directoryId }),
      querystring: entriesQuery,
      response: { 200: entriesPage, 400: ErrorRef, 404: ErrorRef, 429: ErrorRef },
    },
    handler: async (req) => {
      const { id } = req.params as { id: string };
      const d = await registry.directory(req.ctx.tenantId, id);
      if (!d || d.is_public !== true) throw notFound(id);
      return registry.entries(req.ctx.tenantId, d, req.query as Record<string, unknown>);
    },
  });

  app.get('/public/verify/:tenantId/:programId/:number', {
    onRequest: publicRequest,
    schema: {
      tags,
      security: [],
      summary: 'Is certificate number N of a programme valid today? (no token)',
      description:
        'The holder\'s name, the status, the certification and expiration dates and whether the certification is in its grace period. valid: active and today is on or before the grace period end (or the expiration date). An unknown number or programme is a 404 with valid: false. Limited per client address (429 with Retry-After).',
      params: Type.Object({ tenantId, programId, number: Type.String({ pattern: '^[0-9]{1,15}$', description: 'the certificate number' }) }),
      response: { 200: verification, 400: ErrorRef, 404: verifyNotFound, 429: ErrorRef },
    },
    handler: async (req) => {
      const p = req.params as { programId: string; number: string };
      return registry.verify(req.ctx.tenantId, p.programId, Number(p.number));
    },
  });

  app.get('/directories/:tenantId/:id/entries', {
    onRequest: auth,
    config: { scope: 'read' },
    schema: {
      tags: ['Directories'],
      security: [{ bearerAuth: [] }],
      summary: 'Search a directory\'s entries (public or not), its eligibility criteria applied',
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
