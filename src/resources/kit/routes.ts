import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, onRequestHookHandler } from 'fastify';
import { ID_PATTERN } from '../../core/ids.js';
import type { Resource } from './define.js';
import type { AppServices } from './context.js';
import { PatchOperationSchema } from './patch.js';
import { etag } from './paging.js';
import { BATCH_MAX, JsonText, type ResourceService } from './service.js';

/**
 * Turns a resource into its routes: list, create, search, batch, get, update, patch, delete, one per
 * lookup, one per action. Bodies are validated by the service (one path for HTTP and batch); the body
 * schemas here document them and are marked so that Fastify does not validate them a second time.
 */
export const SERVICE_VALIDATED = Symbol('accredit.serviceValidated');
const viaService = <T extends object>(s: T): T => Object.assign(s, { [SERVICE_VALIDATED]: true });

const ref = (name: string) => ({ $ref: `${name}#` });
const idParam = Type.String({ pattern: ID_PATTERN });
const tenantParams = Type.Object({ tenantId: idParam });
const limit = Type.String({ pattern: '^[0-9]{1,6}$', description: 'page size (default 100)' });
const exclusiveStartKey = Type.String({ maxLength: 512, description: 'LastEvaluatedKey of the previous page' });
const fields = Type.String({
  maxLength: 4000,
  description: 'comma-separated fields to return (dotted paths allowed); id is always returned',
});
const pageQuery = Type.Object({
  fields: Type.Optional(fields),
  exclusiveStartKey: Type.Optional(exclusiveStartKey),
  limit: Type.Optional(limit),
});

/** Route responses for these statuses, each the shared Error schema. */
export const errorResponses = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, ref('Error')]));

/** Schemas shared by all resources (registered once): errors, patch operations, batch envelopes. */
export function sharedSchemas(): TSchema[] {
  const fieldError = Type.Object({ field: Type.String(), reason: Type.String() });
  return [
    Type.Object(
      {
        statusCode: Type.Integer(),
        error: Type.String(),
        code: Type.String(),
        message: Type.String(),
        errors: Type.Optional(Type.Array(fieldError)),
        referenced_by: Type.Optional(
          Type.Array(Type.Object({ resource: Type.String(), id: Type.String(), field: Type.String() }), {
            description: 'on a refused delete: the records that still refer to this one (at most 20)',
          }),
        ),
        requestId: Type.String(),
      },
      { $id: 'Error' },
    ),
    PatchOperationSchema,
  ];
}

/** Schemas of one resource, named after its type (BillingRun, BillingRunInput, BillingRunSearch). */
export function resourceSchemas(r: Resource): TSchema[] {
  const t = r.def.typeName;
  return [
    { ...r.recordSchema, $id: t, title: r.def.singular },
    {
      ...r.inputSchema,
      $id: `${t}Input`,
      description: `the fields of a ${r.def.singular}; id and sys_* fields are set by the server (sys_* in a body are ignored)`,
    },
    { ...r.searchSchema, $id: `${t}Search` },
  ] as TSchema[];
}

