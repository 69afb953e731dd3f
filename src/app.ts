import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import cors from '@fastify/cors';
import crypto from 'node:crypto';
import type { Config } from './config.js';
import type { ServiceParts } from './services/index.js';
import type { Clock } from './core/clock.js';
import { systemClock } from './core/clock.js';
import type { Store } from './store/store.js';
import { asTenant } from './store/tenant-scope.js';
import { AppError } from './core/errors.js';
import { authHook, type Verifier } from './http/auth.js';
import { frameworkErrors, installErrorHandler } from './http/errors.js';
import { installJsonParser } from './http/body.js';
import { installIdempotency } from './http/idempotency.js';
import { installRateLimit } from './http/limits.js';
import { registerOpenApi } from './http/openapi.js';
import { RESOURCES } from './resources/index.js';
import { registerResource, resourceSchemas, sharedSchemas } from './resources/kit/routes.js';
import { installCompilers } from './http/compilers.js';
import { composeServices, type AppServices } from './services/index.js';
import { registerJobs } from './jobs/registry.js';
import { registerExecutionRoutes } from './http/executions.js';
import { registerPublicRoutes } from './http/public.js';
import { registerCertificateRoutes } from './http/certificates.js';
import { registerCredentialRoutes } from './http/credentials.js';
import { registerQueryRoutes } from './http/queries.js';
import { registerBulkRoutes } from './http/bulk.js';
import { registerWebhookRoutes } from './http/webhooks.js';
import { installHealth, installMetrics } from './http/metrics.js';
import { readSchemaVersion } from './store/ops.js';
import { RELEASE } from './release.js';
import { openHitCounter } from './store/limits.js';

export interface AppDeps {
  config: Config;
  store: Store;
  verifier: Verifier;
  clock?: Clock;
  /** pino options or false; defaults to JSON logs at config.logLevel with secrets redacted. */
  logger?: FastifyServerOptions['logger'];
  version?: string;
  /** false: no background worker, mail sender or scheduler (tools that only need the routes). */
  background?: boolean;
  /** Tests only: a seeded CE audit draw instead of crypto.randomInt (refused outside the test runner). */
  auditDraw?: ServiceParts['auditDraw'];
  /** Tests only: a mail transport of their own (default: SMTP_URL's server, else .eml files). */
  mailTransport?: ServiceParts['mailTransport'];
}

declare module 'fastify' {
  interface FastifyInstance {
    services: AppServices;
    routeTable: { method: string; url: string }[];
  }
}

/**
 * Fastify's schema store, without its copy per route: once a schema is added, Fastify asks every route
 * for the store's contents (to build a compiler, which ours ignore) and gets a fresh copy of hundreds
 * of named schemas each time (90 ms of start-up over ~2,000 routes). This one hands out one snapshot
 * until the next schema is added; nothing writes into it.
 */
export function schemaBucket(parent?: Record<string, unknown>) {
  const store: Record<string, unknown> = { ...parent };
  let snapshot: Readonly<Record<string, unknown>> | undefined;
  return {
    add(schema: { $id?: unknown }) {
      const id = schema.$id;
      if (typeof id !== 'string' || !id) throw new Error('a shared schema needs an $id');
      if (id in store) throw new Error(`schema ${id} is already present`);
      store[id] = schema;
      snapshot = undefined;
    },
    getSchema: (id: string) => store[id],
    getSchemas: () => (snapshot ??= Object.freeze({ ...store })),
  };
}

