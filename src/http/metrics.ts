import crypto from 'node:crypto';
import http from 'node:http';
import type { FastifyInstance } from 'fastify';
import client from 'prom-client';
import type { Clock } from '../core/clock.js';
import { observeQueries, type Store } from '../store/store.js';
import { pingPrimary, readBacklog, readLeases, readSweepResults } from '../store/ops.js';

/**
 * Prometheus metrics (prom-client) and the split health checks.
 *
 * - `/metrics` in the Prometheus text format: on a port of its own (`METRICS_PORT`, no token: bind it
 *   where only the scraper reaches) and/or on the API port behind `Authorization: Bearer
 *   <METRICS_TOKEN>`. Neither set: not served.
 * - `/health/live`: the process answers (for a restart policy); `/health/ready`: the primary answers a
 *   statement within 2 s (for a load balancer), 503 otherwise. `/health` stays as it was.
 *
 * Requests are labelled by route template (`/certifications/:tenantId/:id`), never by the raw URL, so
 * the series stay bounded; the database and background gauges are read when scraped.
 */
export interface MetricsOptions {
  port?: number;
  host: string;
  token?: string;
  store: Store;
  clock: Clock;
  release: string;
  /** Extra gauges a subsystem registers (replicas, sweeps …), given the registry. */
  extra?: (registry: client.Registry) => void;
}

export interface Metrics {
  registry: client.Registry;
  /** The separate listener, when METRICS_PORT is set (its address for tests). */
  server?: http.Server;
}