export function registerResource(
  app: FastifyInstance,
  r: Resource,
  service: ResourceService,
  auth: onRequestHookHandler,
  services: AppServices,
) {
  const { slug, typeName: t, name } = r.def;
  /** operationId `<slug>_<operation>` (docs/api.md); on a singleton get/update/patch name the root routes, so the by-id ones end in ById. */
  const opId = (op: string) => `${slug}_${r.def.singleton && ['get', 'update', 'patch'].includes(op) ? `${op}ById` : op}`;
  const recordId = Type.String({ pattern: r.idPattern });
  const recordParams = Type.Object({ tenantId: idParam, id: recordId });
  const base = `/${slug}/:tenantId`;
  const tags = [name];
  const security = [{ bearerAuth: [] }];
  const listResponse = Type.Object({
    Count: Type.Integer(),
    Items: Type.Array(ref(t) as unknown as TSchema),
    LastEvaluatedKey: Type.Optional(Type.String()),
  });
  const withEtag = (reply: FastifyReply, version: number) => reply.header('etag', etag(version));
  /** Pages come back as JSON text (stored records spliced in as they are): sent without re-serializing. */
  const sendText = (reply: FastifyReply, out: JsonText) => reply.type('application/json; charset=utf-8').send(out.text);
  const common = (scope: 'read' | 'write' | 'admin') => ({ onRequest: auth, config: { scope } });
  const writeScope = r.def.adminOnlyWrites ? 'admin' : 'write';

  if (r.def.singleton) registerSingleton(app, r, service, common, withEtag, writeScope);
  else
    app.get(base, {
      ...common('read'),
      schema: {
        tags,
        security,
        operationId: opId('list'),
        summary: `List ${name.toLowerCase()}`,
        params: tenantParams,
        querystring: pageQuery,
        response: { 200: listResponse, ...errorResponses(400, 401, 403) },
      },
      handler: async (req, reply) => sendText(reply, await service.list(req.ctx, req.query as object)),
    });

  app.post(base, {
    ...common(writeScope),
    schema: {
      tags,
      security,
      operationId: opId('create'),
      summary: `Create a ${r.def.singular}`,
      description: 'The server generates the id; an id in the body is a 400.',
      params: tenantParams,
      body: viaService(ref(`${t}Input`)),
      response: { 201: ref(t), ...errorResponses(400, 401, 403, 413) },
    },
    handler: async (req, reply) => {
      const rec = await service.create(req.ctx, req.body);
      withEtag(reply, rec.sys_version).code(201);
      return service.present(rec);
    },
  });

  app.post(`${base}/search`, {
    ...common('read'),
    schema: {
      tags,
      security,
      operationId: opId('search'),
      summary: `Search ${name.toLowerCase()}`,
      description:
        'Strings match case-insensitively as "contains"; arrays match any of their values; [from, to] ranges are inclusive and either end may be empty.',
      params: tenantParams,
      querystring: Type.Object({
        fieldsToReturn: Type.Optional(fields),
        exclusiveStartKey: Type.Optional(exclusiveStartKey),
        limit: Type.Optional(limit),
      }),
      body: viaService(ref(`${t}Search`)),
      response: {
        200: Type.Object({ Items: Type.Array(ref(t) as unknown as TSchema), LastEvaluatedKey: Type.Optional(Type.String()) }),
        ...errorResponses(400, 401, 403),
      },
    },
    handler: async (req, reply) => sendText(reply, await service.search(req.ctx, req.body ?? {}, req.query as object)),
  });

  const batchOp = Type.Object({
    operation: Type.String({ enum: ['create', 'update', 'patch', 'delete'] }),
    id: Type.Optional(recordId),
    object: Type.Optional(ref(`${t}Input`) as unknown as TSchema),
    patch_directives: Type.Optional(Type.Array(ref('PatchOperation') as unknown as TSchema)),
  });
  app.post(`${base}/batch`, {
    ...common(writeScope),
    schema: {
      tags,
      security,
      operationId: opId('batch'),
      summary: `Create, update, patch or delete up to ${BATCH_MAX} ${name.toLowerCase()}`,
      description: 'Each operation succeeds or fails on its own; all run in one transaction.',
      params: tenantParams,
      body: viaService(Type.Object({ operations: Type.Array(batchOp, { minItems: 1, maxItems: BATCH_MAX }) })),
      response: {
        200: Type.Object({
          success_count: Type.Integer(),
          error_count: Type.Integer(),
          results: Type.Array(
            Type.Object({
              index: Type.Integer(),
              operation: Type.String(),
              id: Type.Optional(Type.String()),
              status: Type.Integer(),
              success: Type.Boolean(),
              object: Type.Optional(ref(t) as unknown as TSchema),
              error: Type.Optional(
                Type.Object({
                  code: Type.String(),
                  message: Type.String(),
                  errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), reason: Type.String() }))),
                }),
              ),
            }),
          ),
        }),
        ...errorResponses(400, 401, 403, 413),
      },
    },
    handler: async (req) => {
      const out = await service.batch(req.ctx, req.body);
      if (r.def.derived) for (const x of out.results) if (x.object) x.object = service.present(x.object);
      return out;
    },
  });

  for (const l of r.def.lookups ?? []) {
    app.get(`${base}/${l.segment}/:value`, {
      ...common('read'),
      schema: {
        tags,
        security,
        operationId: opId(l.name ?? `listBy${l.segment[0]!.toUpperCase()}${l.segment.slice(1)}`),
        summary: l.summary ?? `List ${name.toLowerCase()} by ${l.field}`,
        params: Type.Object({ tenantId: idParam, value: Type.String({ minLength: 1, maxLength: 256, pattern: '^[^\\u0000-\\u001f]+$' }) }),
        querystring: pageQuery,
        response: { 200: listResponse, ...errorResponses(400, 401, 403) },
      },
      handler: async (req, reply) =>
        sendText(reply, await service.lookup(req.ctx, l, (req.params as { value: string }).value, req.query as object)),
    });
  }

  if (r.def.history) {
    app.get(`${base}/history/:id`, {
      ...common('read'),
      schema: {
        tags,
        security,
        operationId: opId('history'),
        summary: `The change history of a ${r.def.singular}, newest first`,
        description: `Each entry: when, by whom, how (create, update, patch, or a process such as activate), and the changed fields (${r.def.history.join(', ')}) as [before, after].`,
        params: recordParams,
        querystring: Type.Object({ exclusiveStartKey: Type.Optional(exclusiveStartKey), limit: Type.Optional(limit) }),
        response: {
          200: Type.Object({
            Count: Type.Integer(),
            Items: Type.Array(
              Type.Object({
                id: Type.String(),
                at: Type.String(),
                by_id: Type.String(),
                via: Type.String(),
                changes: Type.Object({}, { additionalProperties: true }),
              }),
            ),
            LastEvaluatedKey: Type.Optional(Type.String()),
          }),
          ...errorResponses(400, 401, 403, 404),
        },
      },
      handler: (req) => service.history(req.ctx, (req.params as { id: string }).id, req.query as object),
    });
  }

  for (const a of r.def.actions ?? []) {
    const params = Object.fromEntries(
      [...a.path.matchAll(/:(\w+)/g)].map((m) => [m[1]!, a.params?.[m[1]!] ?? (m[1] === 'id' ? recordId : idParam)]),
    );
    const route = {
      ...common(a.method === 'GET' ? 'read' : (a.scope ?? writeScope)),
      schema: {
        tags,
        security,
        operationId: opId(a.name),
        summary: a.summary,
        description: a.description,
        params: Type.Object({ tenantId: idParam, ...params }),
        ...(a.page ? { querystring: pageQuery } : a.query ? { querystring: a.query } : {}),
        response: { [a.status ?? 200]: a.page ? listResponse : a.response!, ...errorResponses(400, 401, 403, 404) },
      },
      handler: async (req: any, reply: FastifyReply) => {
        const out = await a.handler(services, req.ctx, {
          tenantId: req.ctx.tenantId,
          params: req.params,
          body: req.body,
          query: req.query ?? {},
        });
        reply.code(a.status ?? 200);
        return out instanceof JsonText ? sendText(reply, out) : out;
      },
    };
    if (a.method === 'GET') app.get(`${base}/${a.path}`, route);
    else app.post(`${base}/${a.path}`, route);
  }

  app.get(`${base}/:id`, {
    ...common('read'),
    schema: {
      tags,
      security,
      operationId: opId('get'),
      summary: `Get a ${r.def.singular}`,
      params: recordParams,
      querystring: Type.Object({
        fields: Type.Optional(fields),
        consistentRead: Type.Optional(
          Type.String({
            enum: ['true', 'false'],
            description:
              'true: read from the primary; otherwise a streaming replica may answer (when the server has DATABASE_REPLICA_URLS). Send X-Consistency-Token from a write to read at least that write.',
          }),
        ),
      }),
      response: { 200: ref(t), ...errorResponses(400, 401, 403, 404) },
    },
    handler: async (req, reply) => {
      const { record, text, version } = await service.get(req.ctx, (req.params as { id: string }).id, req.query as object);
      withEtag(reply, version);
      return text ? sendText(reply, text) : record;
    },
  });

  const ifMatch = Type.Object({ 'if-match': Type.Optional(Type.String({ description: 'ETag of the version you read; 412 when stale' })) });
  app.put(`${base}/:id`, {
    ...common(writeScope),
    schema: {
      tags,
      security,
      operationId: opId('update'),
      summary: `Replace a ${r.def.singular}`,
      description: 'A sys_version in the body is a precondition (409 when stale), as is If-Match (412).',
      params: recordParams,
      headers: ifMatch,
      body: viaService(ref(`${t}Input`)),
      response: { 200: ref(t), ...errorResponses(400, 401, 403, 404, 409, 412, 423) },
    },
    handler: async (req, reply) => {
      const rec = await service.update(req.ctx, (req.params as { id: string }).id, req.body, req.headers['if-match']);
      withEtag(reply, rec.sys_version);
      return service.present(rec);
    },
  });

  app.patch(`${base}/:id`, {
    ...common(writeScope),
    schema: {
      tags,
      security,
      operationId: opId('patch'),
      summary: `Patch a ${r.def.singular} (RFC 6902)`,
      description:
        'All operations apply or none; a failed test is a 409; a result that breaks the schema is a 422. `test /sys_version` works as a precondition; `replace /sys_locked` locks and unlocks.',
      params: recordParams,
      headers: ifMatch,
      body: viaService(Type.Array(ref('PatchOperation') as unknown as TSchema, { minItems: 1 })),
      response: { 200: ref(t), ...errorResponses(400, 401, 403, 404, 409, 412, 422, 423) },
    },
    handler: async (req, reply) => {
      const rec = await service.patch(req.ctx, (req.params as { id: string }).id, req.body, req.headers['if-match']);
      withEtag(reply, rec.sys_version);
      return service.present(rec);
    },
  });

  app.delete(`${base}/:id`, {
    ...common(writeScope),
    schema: {
      tags,
      security,
      operationId: opId('delete'),
      summary: `Delete a ${r.def.singular}`,
      params: recordParams,
      headers: ifMatch,
      response: { 200: Type.String({ description: 'the id of the deleted record' }), ...errorResponses(401, 403, 404, 409, 412, 423) },
    },
    handler: async (req, reply) => {
      const id = await service.remove(req.ctx, (req.params as { id: string }).id, req.headers['if-match']);
      // A bare JSON string, as the API documents.
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(id));
    },
  });
}