/** The one Fastify factory, shared by the CLI (serve) and the tests. Migrations run before this. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, store, verifier } = deps;
  const clock = deps.clock ?? systemClock;
  const app = Fastify({
    logger: deps.logger ?? {
      level: config.logLevel,
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'], censor: '[redacted]' },
    },
    bodyLimit: config.bodyLimit,
    requestTimeout: config.requestTimeoutMs,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : crypto.randomUUID();
    },
    requestIdHeader: false,
    // On SIGTERM, requests on open connections are still served while the server drains (no 503s).
    return503OnClosing: false,
    // No automatic HEAD twin for each of the ~500 GET routes (a quarter of the routes, at start-up).
    exposeHeadRoutes: false,
    frameworkErrors,
    trustProxy: process.env.TRUST_PROXY === 'true',
    routerOptions: { maxParamLength: 512 },
    schemaController: { bucket: schemaBucket as never },
  });
  // callback style: no promise per request
  app.addHook('onSend', (req, reply, payload, done) => {
    reply.header('x-request-id', req.id);
    done(null, payload);
  });

  // Every route registered, for the tenant-isolation test that walks them all.
  const routeTable: { method: string; url: string }[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (r) => {
    for (const m of Array.isArray(r.method) ? r.method : [r.method]) routeTable.push({ method: m, url: r.url });
    // The work of a tenant route runs in that tenant's scope (row-level security on PostgreSQL).
    if (r.url.includes(':tenantId')) {
      const handler = r.handler;
      r.handler = function scopedHandler(this: FastifyInstance, req, reply) {
        return asTenant(req.ctx.tenantId, () => handler.call(this, req, reply));
      };
    }
  });
  installErrorHandler(app);
  const release = deps.version ?? RELEASE;
  if (config.metrics.port !== undefined || config.metrics.token) {
    const metrics = await installMetrics(app, {
      port: config.metrics.port,
      host: config.host,
      token: config.metrics.token,
      store,
      clock,
      release,
    });
    app.decorate('metricsServer', metrics.server);
  }
  // request counters shared by every process on the database (the per-token and public limits)
  const counter = openHitCounter(store, config.databaseUrl.startsWith('sqlite:') ? config.databaseUrl.slice('sqlite:'.length) : undefined);
  app.addHook('onClose', async () => counter.close());
  if (config.rateLimitPerMinute > 0) await installRateLimit(app, config.rateLimitPerMinute, counter);
  installIdempotency(app, store, clock);
  installJsonParser(app);

  await app.register(cors, {
    origin: config.corsOrigins === '*' ? '*' : config.corsOrigins,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    allowedHeaders: [
      'Authorization',
      'Content-Type',
      'If-Match',
      'Idempotency-Key',
      'X-Request-Id',
      'X-Api-Key',
      'X-Amz-Date',
      'X-Amz-Security-Token',
    ],
    exposedHeaders: ['ETag', 'X-Request-Id', 'Retry-After', 'Location', 'X-Consistency-Token'],
    maxAge: 600,
  });
  await registerOpenApi(app, release, config.publicBaseUrl);

  // Named schemas: components in OpenAPI, resolved by the lazy compilers.
  const named = new Map<string, Record<string, unknown>>();
  for (const s of [...sharedSchemas(), ...RESOURCES.flatMap(resourceSchemas)]) {
    app.addSchema(s);
    named.set(String(s.$id), s as Record<string, unknown>);
  }
  installCompilers(app, named);
  const services = composeServices({ store, config, clock, log: app.log, auditDraw: deps.auditDraw, mailTransport: deps.mailTransport });
  // every handler registered (also where no worker runs: an api process records RUNNING executions)
  const jobs = registerJobs(services);
  app.decorate('services', services);
  const auth = authHook(verifier);
  for (const r of RESOURCES) registerResource(app, r, services.resource(r.def.slug), auth, services);

  registerExecutionRoutes(app, services.executions, auth);
  registerQueryRoutes(app, services, auth);
  registerPublicRoutes(app, services, auth, { perMinute: config.publicRateLimitPerMinute, counter });
  registerCertificateRoutes(app, services, auth, config.publicBaseUrl);
  registerCredentialRoutes(app, services, auth);
  await registerBulkRoutes(app, services, auth, { pageSizeMax: config.pageSizeMax });
  await registerWebhookRoutes(app, services, config.stripeWebhookSecret);

  if (store.writePosition) {
    // With replicas, a successful write answers the primary's WAL position after it: sent back as
    // X-Consistency-Token on a read, it keeps that read off any replica not yet that far along.
    const writePosition = store.writePosition;
    app.addHook('onSend', async (req, reply, payload) => {
      if (req.method !== 'GET' && req.method !== 'HEAD' && reply.statusCode < 400 && req.ctx && !req.ctx.read) {
        try {
          reply.header('x-consistency-token', await writePosition());
        } catch {
          /* no token: a later read without one may be served by any replica in bounds */
        }
      }
      return payload;
    });
  }

  // Background work (jobs/registry.ts) starts once the app is ready and stops (handing its work back) when it closes.
  if (config.role === 'worker') {
    // a worker process is not an API server: it answers health and metrics (for its supervisor) only
    app.addHook('onRequest', async (req) => {
      const p = req.url.split('?')[0]!;
      if (p === '/health' || p.startsWith('/health/') || p === '/metrics') return;
      throw new AppError(
        'misdirected',
        'this process runs background work only (ACCREDIT_ROLE=worker): send API requests to an api or all process',
      );
    });
  }
  if (deps.background !== false && config.role !== 'api') {
    app.addHook('onReady', async () => jobs.start());
  }
  app.addHook('onClose', () => jobs.stop());

  app.get('/health', { schema: { hide: true } }, async () => ({ status: 'ok', store: store.dialect }));
  installHealth(app, store, release, () => readSchemaVersion(store));
  return app;
}