export async function installMetrics(app: FastifyInstance, opts: MetricsOptions): Promise<Metrics> {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'accredit_process_' });

  const requests = new client.Histogram({
    name: 'accredit_http_request_duration_seconds',
    help: 'HTTP requests by route template, method and status, with their duration',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const queries = new client.Histogram({
    name: 'accredit_db_query_duration_seconds',
    help: 'SQL statements run through the query builder, by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
    registers: [registry],
  });
  observeQueries((ms, failed) => queries.observe({ outcome: failed ? 'error' : 'ok' }, ms / 1000));

  const { store, clock } = opts;
  new client.Gauge({
    name: 'accredit_db_pool_connections',
    help: 'PostgreSQL pool connections by state (total, idle, waiting clients)',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const s = store.poolStats?.();
      if (!s) return;
      this.set({ state: 'total' }, s.total);
      this.set({ state: 'idle' }, s.idle);
      this.set({ state: 'waiting' }, s.waiting);
    },
  });
  new client.Gauge({
    name: 'accredit_background_backlog',
    help: 'Background work not done yet: running executions, unclaimed ones, mail pending and failed',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      const b = await readBacklog(store, clock.now().toISOString());
      this.set({ queue: 'executions_running' }, b.executionsRunning);
      this.set({ queue: 'executions_unclaimed' }, b.executionsUnclaimed);
      this.set({ queue: 'outbox_pending' }, b.outboxPending);
      this.set({ queue: 'outbox_failed' }, b.outboxFailed);
    },
  });
  new client.Gauge({
    name: 'accredit_lease_holder',
    help: 'Live leases (1 per lease and holder): which process leads the scheduler and the sweeps',
    labelNames: ['lease', 'owner'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const l of await readLeases(store, clock.now().toISOString())) this.set({ lease: l.name, owner: l.owner }, 1);
    },
  });
  // Sweep results over the last 24 hours, read from the executions (whichever process ran them); gauges,
  // not counters, so every API process reports the same figure and a restart does not reset it.
  const DAY_MS = 86_400_000;
  let sweeps: { at: number; value: Promise<Awaited<ReturnType<typeof readSweepResults>>> } | undefined;
  const sweepResults = () => {
    // one read per scrape, shared by the three gauges
    const now = Date.now();
    if (!sweeps || now - sweeps.at > 1000)
      sweeps = { at: now, value: readSweepResults(store, new Date(clock.now().getTime() - DAY_MS).toISOString()) };
    return sweeps.value;
  };
  new client.Gauge({
    name: 'accredit_lifecycle_sweeps_24h',
    help: 'Lifecycle sweeps (one per tenant with work due) that ended in the last 24 hours, by final status',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const r = await sweepResults();
      this.reset();
      for (const status of ['SUCCEEDED', 'FAILED', 'ABORTED']) this.set({ status }, r.runs.get(status) ?? 0);
    },
  });
  new client.Gauge({
    name: 'accredit_lifecycle_sweep_changes_24h',
    help: 'What the lifecycle sweeps of the last 24 hours did: certifications lapsed, applications expired, notices queued or not sent, changes that failed',
    labelNames: ['result'] as const,
    registers: [registry],
    async collect() {
      const r = await sweepResults();
      this.set({ result: 'lapsed' }, r.lapsed);
      this.set({ result: 'expired' }, r.expired);
      this.set({ result: 'notices_queued' }, r.noticesQueued);
      this.set({ result: 'notices_not_sent' }, r.noticesNotSent);
      this.set({ result: 'errors' }, r.errors);
    },
  });
  new client.Gauge({
    name: 'accredit_lifecycle_sweep_last_end_seconds',
    help: 'When the last lifecycle sweep ended (Unix time; absent when none ended in the last 24 hours)',
    registers: [registry],
    async collect() {
      const r = await sweepResults();
      this.reset();
      if (r.lastEnded) this.set(Date.parse(r.lastEnded) / 1000);
    },
  });
  if (store.replicas) {
    const replicas = store.replicas;
    new client.Gauge({
      name: 'accredit_replica_lag_seconds',
      help: 'How far each streaming replica was behind the primary at its last check (+Inf when down)',
      labelNames: ['replica'] as const,
      registers: [registry],
      collect() {
        for (const s of replicas.states) this.set({ replica: s.name }, s.up ? s.lagMs / 1000 : Infinity);
      },
    });
    new client.Gauge({
      name: 'accredit_reads_served',
      help: 'Reads outside transactions by where they were served (a replica or the primary), since start',
      labelNames: ['target'] as const,
      registers: [registry],
      collect() {
        for (const [target, n] of replicas.served) this.set({ target }, n);
      },
    });
  }
  new client.Gauge({
    name: 'accredit_build_info',
    help: 'The running release and storage back end',
    labelNames: ['release', 'store'] as const,
    registers: [registry],
  }).set({ release: opts.release, store: store.dialect }, 1);
  opts.extra?.(registry);

  // callback style, as the app's other hooks: no promise per request
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url;
    // unknown routes are one series, not one per URL a scanner tries
    requests.observe({ method: req.method, route: route ?? 'unmatched', status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });

  const scrape = async () => ({ type: registry.contentType, body: await registry.metrics() });
  if (opts.token) {
    const want = crypto.createHash('sha256').update(`Bearer ${opts.token}`).digest();
    app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
      const got = crypto
        .createHash('sha256')
        .update(String(req.headers.authorization ?? ''))
        .digest();
      if (!crypto.timingSafeEqual(want, got)) {
        return reply.code(401).send({
          statusCode: 401,
          error: 'Unauthorized',
          code: 'unauthorized',
          message: 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>',
          requestId: req.id,
        });
      }
      const m = await scrape();
      return reply.type(m.type).send(m.body);
    });
  }

  let server: http.Server | undefined;
  if (opts.port !== undefined) {
    const s = http.createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
        return;
      }
      scrape().then(
        (m) => res.writeHead(200, { 'content-type': m.type }).end(m.body),
        (e) => {
          app.log.error({ err: e }, 'metrics scrape failed');
          res.writeHead(500, { 'content-type': 'text/plain' }).end('scrape failed\n');
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(opts.port, opts.host, () => resolve());
    });
    server = s;
    app.addHook('onClose', async () => {
      await new Promise<void>((resolve) => s.close(() => resolve()));
    });
  }
  app.addHook('onClose', async () => observeQueries(undefined));
  return { registry, server };
}

/** `/health/live` and `/health/ready` (no token). */
export function installHealth(app: FastifyInstance, store: Store, release: string, schemaVersion: () => Promise<number | undefined>) {
  app.get('/health/live', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/health/ready', { schema: { hide: true } }, async (req, reply) => {
    const started = performance.now();
    try {
      await Promise.race([
        pingPrimary(store),
        new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 2 s')), 2000).unref()),
      ]);
    } catch (e) {
      req.log.warn({ err: e }, 'readiness: the primary database does not answer');
      return reply
        .code(503)
        .send({ status: 'unavailable', release, primary: { ok: false, error: 'the primary database does not answer' } });
    }
    const replicas = store.replicas?.states.map((s) => ({ name: s.name, up: s.up, ...(s.up ? { lag_ms: Math.round(s.lagMs) } : {}) }));
    return {
      status: 'ok',
      release,
      schema_version: await schemaVersion(),
      store: store.dialect,
      primary: { ok: true, ms: Math.round((performance.now() - started) * 10) / 10 },
      ...(replicas ? { replicas } : {}),
    };
  });
}
