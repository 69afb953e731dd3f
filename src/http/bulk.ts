import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Filter } from '../store/records.js';
import { isPlainObject } from '../resources/kit/service/core.js';
import { AppError, invalid } from '../core/errors.js';
import { ID_PATTERN } from '../core/ids.js';
import { badKey, decodeKey, encodeKey, pageLimit } from '../resources/kit/paging.js';
import { errorResponses, SERVICE_VALIDATED } from '../resources/kit/routes.js';
import type { AppServices } from '../resources/kit/context.js';
import type { Resource } from '../resources/kit/define.js';
import type { LoadView } from '../bulk/loader.js';
import { exportChunks, exportPlan } from '../bulk/export.js';
import type { Format } from '../bulk/reader.js';
import { BULK_LOAD_MAX_BYTES, receiveFile, type ReceivedFile } from '../bulk/upload.js';

/**
 * Bulk loads and exports:
 * - POST /bulkLoads/{tenantId}?resource=slug&format=csv|jsonl&source_file=name: the raw body (CSV or
 *   JSON Lines) is streamed to a file under <dataDir>/uploads, then loaded in the background (202);
 * - GET /bulkLoads/{tenantId}/{id}: status and counters; GET …/{id}/errors: the rejected rows;
 * - GET /exports/{tenantId}/{resource}?format=csv|jsonl&fields=a,b.c: every record, streamed.
 * The routes live in their own plugin: its body parser takes any content type as a stream to a file
 * (bounded by BULK_LOAD_MAX_BYTES, not BODY_LIMIT), and the JSON parser of the API does not apply.
 */
export interface BulkRouteOptions {
  /** Largest upload (default BULK_LOAD_MAX_BYTES, 1 GiB). */
  maxBytes?: number;
  /** Largest page of /errors (default 1000). */
  pageSizeMax?: number;
}

const FORMAT_OF_TYPE: Record<string, Format> = {
  'text/csv': 'csv',
  'application/csv': 'csv',
  'application/x-ndjson': 'jsonl',
  'application/jsonl': 'jsonl',
  'application/x-jsonlines': 'jsonl',
  'application/jsonlines': 'jsonl',
};
const FORMATS = ['csv', 'jsonl'];

/** What the route decided before its body is read. */
interface PendingLoad {
  resource: Resource;
  format: Format;
  sourceFile: string;
  dryRun: boolean;
}
const pending = new WeakMap<FastifyRequest, PendingLoad>();

/** The parsed body: the stored file. Its JSON form (the Idempotency-Key fingerprint) is the content hash. */
class UploadBody {
  claimed = false;
  constructor(readonly file: ReceivedFile) {}
  toJSON() {
    return { sha256: this.file.sha256, bytes: this.file.bytes };
  }
}

const idParam = Type.String({ pattern: ID_PATTERN });
const slugParam = Type.String({ pattern: '^[A-Za-z]{1,64}$' });
const fieldError = Type.Object({ field: Type.String(), reason: Type.String() });
const STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'];
const status = Type.Union(STATUSES.map((s) => Type.Literal(s)));
const accepted = Type.Object({
  id: Type.String(),
  resource: Type.String(),
  status,
  source_file: Type.String(),
  rows_read: Type.Integer(),
  rows_written: Type.Integer(),
  rows_rejected: Type.Integer(),
  rows_unchanged: Type.Integer(),
  dry_run: Type.Boolean({ description: 'true: every row validated and counted (rows_written: would be written), nothing written' }),
});
const loadView = Type.Object({
  ...accepted.properties,
  started_at: Type.String({ format: 'date-time', description: 'when the load was accepted' }),
  finished_at: Type.Optional(Type.String({ format: 'date-time' })),
  cancel_requested_at: Type.Optional(
    Type.String({ format: 'date-time', description: 'when a cancel was asked for (the load ends cancelled at its next chunk)' }),
  ),
  error: Type.Optional(Type.String({ description: 'why a failed load failed (rows rejected one by one are in /errors, not here)' })),
});
const exportQuery = Type.Object({
  format: Type.Optional(Type.String({ enum: FORMATS, description: 'default csv' })),
  fields: Type.Optional(
    Type.String({
      maxLength: 8000,
      description: 'comma-separated fields (dotted paths allowed); default: every field and sys_external_id',
    }),
  ),
});
const SOURCE_FILE_RE = /^[^\u0000-\u001f\u007f]{1,255}$/;

