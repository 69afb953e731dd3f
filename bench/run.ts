/**
 * npm run bench  (node --import tsx bench/run.ts)
 *
 * Generates a large certification tenant, measures the framework ceiling (B_hello) and a minimal
 * primary-key server (B_min), then the real accredit server (a child process on 127.0.0.1) under
 * autocannon load, and prints ONE markdown table on stdout (progress goes to stderr).
 *
 * Environment:
 *   BENCH_DATABASE_URL  sqlite:<file> (default: a fresh file in $TMPDIR/accredit-bench) or postgres://…
 *                       (a PostgreSQL database whose name contains "bench": dropped and created afresh)
 *   BENCH_SCALE         certifications in the tenant (default 200000; 1000000 for the issue's figure)
 *   BENCH_DURATION      seconds of each measured phase (default 8; each has a 2 s warm-up, BENCH_WARMUP)
 *   BENCH_CONNECTIONS   connections of the throughput phases (default 64)
 *   BENCH_LATENCY_CONNECTIONS  connections of the latency phases (search/lookup p95, paging; default 4)
 *   BENCH_SERVER        bundle (default: src/ bundled as npm start runs it) | dist (tsc, module by module) | tsx
 *   BENCH_REUSE=1       keep an existing database that already holds the tenant (skips generation)
 *   BENCH_ONLY          comma-separated phases to run (hello,min,get,list,search,lookup,searchLatency,…,startup,billing)
 *   BENCH_BILLING_SCALE certifications of the billing phase's own tenant (default 100000, the issue's figure);
 *                       its database: a fresh SQLite file $BENCH_WORK_DIR/billing-<scale>.db, or on PostgreSQL
 *                       the database "<BENCH_DATABASE_URL's name>_billing" (dropped and created; never the main one)
 *   BENCH_ROUNDS        rounds of the ratio phases (default 3): B_hello, B_min, GET, PUT and PATCH run again after
 *                       the others, each ratio is the median of its per-round ratios (this VM moves identical
 *                       runs by ±10 %; alternating baseline and figure cancels most of the drift)
 *   BENCH_REPLICA_URL   PostgreSQL only: a streaming replica of BENCH_DATABASE_URL's cluster (host, port and
 *                       credentials are used, the database name is the bench's): the `replica` phase reads through it
 *   BENCH_WORKERS       the larger --workers of the `workers` phase (default: the available cores)
 *   BENCH_JSON          also write the raw results there (default $TMPDIR/accredit-bench/last-run.json)
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describeTenant, generate } from './generate.js';
import { PHASE_ORDER, phases, prepareData, type PhaseName } from './phases.js';
import type { BillingBenchResult } from './billing.js';
import { batchFloor, cores, loadWithCpu, readsServed, replicaUp, type CpuLoadResult, type FloorResult } from './scaleout.js';
import {
  buildServer,
  serverMode,
  fmtInt,
  fmtMs,
  freePort,
  load,
  procStatusKb,
  ROOT,
  rssSampler,
  signToken,
  startChild,
  waitFor200,
  WORK,
  type Child,
  type LoadResult,
  type LoadSpec,
  type ServerCommand,
} from './lib.js';

const env = process.env;
const num = (name: string, dflt: number) => (env[name] ? Number(env[name]) : dflt);
const cfg = {
  scale: num('BENCH_SCALE', 200_000),
  duration: num('BENCH_DURATION', 8),
  warmup: num('BENCH_WARMUP', 2),
  connections: num('BENCH_CONNECTIONS', 64),
  latencyConnections: num('BENCH_LATENCY_CONNECTIONS', 4),
  server: serverMode(env.BENCH_SERVER),
  reuse: env.BENCH_REUSE === '1',
  only: env.BENCH_ONLY
    ? new Set(
        env.BENCH_ONLY.split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
    : undefined,
  billingScale: num('BENCH_BILLING_SCALE', 100_000),
  rounds: Math.max(1, Math.floor(num('BENCH_ROUNDS', 3))),
  tenant: 'bench',
};
const databaseUrl = env.BENCH_DATABASE_URL || `sqlite:${path.join(WORK, `bench-${cfg.scale}.db`)}`;
const dialect = databaseUrl.startsWith('sqlite:') ? 'sqlite' : 'postgres';
const log = (s: string) => process.stderr.write(`${s}\n`);
const secret = crypto.randomBytes(36).toString('base64url');
const wanted = (p: string) => !cfg.only || cfg.only.has(p);
const ALL_PHASES = ['hello', 'min', ...PHASE_ORDER, 'floor', 'workers', 'replica', 'startup', 'billing'];
/** Anything besides the billing phase (which generates its own tenant in its own database). */
const mainWanted = ALL_PHASES.some((p) => p !== 'billing' && wanted(p));

