import { Type } from '@sinclair/typebox';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import { ID_PATTERN } from '../core/ids.js';
import type { AppServices } from '../resources/kit/context.js';
import { errorResponses, SERVICE_VALIDATED } from '../resources/kit/routes.js';
import { OPERATORS } from '../queries/definitions.js';
import { MAX_LIMIT, type QueryService } from '../queries/service.js';

/**
 * Query execution routes (issue #9), after the System API's asynchronous queries:
 * - POST /queries/{tenantId}/run/{queryType}/{outputFormat} starts a run (202, its id and URLs);
 * - GET  /queries/{tenantId}/describe/{id} tells its status, row count and size;
 * - GET  /queries/{tenantId}/result/{id} streams its rows as JSON or CSV (409 until it SUCCEEDED).
 * queryType is the id of a query definition (GET /queryDefinitions/{tenantId}), i.e. a resource slug.
 * Run needs the write scope (it starts work), describe and result the read scope.
 */
const tenantId = Type.String({ pattern: ID_PATTERN });
const queryId = Type.String({ pattern: '^[0-9a-fA-F-]{1,64}$', description: 'the id run answered' });
const status = Type.Union([Type.Literal('RUNNING'), Type.Literal('SUCCEEDED'), Type.Literal('FAILED')]);

const node = Type.Unknown({
  description: `a condition { field, operator, value } (operator: ${OPERATORS.join(', ')}; value typed as the field, [from, to] for between, an array for in / not_in, none for is_empty / is_not_empty) or a nested { all | any } group`,
});
const criteria = Type.Object(
  { all: Type.Optional(Type.Array(node)), any: Type.Optional(Type.Array(node)) },
  { additionalProperties: false, description: 'all = AND, any = OR, both = (all) AND (any); up to 10 groups deep and 200 conditions' },
);
const sortField = Type.Union([
  Type.String({ description: '"field" (ascending) or "-field" (descending)' }),
  Type.Object({ field: Type.String(), direction: Type.Optional(Type.String({ enum: ['asc', 'desc'] })) }, { additionalProperties: false }),
]);
const runBody = Type.Object(
  {
    criteria: Type.Optional(criteria),
    output_fields: Type.Optional(
      Type.Array(Type.String(), { minItems: 1, maxItems: 200, description: "default: the definition's default_output_fields" }),
    ),
    sort_fields: Type.Optional(Type.Array(sortField, { maxItems: 10, description: 'default: id; id always ends the order' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: MAX_LIMIT })),
    offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
    name: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
// documented here, checked by the service (one place for the field-named 400s)
Object.assign(runBody, { [SERVICE_VALIDATED]: true });

const runResponse = Type.Object({
  id: Type.String(),
  name: Type.String(),
  query_type: Type.String(),
  output_format: Type.String(),
  status,
  executionArn: Type.String({ description: 'also readable (with progress) at GET /executions/{tenantId}/{executionArn}' }),
  describe_url: Type.String(),
  result_url: Type.String(),
});
const describeResponse = Type.Object({
  id: Type.String(),
  name: Type.String(),
  query_type: Type.String(),
  output_format: Type.String(),
  status,
  row_count: Type.Union([Type.Integer(), Type.Null()]),
  size_bytes: Type.Union([Type.Integer(), Type.Null()], { description: 'bytes of the rendered output, as counted by the run' }),
  created_at: Type.String({ format: 'date-time' }),
  completed_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  result_url: Type.String(),
  error: Type.Union([Type.String(), Type.Null()]),
});

export function registerQueryRoutes(app: FastifyInstance, services: AppServices, auth: onRequestHookHandler): QueryService {
  const queries = services.queries;
  const tags = ['Queries'];
  const security = [{ bearerAuth: [] }];
  const common = (scope: 'read' | 'write') => ({ onRequest: auth, config: { scope } });

  app.post('/queries/:tenantId/run/:queryType/:outputFormat', {
    ...common('write'),
    schema: {
      tags,
      security,
      operationId: 'queries_run',
      summary: 'Run a query (asynchronous): criteria, output fields, sort, limit, offset over one query type',
      description:
        'Checks the query (400 naming the field: an unknown field or operator, a value of the wrong type) and starts it. Poll describe_url until status is SUCCEEDED, then GET result_url.',
      params: Type.Object({
        tenantId,
        queryType: Type.String({ pattern: '^[A-Za-z][\\w]{0,63}$', description: 'a query definition id (resource slug)' }),
        outputFormat: Type.String({ enum: ['json', 'csv'] }),
      }),
      body: runBody,
      response: { 202: runResponse, ...errorResponses(400, 401, 403, 404, 413) },
    },
    handler: async (req, reply) => {
      const { queryType, outputFormat } = req.params as { queryType: string; outputFormat: string };
      const out = await queries.run(req.ctx, queryType, outputFormat, req.body);
      reply.code(202).header('location', out.describe_url);
      return out;
    },
  });

  app.get('/queries/:tenantId/describe/:id', {
    ...common('read'),
    schema: {
      tags,
      security,
      operationId: 'queries_describe',
      summary: 'Status, row count and size of a query run, and where to get its result',
      params: Type.Object({ tenantId, id: queryId }),
      response: { 200: describeResponse, ...errorResponses(400, 401, 403, 404) },
    },
    handler: (req) => queries.describe(req.ctx, (req.params as { id: string }).id),
  });

  app.get('/queries/:tenantId/result/:id', {
    ...common('read'),
    schema: {
      tags,
      security,
      operationId: 'queries_result',
      summary: 'The rows of a query run, streamed as JSON ({"Items":[…],"Count":n}) or CSV (header row of the output fields)',
      description: '409 while the run is RUNNING or when it FAILED. The rows are read when downloaded, in the query order.',
      params: Type.Object({ tenantId, id: queryId }),
      produces: ['application/json', 'text/csv'],
      // 200 documents the stream (sent as it is, never serialized)
      response: {
        200: {
          description: 'the rows, in the format the run was started with',
          content: {
            'application/json': {
              schema: Type.Object({ Items: Type.Array(Type.Object({}, { additionalProperties: true })), Count: Type.Integer() }),
            },
            'text/csv': { schema: Type.String({ description: 'a header row of the output fields, then one row per record' }) },
          },
        },
        ...errorResponses(400, 401, 403, 404, 409),
      },
    },
    handler: async (req, reply) => {
      const r = await queries.result(req.ctx, (req.params as { id: string }).id);
      reply.header('content-type', r.contentType).header('cache-control', 'no-store');
      if (r.format === 'csv') reply.header('content-disposition', `attachment; filename="${r.filename}"`);
      return reply.send(r.stream);
    },
  });
  return queries;
}