/** The errors page's key: the last row number of the page (the loads list keys by id: kit/paging.ts). */
function keyOf(row: number) {
  return Buffer.from(JSON.stringify({ row })).toString('base64url');
}
function rowOfKey(key: string | undefined): number {
  if (key === undefined || key === '') return 0;
  const bad = () => badKey();
  if (key.length > 128 || !/^[A-Za-z0-9_-]+$/.test(key)) throw bad();
  try {
    const row = (JSON.parse(Buffer.from(key, 'base64url').toString('utf8')) as { row?: unknown }).row;
    if (typeof row === 'number' && Number.isSafeInteger(row) && row >= 0) return row;
  } catch {
    /* below */
  }
  throw bad();
}

function dryRunOf(req: FastifyRequest): boolean {
  const v = (req.query as { dryRun?: string }).dryRun;
  if (v === undefined || v === 'false') return false;
  if (v === 'true') return true;
  throw invalid([{ field: 'dryRun', reason: 'must be true or false' }], 'bad_request');
}

function formatOf(req: FastifyRequest): Format {
  const q = (req.query as { format?: string }).format;
  if (q !== undefined) {
    if (!FORMATS.includes(q)) throw invalid([{ field: 'format', reason: 'must be one of: "csv", "jsonl"' }], 'bad_request');
    return q as Format;
  }
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
  const f = FORMAT_OF_TYPE[type];
  if (!f) {
    throw new AppError(
      'unsupported_media_type',
      `send the file as text/csv or application/x-ndjson (JSON Lines), or name its format with ?format=csv|jsonl (got ${type || 'no Content-Type'})`,
    );
  }
  return f;
}

/** source_file: the query parameter, else the file name of a Content-Disposition header, else upload.<format>. */
function sourceFileOf(req: FastifyRequest, format: Format): string {
  const q = (req.query as { source_file?: string }).source_file;
  if (q !== undefined) {
    if (!SOURCE_FILE_RE.test(q))
      throw invalid([{ field: 'source_file', reason: 'must be 1 to 255 characters, without control characters' }], 'bad_request');
    return q;
  }
  const cd = req.headers['content-disposition'];
  const m = typeof cd === 'string' ? /filename="?([^";]+)"?/i.exec(cd) : null;
  const name = m ? path.basename(m[1]!.trim()) : '';
  return name && SOURCE_FILE_RE.test(name) ? name : `upload.${format}`;
}

/** 200 of a streamed file (sent as a stream, never serialized): what the OpenAPI document says of it. */
const streamed = (description: string) => ({
  description,
  content: { 'text/csv': { schema: Type.String() }, 'application/x-ndjson': { schema: Type.String() } },
});

