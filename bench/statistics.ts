/**
 * How much does a dashboard load cost? GET /statistics/{t}/programs and …/billing against a same-run
 * baseline, a primary-key GET of one certification, on a generated tenant of N certifications (plus
 * N/2 applications and N/4 billing run actions), through the real app in process (app.inject, no
 * network: the figures are the server's own work). Prints one markdown table and the query plans of
 * the statistics queries (they must be index-only scans). Not part of `npm run bench`.
 *
 *   node --import tsx bench/statistics.ts                      # SQLite, 100,000 certifications
 *   STATS_SCALE=1000000 node --import tsx bench/statistics.ts
 *   BENCH_DATABASE_URL=postgres://root:accredit@127.0.0.1:5432/accredit_stats_bench node --import tsx bench/statistics.ts
 *
 * STATS_SCALE (certifications, default 100000), STATS_ITERATIONS (timed requests of each kind, default
 * 200), BENCH_DATABASE_URL (a PostgreSQL database whose name contains "bench": dropped and created;
 * default a fresh SQLite file in $TMPDIR/accredit-bench), STATS_REUSE=1 (SQLite: keep the file of an
 * earlier run of the same scale).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import pg from 'pg';
import { sql } from 'kysely';
import { generate, prng, rowOf, uuidv7At, asSystem } from './generate.js';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createVerifier } from '../src/http/auth.js';
import { migrate } from '../src/store/migrate.js';
import { openStore, type Store } from '../src/store/store.js';
import { RESOURCES, tableSpecs } from '../src/resources/index.js';
import { APPLICATION_STATUSES, APPLICATION_TYPES } from '../src/resources/blocks.js';
import { BILLING_RUN_STATUSES } from '../src/domain/billing/runs.js';
import { REUSE_FACTOR, REUSE_FROM_ROWS } from '../src/services/statistics.js';
import { asTenant } from '../src/store/tenant-scope.js';
import type { StoredRecord } from '../src/store/records.js';

const env = process.env;
const SCALE = Number(env.STATS_SCALE ?? 100_000);
const ITERATIONS = Number(env.STATS_ITERATIONS ?? 200);
const TENANT = 'stats';
const WORK = env.BENCH_WORK_DIR ?? path.join(os.tmpdir(), 'accredit-bench');
const databaseUrl = env.BENCH_DATABASE_URL || `sqlite:${path.join(WORK, `stats-${SCALE}.db`)}`;
const dialect = databaseUrl.startsWith('sqlite:') ? 'sqlite' : 'postgres';
const log = (s: string) => process.stderr.write(`${s}\n`);
const resource = (slug: string) => RESOURCES.find((r) => r.def.slug === slug)!;

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
    throw new Error(`BENCH_DATABASE_URL names database "${name}": it is dropped and created, so its name must contain "bench"`);
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

/** Applications and billing run actions, written as RecordTable.insert would (validated first). */
async function addWorkflowRecords(store: Store, programIds: string[]) {
  const rnd = prng(7);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  let ms = Date.UTC(2025, 0, 1);
  const record = (fields: Record<string, unknown>): StoredRecord =>
    ({ id: uuidv7At(ms++, rnd), ...fields, sys_version: 1, sys_locked: false }) as StoredRecord;
  const write = async (slug: string, count: number, fields: (i: number) => Record<string, unknown>) => {
    const r = resource(slug);
    for (let done = 0; done < count; ) {
      await store.transaction(async (trx) => {
        for (let s = 0; s < 20 && done < count; s++) {
          const rows = [];
          for (let k = 0; k < 500 && done < count; k++, done++) {
            const f = fields(done);
            const errors = r.validate(f);
            if (errors.length) throw new Error(`generated ${slug} is invalid: ${JSON.stringify(errors)}`);
            rows.push(rowOf(r.table, store.dialect, TENANT, record(f)));
          }
          await trx.insertInto(r.table.name).values(rows).execute();
        }
      });
    }
  };
  const runIds: string[] = [];
  await write('billingRuns', 20, (i) => ({ name: `Run ${i}`, status: pick(BILLING_RUN_STATUSES) }));
  for (const r of await store.db.selectFrom('billing_runs').select('id').where('tenant_id', '=', TENANT).execute())
    runIds.push(String(r.id));
  await write('applications', Math.floor(SCALE / 2), (i) => ({
    owner_type: 'contact',
    contact_id: `contact-${i}`,
    type: pick(APPLICATION_TYPES.filter((t) => t !== 'transfer')),
    program_id: pick(programIds),
    date: '2025-03-01',
    bucket_id: 'default',
    ...(rnd() < 0.1 ? {} : { status: pick(APPLICATION_STATUSES) }),
  }));
  const actionTypes = ['send renewal reminder', 'drop certification', 'forecast renewal'];
  const actionStatuses = ['pending', 'completed', 'excluded', 'error', 'no longer eligible'];
  await write('billingRunActions', Math.floor(SCALE / 4), (i) => ({
    name: `Candidate ${i}`,
    date: '2025-03-01T00:00:00Z',
    billing_run_id: pick(runIds),
    type: pick(actionTypes),
    status: pick(actionStatuses),
    candidate_service: 'certifications',
    candidate_id: `cert-${i}`,
    certification_id: `cert-${i}`,
  }));
  if (store.dialect === 'postgres') await sql`analyze`.execute(store.db);
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const ms = (x: number) => x.toFixed(x < 10 ? 2 : 1);

async function main() {
  const t0 = performance.now();
  const reuse = env.STATS_REUSE === '1' && dialect === 'sqlite' && fs.existsSync(databaseUrl.slice('sqlite:'.length));
  if (!reuse) await freshDatabase();
  const g = reuse ? undefined : await generate({ databaseUrl, tenant: TENANT, certifications: SCALE, log });
  const store = await openStore(databaseUrl, { pgPoolMax: 10 });
  try {
    await asSystem(async () => {
      await migrate(store, tableSpecs());
      if (g) await addWorkflowRecords(store, g.programIds);
    });
    if (g)
      log(
        `  data: ${SCALE.toLocaleString('en-US')} certifications, ${Math.floor(SCALE / 2).toLocaleString('en-US')} applications, ${Math.floor(SCALE / 4).toLocaleString('en-US')} billing run actions in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
    else log(`  reusing ${databaseUrl} (STATS_REUSE=1)`);

    const secret = crypto.randomBytes(36).toString('base64url');
    const config = loadConfig({
      DATABASE_URL: databaseUrl,
      DATA_DIR: path.join(WORK, 'data'),
      JWT_SECRET: secret,
      LOG_LEVEL: 'silent',
      RATE_LIMIT_PER_MINUTE: '0',
    });
    const verifier = createVerifier(config);
    const app = await buildApp({ config, store, verifier, logger: false, background: false });
    await app.ready();
    try {
      const token = await verifier.sign!({ sub: 'bench', tenants: [TENANT], scope: 'certifications:read' });
      const headers = { authorization: `Bearer ${token}` };
      const certId = String(
        (
          await asSystem(() =>
            store.db
              .selectFrom('certifications')
              .select('id')
              .where('tenant_id', '=', TENANT)
              .orderBy('id')
              .offset(Math.floor(SCALE / 2))
              .limit(1)
              .executeTakeFirstOrThrow(),
          )
        ).id,
      );
      const stats = app.services.statistics;
      const ctx = { tenantId: TENANT, actor: { sub: 'bench', tenants: [TENANT], scopes: new Set<string>() }, requestId: 'bench' };
      const http = (url: string) => async () => {
        const res = await app.inject({ method: 'GET', url, headers });
        if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body.slice(0, 300)}`);
      };
      const figures = [
        { name: 'GET /certifications/{t}/{id} (baseline: a primary-key read)', run: http(`/certifications/${TENANT}/${certId}`) },
        { name: 'GET /statistics/{t}/programs (as served)', run: http(`/statistics/${TENANT}/programs`) },
        { name: 'GET /statistics/{t}/billing (as served)', run: http(`/statistics/${TENANT}/billing`) },
        { name: '`programs` computed afresh (no reuse, no HTTP)', run: () => asTenantScope(() => stats.compute(ctx, 'programs')) },
        { name: '`billing` computed afresh (no reuse, no HTTP)', run: () => asTenantScope(() => stats.compute(ctx, 'billing')) },
      ];
      const once = async (run: () => Promise<unknown>) => {
        const s = performance.now();
        await run();
        return performance.now() - s;
      };
      for (let i = 0; i < Math.min(20, ITERATIONS); i++) for (const f of figures) await once(f.run); // warm-up
      const times = figures.map(() => [] as number[]);
      // interleaved, so that the baseline and the figures share the machine's state
      for (let i = 0; i < ITERATIONS; i++) for (const [k, f] of figures.entries()) times[k]!.push(await once(f.run));

      const programs = (await app.inject({ method: 'GET', url: `/statistics/${TENANT}/programs`, headers })).json();
      if (programs.certifications.total !== SCALE)
        throw new Error(`programs counted ${programs.certifications.total} certifications, not ${SCALE}`);
      const base = percentile(times[0]!, 50);
      const out: string[] = [];
      out.push(
        `### Statistics cost (${dialect}, ${SCALE.toLocaleString('en-US')} certifications, ${ITERATIONS} sequential requests each, in process)`,
      );
      out.push('');
      out.push(
        `"As served" reuses figures over ${REUSE_FROM_ROWS.toLocaleString('en-US')} records or more for ${REUSE_FACTOR}× their computing time; "computed afresh" is the work of one computation.`,
      );
      out.push('');
      out.push('| request | p50 ms | p95 ms | mean ms | p50 / baseline |');
      out.push('|---|---|---|---|---|');
      for (const [k, f] of figures.entries()) {
        const xs = times[k]!;
        out.push(
          `| ${f.name} | ${ms(percentile(xs, 50))} | ${ms(percentile(xs, 95))} | ${ms(mean(xs))} | ${(percentile(xs, 50) / base).toFixed(1)}× |`,
        );
      }
      out.push('');
      out.push('Query plans of the `programs` figures:');
      out.push('');
      const q = app.services.statistics.queries(TENANT, new Date().toISOString().slice(0, 10));
      for (const [name, query] of [
        ['certifications', q.certifications],
        ['expiring', q.expiring],
        ['applications', q.applications],
      ] as const) {
        const c = query.compile();
        const plan =
          dialect === 'sqlite'
            ? (
                await asSystem(() => sql.raw<{ detail: string }>(`explain query plan ${inline(c.sql, c.parameters)}`).execute(store.db))
              ).rows.map((r) => r.detail)
            : (
                await asSystem(() =>
                  sql.raw<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${inline(c.sql, c.parameters)}`).execute(store.db),
                )
              ).rows.map((r) => r['QUERY PLAN']);
        out.push(`- ${name}: \`${plan.join(' / ').replace(/\s+/g, ' ')}\``);
      }
      process.stdout.write(`${out.join('\n')}\n`);
    } finally {
      await app.close();
    }
  } finally {
    await store.close();
  }
}

/** The tenant scope a route gives its work (row-level security on PostgreSQL). */
const asTenantScope = <T>(fn: () => T): T => asTenant(TENANT, fn);

/** The compiled query with its parameters written in (for EXPLAIN; the values are ours). */
function inline(text: string, params: readonly unknown[]): string {
  const lit = (v: unknown) => (typeof v === 'number' ? String(v) : `'${String(v).replace(/'/g, "''")}'`);
  let n = 0;
  return dialect === 'sqlite'
    ? text.replace(/\?/g, () => lit(params[n++]))
    : text.replace(/\$(\d+)/g, (_, i) => lit(params[Number(i) - 1]));
}

main().catch((e) => {
  process.stderr.write(`statistics bench: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
