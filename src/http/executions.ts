import { Type } from '@sinclair/typebox';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import { notFound } from '../core/errors.js';
import type { Executions } from '../jobs/executions.js';
import { ID_PATTERN } from '../core/ids.js';
import { errorResponses } from '../resources/kit/routes.js';
import { executionView } from '../resources/blocks.js';

/**
 * GET /executions/{tenantId}/{executionArn}: status and progress of a background execution (a
 * billing run's refresh or execute); GET …/events streams the same as server-sent events until it
 * ends. The ARN is what refresh / execute answered (the bare execution id works too). Progress is
 * read from the database, so a client may watch an execution that another server process runs.
 */
const ExecutionView = executionView('Execution');
const params = Type.Object({
  tenantId: Type.String({ pattern: ID_PATTERN }),
  executionArn: Type.String({ pattern: '^[\\w:|.-]{1,300}$' }),
});

export function registerExecutionRoutes(app: FastifyInstance, executions: Executions, auth: onRequestHookHandler, pollMs = 500) {
  const common = { onRequest: auth, config: { scope: 'read' as const } };
  const tags = ['Executions'];
  const security = [{ bearerAuth: [] }];
  const load = async (tenantId: string, arn: string) => {
    const row = await executions.get(tenantId, arn);
    if (!row) throw notFound('execution', arn);
    return executions.view(row);
  };

  app.get('/executions/:tenantId/:executionArn', {
    ...common,
    schema: {
      tags,
      security,
      operationId: 'executions_get',
      summary: 'Status and progress of a background execution (billing run refresh / execute)',
      params,
      response: { 200: ExecutionView, ...errorResponses(400, 401, 403, 404) },
    },
    handler: async (req) => {
      const { executionArn } = req.params as { executionArn: string };
      return load(req.ctx.tenantId, executionArn);
    },
  });

  app.get('/executions/:tenantId/:executionArn/events', {
    ...common,
    schema: {
      tags,
      security,
      operationId: 'executions_events',
      summary: 'Progress of an execution as server-sent events (event: progress, then event: end) until it ends',
      params,
      produces: ['text/event-stream'],
      // 200 documents the stream (written to the raw response, never serialized); errors come before it starts
      response: {
        200: {
          description:
            'server-sent events: `event: progress` with the execution (as GET /executions/{tenantId}/{executionArn}) whenever it changes, then `event: end`',
          content: { 'text/event-stream': { schema: Type.String() } },
        },
        ...errorResponses(400, 401, 403, 404),
      },
    },
    handler: async (req, reply) => {
      const { executionArn } = req.params as { executionArn: string };
      const first = await load(req.ctx.tenantId, executionArn);
      const tenantId = req.ctx.tenantId;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-request-id': String(req.id),
      });
      let last = '';
      let closed = false;
      const send = (event: string, data: unknown) => {
        const text = JSON.stringify(data);
        if (event === 'progress' && text === last) return;
        last = text;
        res.write(`event: ${event}\ndata: ${text}\n\n`);
      };
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        if (closed) return;
        closed = true;
        if (timer) clearTimeout(timer);
        executions.events.off('progress', onEvent);
        executions.events.off('end', onEvent);
        res.end();
      };
      const tick = async () => {
        if (closed) return;
        try {
          const v = await load(tenantId, executionArn);
          send('progress', v);
          if (v.status !== 'RUNNING') {
            send('end', v);
            return finish();
          }
        } catch {
          return finish();
        }
        timer = setTimeout(() => void tick(), pollMs);
      };
      // Local progress wakes the stream at once; the timer covers executions run by other processes.
      const onEvent = (e: { tenantId: string; id: string }) => {
        if (e.tenantId !== tenantId || !executionArn.endsWith(e.id)) return;
        if (timer) clearTimeout(timer);
        void tick();
      };
      executions.events.on('progress', onEvent);
      executions.events.on('end', onEvent);
      req.raw.on('close', finish);
      send('progress', first);
      if (first.status !== 'RUNNING') {
        send('end', first);
        return finish();
      }
      timer = setTimeout(() => void tick(), pollMs);
    },
  });
}