export function registerBulkRoutes(app: FastifyInstance, services: AppServices, auth: onRequestHookHandler, opts: BulkRouteOptions) {
  const loads = services.bulkLoads;
  const maxBytes = opts.maxBytes ?? BULK_LOAD_MAX_BYTES;
  const pageSizeMax = opts.pageSizeMax ?? 1000;
  const security = [{ bearerAuth: [] }];

  /** An export, streamed: every record of the resource, or those a search body selects. */
  const sendExport = (req: FastifyRequest, reply: FastifyReply, body: unknown) => {
    const slug = (req.params as { resource: string }).resource;
    const q = req.query as { format?: string; fields?: string };
    const resource = loads.exportable(slug);
    const format = (q.format ?? 'csv') as Format;
    const plan = exportPlan(resource, format, q.fields);
    const service = services.resource(slug);
    let filters: Filter[] = [];
    if (body !== undefined) {
      if (!isPlainObject(body)) throw invalid([{ field: '(body)', reason: 'must be an object (the search body of the resource)' }]);
      filters = service.searchFilters(body);
    }
    const stream = Readable.from(exportChunks(services.store.db, service.table, req.ctx.tenantId, plan, filters));
    return reply
      .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
      .header('content-disposition', `attachment; filename="${slug}.${format}"`)
      .send(stream);
  };

  // In the API's scope (its JSON body parser), not in the upload scope below.
  app.post('/exports/:tenantId/:resource', {
    onRequest: auth,
    config: { scope: 'read' },
    schema: {
      operationId: 'exports_search',
      tags: ['Bulk loads'],
      security,
      summary: 'The records a search selects, as CSV or JSON Lines, streamed in id order',
      description:
        "The body is the resource's search body (as for POST /{resource}/{tenantId}/search, validated the same way); the answer is the export of the records it selects, in the columns and formats of GET /exports/{tenantId}/{resource}.",
      produces: ['text/csv', 'application/x-ndjson'],
      params: Type.Object({ tenantId: idParam, resource: slugParam }),
      querystring: exportQuery,
      body: Object.assign(
        Type.Object({}, { additionalProperties: true, description: 'the search body of the resource (its <Type>Search schema)' }),
        { [SERVICE_VALIDATED]: true },
      ),
      response: { 200: streamed('the records the search selects, streamed'), ...errorResponses(400, 401, 403, 404) },
    },
    handler: (req, reply) => sendExport(req, reply, req.body ?? {}),
  });

  return app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', async (req: FastifyRequest, payload: NodeJS.ReadableStream) => {
      if (!pending.has(req)) throw new AppError('unsupported_media_type', 'this route takes no body');
      const length = req.headers['content-length'];
      const file = await receiveFile(payload as Readable, loads.dir, maxBytes, length !== undefined ? Number(length) : undefined);
      return new UploadBody(file);
    });
    // An upload no load took (a refused header, a replayed Idempotency-Key, an error) is removed.
    scope.addHook('onResponse', async (req) => {
      const body = req.body;
      if (body instanceof UploadBody && !body.claimed) fs.rmSync(loads.filePath(body.file.fileName), { force: true });
    });

    /**
     * Starting a load: POST /bulkLoads/{tenantId}?resource=slug. The older form
     * POST /bulkLoads/{tenantId}/{resource} has the shape of GET /bulkLoads/{tenantId}/{id}, which
     * OpenAPI 3.1 forbids (two templated paths of the same hierarchy); it still works for one release,
     * hidden from the OpenAPI document.
     */
    const startLoad = (url: string, legacy: boolean) =>
      scope.post(url, {
        onRequest: auth,
        config: { scope: 'write' },
        // Decided before the body is read: a load that cannot start costs no upload.
        preParsing: async (req, _reply, payload) => {
          const slug = legacy ? (req.params as { resource: string }).resource : (req.query as { resource?: string }).resource;
          if (slug === undefined || slug === '')
            throw invalid([{ field: 'resource', reason: 'is required: the resource to load, e.g. ?resource=programs' }], 'bad_request');
          const resource = loads.loadable(slug);
          if (resource.def.adminOnlyWrites && !req.ctx.actor.scopes.has('certifications:admin')) {
            throw new AppError('forbidden', `loading ${resource.def.slug} needs the scope certifications:admin`);
          }
          const format = formatOf(req);
          pending.set(req, { resource, format, sourceFile: sourceFileOf(req, format), dryRun: dryRunOf(req) });
          return payload;
        },
        schema: {
          ...(legacy ? { hide: true } : {}),
          operationId: legacy ? 'bulkLoads_createLegacy' : 'bulkLoads_create',
          tags: ['Bulk loads'],
          security,
          summary: 'Load a CSV or JSON Lines file into a resource, in the background',
          description:
            'The body is the file itself (text/csv with a header row of field names, dotted for nested fields, `;` between the items of a list; or application/x-ndjson, one JSON object per line). ' +
            'Each row is validated and written like a create; a row with a sys_external_id that names an existing record replaces it when it differs (rows_unchanged when not). ' +
            'Answers 202 at once; follow the load with GET /bulkLoads/{tenantId}/{id} and its rejected rows with …/errors. An id column is refused (400).',
          consumes: ['text/csv', 'application/x-ndjson', 'application/jsonl'],
          params: legacy ? Type.Object({ tenantId: idParam, resource: slugParam }) : Type.Object({ tenantId: idParam }),
          querystring: Type.Object({
            ...(legacy
              ? {}
              : { resource: Type.String({ pattern: '^[A-Za-z]{1,64}$', description: 'the resource to load, e.g. programs' }) }),
            format: Type.Optional(Type.String({ enum: FORMATS, description: 'default: from the Content-Type' })),
            dryRun: Type.Optional(
              Type.String({
                enum: ['true', 'false'],
                description: 'true: validate and count every row (references, rules, duplicates) and write nothing',
              }),
            ),
            source_file: Type.Optional(
              Type.String({ maxLength: 255, description: 'the name of the file, stamped on every record as sys_bulk_load_source_file' }),
            ),
          }),
          body: Object.assign(Type.String({ description: 'the file (CSV or JSON Lines)' }), { [SERVICE_VALIDATED]: true }),
          response: { 202: accepted, ...errorResponses(400, 401, 403, 404, 413, 415) },
        },
        handler: async (req, reply) => {
          const body = req.body;
          const p = pending.get(req);
          if (!(body instanceof UploadBody) || !p) {
            throw new AppError('bad_request', 'the body is empty: send the file to load', {
              errors: [{ field: '(body)', reason: 'is empty' }],
            });
          }
          const view: LoadView = await loads.accept(req.ctx, p.resource, p.format, p.sourceFile, body.file, { dryRun: p.dryRun });
          body.claimed = true;
          reply.code(202).header('location', `/bulkLoads/${req.ctx.tenantId}/${view.id}`);
          const { id, resource, status, source_file, rows_read, rows_written, rows_rejected, rows_unchanged, dry_run } = view;
          return { id, resource, status, source_file, rows_read, rows_written, rows_rejected, rows_unchanged, dry_run };
        },
      });
    startLoad('/bulkLoads/:tenantId', false);
    startLoad('/bulkLoads/:tenantId/:resource', true);

    scope.get('/bulkLoads/:tenantId/:id', {
      onRequest: auth,
      config: { scope: 'read' },
      schema: {
        operationId: 'bulkLoads_get',
        tags: ['Bulk loads'],
        security,
        summary: 'Status and counters of a bulk load',
        params: Type.Object({ tenantId: idParam, id: idParam }),
        response: { 200: loadView, ...errorResponses(400, 401, 403, 404) },
      },
      handler: (req) => loads.view(req.ctx.tenantId, (req.params as { id: string }).id),
    });

    scope.get('/bulkLoads/:tenantId/:id/errors', {
      onRequest: auth,
      config: { scope: 'read' },
      schema: {
        operationId: 'bulkLoads_errors',
        tags: ['Bulk loads'],
        security,
        summary: 'The rows a bulk load rejected, in row order, with the reason for each field',
        params: Type.Object({ tenantId: idParam, id: idParam }),
        querystring: Type.Object({
          limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$', description: 'page size (default 100)' })),
          exclusiveStartKey: Type.Optional(Type.String({ maxLength: 128, description: 'LastEvaluatedKey of the previous page' })),
        }),
        response: {
          200: Type.Object({
            Items: Type.Array(
              Type.Object({
                row: Type.Integer({ description: 'data row number, from 1 (the CSV header is not a row)' }),
                errors: Type.Array(fieldError),
              }),
            ),
            LastEvaluatedKey: Type.Optional(Type.String()),
          }),
          ...errorResponses(400, 401, 403, 404),
        },
      },
      handler: async (req) => {
        const q = req.query as { limit?: string; exclusiveStartKey?: string };
        const limit = pageLimit(q.limit, 100, pageSizeMax);
        const page = await loads.errors(req.ctx.tenantId, (req.params as { id: string }).id, rowOfKey(q.exclusiveStartKey), limit);
        return { Items: page.items, ...(page.last !== undefined ? { LastEvaluatedKey: keyOf(page.last) } : {}) };
      },
    });

    scope.get('/bulkLoads/:tenantId', {
      onRequest: auth,
      config: { scope: 'read' },
      schema: {
        operationId: 'bulkLoads_list',
        tags: ['Bulk loads'],
        security,
        summary: 'The bulk loads of the tenant, newest first',
        params: Type.Object({ tenantId: idParam }),
        querystring: Type.Object({
          resource: Type.Optional(slugParam),
          status: Type.Optional(Type.String({ enum: STATUSES, description: 'only loads with this status' })),
          limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$', description: 'page size (default 100)' })),
          exclusiveStartKey: Type.Optional(Type.String({ maxLength: 128, description: 'LastEvaluatedKey of the previous page' })),
        }),
        response: {
          200: Type.Object({ Items: Type.Array(loadView), LastEvaluatedKey: Type.Optional(Type.String()) }),
          ...errorResponses(400, 401, 403),
        },
      },
      handler: async (req) => {
        const q = req.query as { resource?: string; status?: string; limit?: string; exclusiveStartKey?: string };
        if (q.status !== undefined && !STATUSES.includes(q.status))
          throw invalid([{ field: 'status', reason: `must be one of: ${STATUSES.map((s) => `"${s}"`).join(', ')}` }], 'bad_request');
        const page = await loads.list(req.ctx.tenantId, {
          resource: q.resource,
          status: q.status as LoadView['status'] | undefined,
          before: decodeKey(q.exclusiveStartKey),
          limit: pageLimit(q.limit, 100, pageSizeMax),
        });
        return { Items: page.items, ...(page.last !== undefined ? { LastEvaluatedKey: encodeKey(page.last) } : {}) };
      },
    });

    scope.post('/bulkLoads/:tenantId/:id/cancel', {
      onRequest: auth,
      config: { scope: 'write' },
      schema: {
        operationId: 'bulkLoads_cancel',
        tags: ['Bulk loads'],
        security,
        summary: 'Cancel a queued or running bulk load',
        description:
          'The load stops at its next chunk: the rows already written stay, and it ends `cancelled` with its counters. Answers 202 with the load (still running until the job sees the cancel); a load that has ended is a 409.',
        params: Type.Object({ tenantId: idParam, id: idParam }),
        response: { 202: loadView, ...errorResponses(400, 401, 403, 404, 409) },
      },
      handler: async (req, reply) => {
        const view = await loads.cancel(req.ctx.tenantId, (req.params as { id: string }).id);
        return reply.code(202).send(view);
      },
    });

    scope.get('/bulkLoads/:tenantId/:id/rejects', {
      onRequest: auth,
      config: { scope: 'read' },
      schema: {
        operationId: 'bulkLoads_rejects',
        tags: ['Bulk loads'],
        security,
        summary: 'The rejected rows as a file in the format of the load, with their errors: fix it and load it again',
        description:
          'CSV: the header of the loaded file plus an `error` column (`_error` for a resource with a field named error), one row per rejected row with its cells as read. ' +
          'JSON Lines: each rejected object with `_errors` ([{ field, reason }]). A load ignores the error column and `_errors`.',
        produces: ['text/csv', 'application/x-ndjson'],
        params: Type.Object({ tenantId: idParam, id: idParam }),
        response: { 200: streamed('the rejected rows, in the format of the load'), ...errorResponses(400, 401, 403, 404) },
      },
      handler: async (req, reply) => {
        const { load, chunks } = await loads.rejects(req.ctx.tenantId, (req.params as { id: string }).id);
        return reply
          .type(load.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
          .header('content-disposition', `attachment; filename="${load.resource}-rejects-${load.id}.${load.format}"`)
          .send(Readable.from(chunks));
      },
    });

    scope.get('/exports/:tenantId/:resource', {
      onRequest: auth,
      config: { scope: 'read' },
      schema: {
        operationId: 'exports_get',
        tags: ['Bulk loads'],
        security,
        summary: 'Every record of a resource as CSV or JSON Lines, streamed in id order',
        description:
          'CSV: a header row of field names (nested fields dotted, lists of scalars joined with `;`, other lists and free-form objects as JSON text). ' +
          'By default every field of the resource and sys_external_id, without id: what a bulk load takes back. `fields` chooses the columns (id and sys_* fields may be named).',
        produces: ['text/csv', 'application/x-ndjson'],
        params: Type.Object({ tenantId: idParam, resource: slugParam }),
        querystring: exportQuery,
        response: { 200: streamed('the records, streamed'), ...errorResponses(400, 401, 403, 404) },
      },
      handler: (req, reply) => sendExport(req, reply, undefined),
    });
  });
}