/**
 * A singleton (one record per tenant, id = tenant id) is also read and changed at the resource's
 * root: GET, PUT and PATCH /settings/{tenantId}, as the reference shows; GET there replaces list.
 */
function registerSingleton(
  app: FastifyInstance,
  r: Resource,
  service: ResourceService,
  common: (scope: 'read' | 'write' | 'admin') => { onRequest: onRequestHookHandler; config: { scope: 'read' | 'write' | 'admin' } },
  withEtag: (reply: FastifyReply, version: number) => FastifyReply,
  writeScope: 'write' | 'admin',
) {
  const base = `/${r.def.slug}/:tenantId`;
  const tags = [r.def.name];
  const security = [{ bearerAuth: [] }];
  const t = r.def.typeName;
  const ifMatch = Type.Object({ 'if-match': Type.Optional(Type.String()) });
  app.get(base, {
    ...common('read'),
    schema: {
      tags,
      security,
      operationId: `${r.def.slug}_get`,
      summary: `Get the tenant's ${r.def.singular}`,
      params: tenantParams,
      querystring: Type.Object({ fields: Type.Optional(fields) }),
      response: { 200: ref(t), ...errorResponses(400, 401, 403, 404) },
    },
    handler: async (req, reply) => {
      const { record, text, version } = await service.get(req.ctx, req.ctx.tenantId, req.query as object);
      withEtag(reply, version);
      return text ? reply.type('application/json; charset=utf-8').send(text.text) : record;
    },
  });
  app.put(base, {
    ...common(writeScope),
    schema: {
      tags,
      security,
      operationId: `${r.def.slug}_update`,
      summary: `Replace the tenant's ${r.def.singular}`,
      params: tenantParams,
      headers: ifMatch,
      body: viaService(ref(`${t}Input`)),
      response: { 200: ref(t), ...errorResponses(400, 401, 403, 404, 409, 412, 423) },
    },
    handler: async (req, reply) => {
      const rec = await service.update(req.ctx, req.ctx.tenantId, req.body, req.headers['if-match']);
      withEtag(reply, rec.sys_version);
      return service.present(rec);
    },
  });
  app.patch(base, {
    ...common(writeScope),
    schema: {
      tags,
      security,
      operationId: `${r.def.slug}_patch`,
      summary: `Patch the tenant's ${r.def.singular} (RFC 6902)`,
      params: tenantParams,
      headers: ifMatch,
      body: viaService(Type.Array(ref('PatchOperation') as unknown as TSchema, { minItems: 1 })),
      response: { 200: ref(t), ...errorResponses(400, 401, 403, 404, 409, 412, 422, 423) },
    },
    handler: async (req, reply) => {
      const rec = await service.patch(req.ctx, req.ctx.tenantId, req.body, req.headers['if-match']);
      withEtag(reply, rec.sys_version);
      return service.present(rec);
    },
  });
}