/**
 * The billing phase's database, never the main one: on PostgreSQL "<name>_billing" next to the main
 * database (it still contains "bench"); on SQLite undefined, i.e. billing.ts's own file in WORK.
 */
function billingDatabaseUrl(): string | undefined {
  if (dialect === 'sqlite') {
    const own = path.resolve(WORK, `billing-${cfg.billingScale}.db`);
    if (path.resolve(databaseUrl.slice('sqlite:'.length)) === own)
      throw new Error(`BENCH_DATABASE_URL is ${own}, the file the billing phase deletes and re-creates: choose another file`);
    return undefined;
  }
  const u = new URL(databaseUrl);
  const name = `${decodeURIComponent(u.pathname.slice(1))}_billing`;
  if (Buffer.byteLength(name) > 63)
    throw new Error(
      `the billing phase's database "${name}" is longer than PostgreSQL's 63 bytes: shorten BENCH_DATABASE_URL's database name`,
    );
  u.pathname = `/${encodeURIComponent(name)}`;
  return u.toString();
}

/** A fresh database: delete the SQLite file, or drop and create the PostgreSQL database. */
async function freshDatabase() {
  if (dialect === 'sqlite') {
    const file = databaseUrl.slice('sqlite:'.length);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    return;
  }
  const u = new URL(databaseUrl);
  const name = decodeURIComponent(u.pathname.slice(1));
  if (!/bench/i.test(name))
    throw new Error(
      `BENCH_DATABASE_URL names database "${name}": the bench drops and recreates its database, so its name must contain "bench"`,
    );
  u.pathname = '/postgres';
  const client = new pg.Client({ connectionString: u.toString() });
  await client.connect();
  try {
    await client.query(`drop database if exists "${name.replace(/"/g, '""')}" with (force)`);
    await client.query(`create database "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

function serverEnv(port: number): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    DATA_DIR: path.join(WORK, 'data'),
    JWT_SECRET: secret,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '0',
    PORT: String(port),
  };
}

async function startAccredit(
  cmd: ServerCommand,
  extraNodeArgs: string[] = [],
  extraEnv: Record<string, string> = {},
): Promise<{ child: Child; startupMs: number }> {
  const port = await freePort();
  const t0 = performance.now();
  const child = startChild([...extraNodeArgs, ...cmd.args, 'serve'], { ...serverEnv(port), ...extraEnv }, port);
  try {
    const startupMs = await waitFor200(`http://127.0.0.1:${port}/health`, child, t0, 120_000);
    return { child, startupMs };
  } catch (e) {
    await child.stop();
    throw e;
  }
}

/**
 * Lets the storage settle before a round: the WAL folded into the database file and every dirty page
 * written out (SQLite: a TRUNCATE checkpoint and an fsync; PostgreSQL: CHECKPOINT). Otherwise the
 * kernel writes back the freshly generated 700 MB, or the previous round's writes, while the next
 * phases run, and their figures measure the write-back (GET's p99 45 ms instead of 25 in one run).
 */
async function settle() {
  if (dialect === 'sqlite') {
    const file = databaseUrl.slice('sqlite:'.length);
    const db = new Database(file);
    try {
      db.pragma('busy_timeout = 10000');
      db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      db.close();
    }
    const fd = fs.openSync(file, 'r+');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    return;
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('checkpoint');
  } catch (e) {
    log(`  (no CHECKPOINT: ${e instanceof Error ? e.message : e})`);
  } finally {
    await client.end();
  }
}

async function tinyServer(file: string, extraEnv: Record<string, string> = {}): Promise<Child> {
  const port = await freePort();
  const child = startChild(['--import', 'tsx', path.join(ROOT, 'bench/servers', file)], { ...extraEnv }, port);
  try {
    await waitFor200(
      `http://127.0.0.1:${port}/${file === 'hello.ts' ? 'hello' : 'certifications/x/x'}`,
      child,
      performance.now(),
      30_000,
    ).catch(async (e) => {
      // B_min answers 404 for an unknown record: any answer means it is up.
      if (file !== 'hello.ts') {
        const res = await fetch(`http://127.0.0.1:${port}/certifications/x/x`).catch(() => undefined);
        if (res) return 0;
      }
      throw e;
    });
    return child;
  } catch (e) {
    await child.stop();
    throw e;
  }
}

type Phase = PhaseName | 'hello' | 'min';
/** The phases of the ratio targets, measured once per round (the others once, in the first). */
const ROUND_PHASES: Phase[] = ['hello', 'min', 'get', 'put', 'patch'];
/** Inserts that grow the tenant: after every round, so that each round reads the same data. */
const LAST_PHASES: Phase[] = ['create', 'batch'];
/** Every measurement of a phase, one per round it ran in. */
const rounds: Partial<Record<Phase, LoadResult[]>> = {};
/** The round with the median req/s: what the table shows for the phase. */
const results: Partial<Record<Phase, LoadResult>> = {};
let peakRssKb: number | undefined;
const startups: number[] = [];
let certCount = cfg.scale;
const rssByPhase: Record<string, number> = {};
let billing: BillingBenchResult | undefined;
/** GET by id per --workers setting (1 and the cores), with CPU per request. */
const workerRuns: { workers: number; r: CpuLoadResult }[] = [];
let replicaRun: { r: CpuLoadResult; servedByReplica: number; lagMs?: number } | undefined;
let replicaError: string | undefined;
let floor: FloorResult | undefined;
let billingError: string | undefined;

function show(r: LoadResult, round = 1) {
  log(
    `  ${cfg.rounds > 1 ? `[${round}] ` : ''}${r.title.padEnd(22)} ${fmtInt(r.rps).padStart(7)} req/s  p50 ${fmtMs(r.p50)}  p95 ${fmtMs(r.p95)}  p99 ${fmtMs(r.p99)} ms  (${r.connections} conn, ${fmtInt(r.ok)} ok${r.non2xx ? `, ${r.non2xx} non-2xx: ${r.sampleError}` : ''}${r.errors ? `, ${r.errors} errors` : ''})`,
  );
}

async function main() {
  const load0 = os.loadavg()[0]!;
  log(
    `accredit bench: ${dialect}, ${fmtInt(cfg.scale)} certifications, ${cfg.duration} s phases, ${cfg.connections} connections; nproc ${os.cpus().length}, node ${process.version}, load ${load0.toFixed(2)}`,
  );
  fs.mkdirSync(WORK, { recursive: true });
  const unknown = [...(cfg.only ?? [])].filter((p) => !ALL_PHASES.includes(p));
  if (unknown.length) throw new Error(`BENCH_ONLY: unknown phase(s) ${unknown.join(', ')}; phases: ${ALL_PHASES.join(',')}`);
  if (mainWanted) await mainPhases();
  else log('  only the billing phase: no main tenant, no server');

  // Billing run: last, once every server above is stopped; its own tenant in its own database, in process.
  if (wanted('billing')) {
    log(`  billing run: ${fmtInt(cfg.billingScale)} certifications (BENCH_BILLING_SCALE)`);
    try {
      const { runBillingBench } = await import('./billing.js');
      billing = await runBillingBench({
        databaseUrl: billingDatabaseUrl(),
        scale: cfg.billingScale,
        tenant: cfg.tenant,
        log: (s) => log(`    ${s}`),
      });
    } catch (e) {
      billingError = e instanceof Error ? e.message : String(e);
      log(`  billing phase failed: ${e instanceof Error ? e.stack : billingError}`);
    }
  }

  const table = render(load0, os.loadavg()[0]!);
  process.stdout.write(`${table}\n`);
  const jsonFile = env.BENCH_JSON ?? path.join(WORK, 'last-run.json');
  fs.writeFileSync(
    jsonFile,
    JSON.stringify(
      {
        at: new Date().toISOString(),
        cfg,
        databaseUrl: databaseUrl.replace(/\/\/[^@]*@/, '//…@'),
        results,
        rounds,
        peakRssKb,
        rssByPhase,
        startups,
        floor,
        workerRuns,
        replicaRun,
        billing: billing?.raw,
        billingError,
        table,
      },
      null,
      2,
    ),
  );
  log(`  raw results: ${jsonFile}`);
  if (billingError) throw new Error(`the billing phase failed (the table above shows the other figures): ${billingError}`);
}

/** Data, baselines, the HTTP phases against one accredit process, start-up. */
async function mainPhases() {
  const cmd = buildServer(cfg.server, log);

  // Data.
  let g = cfg.reuse ? await describeTenant(databaseUrl, cfg.tenant) : undefined;
  if (g && g.certifications >= cfg.scale && g.programIds.length) {
    log(`  reusing ${databaseUrl} (${fmtInt(g.certifications)} certifications)`);
  } else {
    await freshDatabase();
    log(`  generating ${fmtInt(cfg.scale)} certifications into ${databaseUrl}`);
    const made = await generate({ databaseUrl, tenant: cfg.tenant, certifications: cfg.scale, log });
    log(`  generated in ${made.seconds.toFixed(1)} s`);
    g = { certifications: made.certifications, programIds: made.programIds, statusReasonIds: made.statusReasonIds };
  }
  const data = await prepareData(databaseUrl, cfg.tenant, g.programIds, g.statusReasonIds, Math.min(g.certifications, cfg.scale));
  certCount = data.certifications;
  const token = await signToken(secret, cfg.tenant);

  // Baselines: separate tiny processes, same machine, same load generator. All three servers stay up
  // while the phases run in rounds, so that each baseline is measured beside its figure every round.
  const hello = wanted('hello') ? await tinyServer('hello.ts') : undefined;
  const min = wanted('min')
    ? await tinyServer('min.ts', { DATABASE_URL: databaseUrl }).catch(async (e) => {
        await hello?.stop();
        throw e;
      })
    : undefined;
  const baselines: Partial<Record<Phase, LoadSpec>> = {
    ...(hello && {
      hello: {
        title: 'B_hello',
        url: `http://127.0.0.1:${hello.port}`,
        connections: cfg.connections,
        duration: cfg.duration,
        warmupSeconds: cfg.warmup,
        next: () => ({ path: '/hello' }),
      },
    }),
    ...(min && {
      min: {
        title: `B_min (${dialect === 'sqlite' ? 'better-sqlite3' : 'pg'})`,
        url: `http://127.0.0.1:${min.port}`,
        connections: cfg.connections,
        duration: cfg.duration,
        warmupSeconds: cfg.warmup,
        next: (i: number) => ({ path: `/certifications/${cfg.tenant}/${data.readIds[i % data.readIds.length]}` }),
      },
    }),
  };

  // The real server: every phase against one process, its memory sampled throughout.
  try {
    const { child, startupMs } = await startAccredit(cmd);
    log(`  accredit started (pid ${child.pid}, ${cfg.server}) in ${startupMs.toFixed(0)} ms (includes a migration check)`);
    const rss = rssSampler(child.pid);
    try {
      const specs: Partial<Record<Phase, LoadSpec>> = {
        ...baselines,
        ...phases(data, {
          base: `http://127.0.0.1:${child.port}`,
          token,
          duration: cfg.duration,
          warmup: cfg.warmup,
          connections: cfg.connections,
          latencyConnections: cfg.latencyConnections,
        }),
      };
      // Round 1: every phase but the inserts, reads on the pristine data first, then updates; later
      // rounds: the ratio phases; last, the inserts (they grow the tenant the rounds read).
      const steps: { round: number; order: Phase[] }[] = [];
      for (let round = 1; round <= cfg.rounds; round++)
        steps.push({ round, order: round === 1 ? ['hello', 'min', ...PHASE_ORDER.filter((p) => !LAST_PHASES.includes(p))] : ROUND_PHASES });
      steps.push({ round: 1, order: LAST_PHASES });
      for (const { round, order } of steps) {
        if (order.some((p) => p !== 'hello' && wanted(p))) await settle();
        for (const p of order) {
          if (!wanted(p) || !specs[p]) continue;
          const r = await load(specs[p]!);
          (rounds[p] ??= []).push(r);
          show(r, round);
          if (p === 'hello' || p === 'min') continue;
          const now = procStatusKb(child.pid, 'VmRSS');
          rssByPhase[p] = Math.max(rssByPhase[p] ?? 0, now ?? 0);
          log(`    server RSS after ${p}: ${now ? (now / 1024).toFixed(0) : '?'} MB (peak so far ${(rss.peakKb() / 1024).toFixed(0)} MB)`);
        }
      }
      for (const [p, rs] of Object.entries(rounds) as [Phase, LoadResult[]][])
        results[p] = [...rs].sort((a, b) => a.rps - b.rps)[Math.floor((rs.length - 1) / 2)];
      peakRssKb = rss.peakKb();
    } finally {
      rss.stop();
      await child.stop();
    }
  } finally {
    await hello?.stop();
    await min?.stop();
  }

  await scaleOutPhases(cmd, data, token);

  // Start-up on the existing (migrated, loaded) database: spawn -> first 200 on /health, 3 times.
  if (wanted('startup')) {
    await settle(); // the inserts' write-back would otherwise run during the starts
    for (let i = 0; i < 3; i++) {
      const s = await startAccredit(cmd);
      startups.push(s.startupMs);
      await s.child.stop();
    }
    log(`  start-up: ${startups.map((ms) => `${ms.toFixed(0)} ms`).join(', ')}`);
  }
}

/** The batch floor (no server), then GET by id with --workers 1 and N, and through a replica. */
async function scaleOutPhases(cmd: ServerCommand, data: Awaited<ReturnType<typeof prepareData>>, token: string) {
  if (wanted('floor')) {
    await settle();
    floor = await batchFloor(databaseUrl, data, cfg.duration);
    log(`  batch floor (raw multi-row INSERTs, one transaction per 100): ${fmtInt(floor.recordsPerSecond)} records/s`);
  }
  const getSpec = (port: number): LoadSpec => ({
    ...phases(data, {
      base: `http://127.0.0.1:${port}`,
      token,
      duration: cfg.duration,
      warmup: cfg.warmup,
      connections: cfg.connections,
      latencyConnections: cfg.latencyConnections,
    }).get!,
  });
  const showCpu = (title: string, r: CpuLoadResult) =>
    log(
      `  ${title.padEnd(26)} ${fmtInt(r.rps).padStart(7)} req/s  p99 ${fmtMs(r.p99)} ms  server CPU ${r.serverCpuMs.toFixed(3)} ms/req, load generator ${r.clientCpuMs.toFixed(3)} ms/req${r.non2xx + r.errors ? `, ${r.non2xx + r.errors} failed: ${r.sampleError}` : ''}`,
    );
  if (wanted('workers')) {
    const many = num('BENCH_WORKERS', cores());
    for (const n of [...new Set([1, many])]) {
      await settle();
      const { child } = await startAccredit(cmd, [], { WEB_CONCURRENCY: String(n) });
      try {
        // every worker must be listening before the load starts
        for (let i = 0; i < 50 * n; i++) await fetch(`http://127.0.0.1:${child.port}/health/ready`).then((r) => r.arrayBuffer());
        const r = await loadWithCpu(getSpec(child.port), child.pid, cfg.warmup);
        workerRuns.push({ workers: n, r });
        showCpu(`GET, --workers ${n}`, r);
      } finally {
        await child.stop();
      }
    }
  }
  if (wanted('replica') && dialect === 'postgres' && env.BENCH_REPLICA_URL) {
    const replica = new URL(env.BENCH_REPLICA_URL);
    replica.pathname = new URL(databaseUrl).pathname;
    const metricsToken = crypto.randomBytes(24).toString('base64url');
    await settle();
    const { child } = await startAccredit(cmd, [], {
      DATABASE_REPLICA_URLS: replica.toString(),
      METRICS_TOKEN: metricsToken,
      REPLICA_MAX_LAG_MS: '5000',
    });
    try {
      const lag = await replicaUp(child);
      const before = await readsServed(child, metricsToken);
      const r = await loadWithCpu(getSpec(child.port), child.pid, cfg.warmup);
      const after = await readsServed(child, metricsToken);
      const reads = after.primary + after.replicas - before.primary - before.replicas;
      replicaRun = { r, servedByReplica: reads ? (after.replicas - before.replicas) / reads : 0, lagMs: lag.lag_ms };
      showCpu('GET through a replica', r);
      log(`    reads served by the replica: ${(replicaRun.servedByReplica * 100).toFixed(1)} %`);
    } catch (e) {
      replicaError = e instanceof Error ? e.message : String(e);
      log(`  replica phase failed: ${replicaError}`);
    } finally {
      await child.stop();
    }
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function render(load0: number, load1: number): string {
  const rows: string[][] = [];
  const perf = (r: LoadResult | undefined, unit = 'req/s', mult = 1) =>
    r
      ? `${fmtInt(r.rps * mult)} ${unit} · p50 ${fmtMs(r.p50)} · p99 ${fmtMs(r.p99)} ms${r.non2xx || r.errors ? ` · **${r.non2xx + r.errors} failed**` : ''}`
      : 'not run';
  const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? a / b : undefined);
  const fmtRatio = (x: number | undefined) => (x === undefined ? '–' : `${x.toFixed(2)}×`);
  const met = (ok: boolean | undefined, r?: LoadResult) =>
    ok === undefined ? '–' : ok && !(r && (r.non2xx || r.errors)) ? 'yes' : '**no**';
  // The ratio of two phases measured in the same rounds: the median of the per-round ratios.
  const roundRatio = (a: Phase, b: Phase) => {
    const A = rounds[a] ?? [];
    const B = rounds[b] ?? [];
    const xs = A.slice(0, B.length)
      .map((r, i) => ratio(r.rps, B[i]!.rps))
      .filter((x): x is number => x !== undefined);
    return xs.length ? { x: median(xs), lo: Math.min(...xs), hi: Math.max(...xs), n: xs.length } : undefined;
  };
  const fmtRound = (q: ReturnType<typeof roundRatio>) =>
    !q ? '–' : q.n > 1 ? `${q.x.toFixed(2)}× (${q.lo.toFixed(2)}–${q.hi.toFixed(2)}×)` : fmtRatio(q.x);
  const nOf = (p: Phase) => rounds[p]?.length ?? 0;
  const roundsNote = (p: Phase) => (nOf(p) > 1 ? ` (median of ${nOf(p)} rounds)` : '');
  const R = results;
  const C = cfg.connections;
  const L = cfg.latencyConnections;
  const dbLabel = dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL';

  rows.push([
    'setup',
    `${dbLabel}, ${mainWanted ? `${fmtInt(certCount)} certifications, ${cfg.duration} s per phase, ${cfg.rounds} round${cfg.rounds > 1 ? 's' : ''} of ${ROUND_PHASES.filter(wanted).join(', ')}, server: ${cfg.server}` : 'billing phase only'}; nproc ${os.cpus().length}, node ${process.version}, load avg ${load0.toFixed(1)} → ${load1.toFixed(1)}`,
    '',
    '',
    '',
    '',
  ]);
  rows.push([`B_hello: empty Fastify route (${C} conn)`, perf(R.hello), '', '', '', '']);
  rows.push([`B_min: PK read, ${dialect === 'sqlite' ? 'better-sqlite3' : 'pg'}, no auth (${C} conn)`, perf(R.min), '', '', '', '']);
  const get = R.get;
  const failed = (p: Phase) => (rounds[p] ?? []).some((r) => r.non2xx || r.errors);
  const verdict = (q: ReturnType<typeof roundRatio>, ok: (x: number) => boolean, ...ps: Phase[]) =>
    q ? (ok(q.x) && !ps.some(failed) ? 'yes' : '**no**') : '–';
  const xh = roundRatio('get', 'hello');
  if (dialect === 'sqlite') {
    rows.push([
      `GET by id, JWT + ?fields= (${C} conn)`,
      perf(get) + roundsNote('get'),
      'B_hello',
      fmtRound(xh),
      '≥ 0.5×',
      verdict(xh, (x) => x >= 0.5, 'get'),
    ]);
  } else {
    rows.push([`GET by id, JWT + ?fields= (${C} conn)`, perf(get) + roundsNote('get'), 'B_hello', fmtRound(xh), '(SQLite only)', '–']);
  }
  const xm = roundRatio('get', 'min');
  rows.push([
    'GET by id vs B_min',
    get ? `${fmtInt(get.rps)} req/s` : 'not run',
    R.min ? `${fmtInt(R.min.rps)} req/s` : 'B_min',
    fmtRound(xm),
    '≥ 0.85×',
    verdict(xm, (x) => x >= 0.85, 'get'),
  ]);
  const p99s = (rounds.get ?? []).map((r) => r.p99);
  const p99 = p99s.length ? median(p99s) : undefined;
  rows.push([
    `GET by id p99 (${C} conn)`,
    p99 !== undefined ? `${fmtMs(p99)} ms${p99s.length > 1 ? ` (median; rounds: ${p99s.map(fmtMs).join(', ')})` : ''}` : 'not run',
    '',
    '',
    '≤ 25 ms',
    p99 !== undefined ? (p99 <= 25 && !failed('get') ? 'yes' : '**no**') : '–',
  ]);
  rows.push([`PUT (${C} conn)`, perf(R.put) + roundsNote('put'), 'GET', fmtRound(roundRatio('put', 'get')), '', met(undefined)]);
  const xp = roundRatio('patch', 'get');
  rows.push([
    `PATCH, 1 replace op (${C} conn)`,
    perf(R.patch) + roundsNote('patch'),
    'GET',
    fmtRound(xp),
    '≥ 0.5×',
    verdict(xp, (x) => x >= 0.5, 'patch'),
  ]);
  rows.push([`create (${C} conn)`, perf(R.create, 'records/s'), '', '', '', '–']);
  const xb = ratio(R.batch ? R.batch.rps * 100 : undefined, R.create?.rps);
  rows.push([
    `batch of 100 creates (${R.batch?.connections ?? 8} conn)`,
    perf(R.batch, 'records/s', 100),
    R.create ? `create ${fmtInt(R.create.rps)} records/s` : 'create',
    fmtRatio(xb),
    '≥ 20×',
    met(xb === undefined ? undefined : xb >= 20, R.batch),
  ]);
  const xf = ratio(R.batch ? R.batch.rps * 100 : undefined, floor?.recordsPerSecond);
  rows.push([
    'batch of 100 creates vs raw-SQL floor (the same records by multi-row INSERTs, one transaction per 100, one connection)',
    R.batch ? `${fmtInt(R.batch.rps * 100)} records/s` : 'not run',
    floor ? `floor ${fmtInt(floor.recordsPerSecond)} records/s` : 'not run',
    fmtRatio(xf),
    '≥ 0.5×',
    met(xf === undefined ? undefined : xf >= 0.5, R.batch),
  ]);
  const cpu = (r: CpuLoadResult) =>
    `${perf(r)} · server CPU ${r.serverCpuMs.toFixed(3)} ms/req · load generator ${r.clientCpuMs.toFixed(3)} ms/req`;
  const one = workerRuns.find((w) => w.workers === 1);
  for (const w of workerRuns) {
    rows.push([
      `GET by id, serve --workers ${w.workers} (${C} conn)`,
      cpu(w.r),
      w.workers === 1 ? '' : '--workers 1',
      w.workers === 1 ? '' : fmtRatio(ratio(w.r.rps, one?.r.rps)),
      '',
      '–',
    ]);
  }
  if (replicaRun) {
    rows.push([
      `GET by id through a streaming replica (--workers 1, ${C} conn)`,
      `${cpu(replicaRun.r)} · ${(replicaRun.servedByReplica * 100).toFixed(0)} % served by the replica (lag at start ${replicaRun.lagMs ?? '?'} ms)`,
      one ? '--workers 1 on the primary' : '',
      fmtRatio(ratio(replicaRun.r.rps, one?.r.rps)),
      '',
      '–',
    ]);
  } else if (dialect === 'postgres') {
    rows.push([
      'GET by id through a streaming replica',
      replicaError ? `**failed**: ${replicaError.slice(0, 200)}` : 'not run (BENCH_REPLICA_URL unset)',
      '',
      '',
      '',
      '–',
    ]);
  }
  rows.push([`list page, limit ${100} (${C} conn)`, perf(R.list), '', '', '', '–']);
  rows.push([`search program + status + expiration (${C} conn)`, perf(R.search), '', '', '', '–']);
  rows.push([`lookup /program/{id} (${C} conn)`, perf(R.lookup), '', '', '', '–']);
  const lat = (r: LoadResult | undefined) =>
    r ? `p95 ${fmtMs(r.p95)} ms (p50 ${fmtMs(r.p50)}, p99 ${fmtMs(r.p99)}; ${fmtInt(r.rps)} req/s)` : 'not run';
  rows.push([
    `search p95 (${L} conn)`,
    lat(R.searchLatency),
    '',
    '',
    '≤ 20 ms',
    met(R.searchLatency ? R.searchLatency.p95 <= 20 : undefined, R.searchLatency),
  ]);
  rows.push([
    `lookup p95 (${L} conn)`,
    lat(R.lookupLatency),
    '',
    '',
    '≤ 20 ms',
    met(R.lookupLatency ? R.lookupLatency.p95 <= 20 : undefined, R.lookupLatency),
  ]);
  rows.push([`keyset page 1, limit 100 (${L} conn)`, lat(R.page1), '', '', '', '–']);
  const deepTitle = R.pageDeep?.title ?? 'page 5000';
  const xd = ratio(R.pageDeep?.p50, R.page1?.p50);
  rows.push([
    `keyset ${deepTitle}, limit 100 (${L} conn)${deepTitle !== 'page 5000' ? ` — the last full page: ${fmtInt(certCount)} records hold no page 5,000` : ''}`,
    lat(R.pageDeep),
    R.page1 ? `page 1 p50 ${fmtMs(R.page1.p50)} ms` : 'page 1',
    fmtRatio(xd),
    '≤ 1.5× (p50)',
    met(xd === undefined ? undefined : xd <= 1.5, R.pageDeep),
  ]);
  rows.push([
    'peak RSS of the server (VmHWM / VmRSS samples)',
    peakRssKb ? `${(peakRssKb / 1024).toFixed(0)} MB` : 'not measured',
    '',
    '',
    '≤ 300 MB',
    met(peakRssKb ? peakRssKb / 1024 <= 300 : undefined),
  ]);
  const med = startups.length ? median(startups) : undefined;
  rows.push([
    'start-up to 200 on /health, existing database (median of 3)',
    med !== undefined ? `${(med / 1000).toFixed(2)} s (${startups.map((s) => (s / 1000).toFixed(2)).join(', ')})` : 'not measured',
    '',
    '',
    '≤ 1 s',
    met(med !== undefined ? med <= 1000 : undefined),
  ]);
  if (billing) rows.push(...billing.rows);
  else
    rows.push([
      'billing run: refresh + execute',
      billingError ? `**failed**: ${billingError.split('\n')[0]!.slice(0, 200)}` : 'not run',
      '',
      '',
      '≥ 0.3×',
      billingError ? '**no**' : '–',
    ]);

  const head = ['figure', 'value', 'same-run baseline', 'ratio', 'target', 'met?'];
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join(
    '\n',
  );
}

main()
  .then(() => process.exit(0))
  .catch((e) => {
    log(`bench failed: ${e instanceof Error ? e.stack : String(e)}`);
    process.exit(1);
  });
