/**
 * Billing-run benchmark: refresh + execute of a forecast run over a generated tenant (100,000
 * certifications by default), against a same-run baseline of the raw SQL each action needs.
 *
 *   node --import tsx bench/billing.ts                       # SQLite, 100,000 certifications
 *   BENCH_BILLING_SCALE=20000 node --import tsx bench/billing.ts
 *   BENCH_DATABASE_URL=postgres://root:accredit@localhost/accredit_billing_bench node --import tsx bench/billing.ts
 *
 * The run forecasts renewals for every active certification (70 % of the tenant): the refresh scans
 * them and writes one billingRunAction each; the execution, per action and in one transaction, reads
 * the action and its certification, checks it is still eligible, reads the programme's renewal fee,
 * writes the certification (forecasted_renewal_amount, history, references) and the action's status.
 * The baseline does the minimum the same work needs, with the same driver and no framework: per
 * action, in one transaction, read the certification, write it back with the amount, and mark a
 * pending row done. Prints one markdown table (figure, value, baseline, ratio, target, met?).
 *
 * The measurement is runBillingBench(), which `npm run bench` (bench/run.ts) also calls as its last
 * phase, `billing`, and whose rows it puts in its own table. Run as a script, this file uses
 * BENCH_BILLING_SCALE (default 100000) and BENCH_DATABASE_URL (that PostgreSQL database itself is
 * dropped and created; its name must contain "bench"; default a fresh SQLite file
 * $BENCH_WORK_DIR/billing-<scale>.db).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { sql } from 'kysely';
import pg from 'pg';
import { generate } from './generate.js';
import { WORK } from './lib.js';
import { loadConfig } from '../src/config.js';
import { openStore, type Db } from '../src/store/store.js';
import { migrate } from '../src/store/migrate.js';
import { tableSpecs } from '../src/resources/index.js';
import { createVerifier } from '../src/http/auth.js';
import { buildApp } from '../src/app.js';
import { asSystem, asTenant } from '../src/store/tenant-scope.js';

/** The issue's targets: billing run ≥ 0.3 × the raw-SQL baseline's actions/s; 100,000 actions on SQLite in well under a minute. */
export const BILLING_TARGET_RATIO = 0.3;
export const BILLING_TARGET_ACTIONS = 100_000;
/** "Well under a minute", as this benchmark reads it. */
export const BILLING_TARGET_SECONDS = 45;

export interface BillingBenchOptions {
  /**
   * sqlite:<file> (deleted and re-created) or postgres://… (the database is dropped and created; its
   * name must contain "bench"). Default: a fresh SQLite file billing-<scale>.db in the bench work dir.
   */
  databaseUrl?: string;
  /** Certifications in the generated tenant (about 70 % of them, the active ones, become actions). */
  scale: number;
  tenant?: string;
  log?: (line: string) => void;
}

export interface BillingBenchRaw {
  dialect: 'sqlite' | 'postgres';
  /** The database used, credentials left out. */
  database: string;
  scale: number;
  /** Forecast actions written by the refresh (and executed). */
  actions: number;
  performed: number;
  generateS: number;
  refreshS: number;
  executeS: number;
  /** refresh + execute */
  totalS: number;
  /** Actions the baseline did (the same active certifications) and its time. */
  baselineActions: number;
  baselineS: number;
  actionsPerS: number;
  baselineActionsPerS: number;
  /** actionsPerS / baselineActionsPerS */
  ratio: number;
  /** Time of a billing run of 100,000 actions at the measured rate (projected when actions < 100,000). */
  secondsPer100kActions: number;
  loadAvg: number;
}

export interface BillingBenchResult {
  /** Table rows (figure, value, same-run baseline, ratio, target, met?), without the header. */
  rows: string[][];
  raw: BillingBenchRaw;
}

export const BILLING_TABLE_HEAD = ['figure', 'value', 'same-run baseline', 'ratio', 'target', 'met?'];

const hideCredentials = (url: string) => url.replace(/\/\/[^@]*@/, '//…@');
const int = (n: number) => Math.round(n).toLocaleString('en');

/** A fresh database for the billing tenant: the SQLite file deleted, or the PostgreSQL database dropped and created. */
async function freshDatabase(url: string | undefined, scale: number): Promise<string> {
  if (!url) url = `sqlite:${path.join(WORK, `billing-${scale}.db`)}`;
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length);
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
    return url;
  }
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  if (!/bench/i.test(name))
    throw new Error(`billing bench: the database "${name}" is dropped and created, so its name must contain "bench"`);
  const ident = `"${name.replace(/"/g, '""')}"`;
  const admin = new pg.Client({ connectionString: Object.assign(new URL(url), { pathname: '/postgres' }).toString() });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${ident} with (force)`);
    await admin.query(`create database ${ident}`);
  } finally {
    await admin.end();
  }
  return url;
}

/**
 * Generates a tenant of `scale` certifications in a database of its own, runs a forecast billing run
 * over it (refresh, then execute, through the app's own executions, in process), then the raw-SQL
 * baseline on the same certifications, and returns the table rows and the raw figures.
 */
export async function runBillingBench(opts: BillingBenchOptions): Promise<BillingBenchResult> {
  const SCALE = opts.scale;
  const TENANT = opts.tenant ?? 'bench';
  const log = opts.log ?? (() => {});
  const loadAvg = os.loadavg()[0]!;
  const databaseUrl = await freshDatabase(opts.databaseUrl, SCALE);
  log(`billing: generating ${SCALE.toLocaleString('en')} certifications in ${hideCredentials(databaseUrl)}`);
  const gen = await generate({ databaseUrl, tenant: TENANT, certifications: SCALE, log });

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'accredit-bench-billing-'));
  const store = await openStore(databaseUrl, { pgPoolMax: 10 });
  let actions: number, performed: number, refreshS: number, executeS: number, baselineS: number;
  let ids: { id: string; f_program_id: unknown }[];
  try {
    const config = loadConfig({
      DATABASE_URL: databaseUrl,
      DATA_DIR: dataDir,
      JWT_SECRET: 'b'.repeat(40),
      LOG_LEVEL: 'silent',
      SCHEDULER_POLL_MS: '0',
      WORKER_POLL_MS: '50',
    });
    await migrate(store, tableSpecs());
    const verifier = createVerifier(config);
    const app = await buildApp({ config, store, verifier, logger: false });
    // every programme's renewal fee: an application fee on its renewal process
    const fees = new Map<string, number>();
    try {
      await app.ready();
      const token = await verifier.sign!({ sub: 'bench', tenants: [TENANT], scope: 'certifications:admin' });
      const call = async (method: string, url: string, body?: unknown) => {
        const res = await app.inject({
          method: method as 'GET',
          url,
          payload: body as object,
          headers: { authorization: `Bearer ${token}` },
        });
        if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
        return res.json();
      };
      for (const [i, programId] of gen.programIds.entries()) {
        const price = 100 + 10 * i;
        const fee = await call('POST', `/applicationFees/${TENANT}`, {
          name: `Renewal ${i}`,
          price,
          business_unit_id: 'bu',
          program_id: programId,
        });
        await call('POST', `/applicationProcesses/${TENANT}`, {
          name: `Renewal ${i}`,
          type: 'renewal',
          program_id: programId,
          application_fee_id: fee.id,
        });
        fees.set(programId, price);
      }
      const run = await call('POST', `/billingRuns/${TENANT}`, {
        name: 'Forecast everything',
        status: 'draft',
        forecast_renewals: true,
        renewal_forecasting_options: { expiration_date_range_start: '2000-01-01', expiration_date_range_end: '2099-12-31' },
      });
      const wait = async (arn: string) => {
        for (;;) {
          const e = await call('GET', `/executions/${TENANT}/${arn}`);
          if (e.status !== 'RUNNING') return e;
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      let t0 = performance.now();
      const refreshed = await wait((await call('POST', `/billingRuns/${TENANT}/refresh/${run.id}`)).executionArn);
      refreshS = (performance.now() - t0) / 1000;
      if (refreshed.status !== 'SUCCEEDED') throw new Error(`refresh: ${JSON.stringify(refreshed)}`);
      actions = Number(refreshed.output.candidates);
      log(`billing refresh: ${actions.toLocaleString('en')} actions in ${refreshS.toFixed(1)} s`);
      t0 = performance.now();
      const executed = await wait((await call('POST', `/billingRuns/${TENANT}/execute/${run.id}`)).executionArn);
      executeS = (performance.now() - t0) / 1000;
      if (executed.status !== 'SUCCEEDED') throw new Error(`execute: ${JSON.stringify(executed)}`);
      performed = Number(executed.output.performed);
      log(`billing execute: ${performed.toLocaleString('en')} actions in ${executeS.toFixed(1)} s`);
    } finally {
      await app.close();
    }

    // the baseline: the same certifications, the raw SQL each action needs, one transaction per action
    ids = await asTenant(TENANT, () =>
      store.db
        .selectFrom('certifications')
        .select(['id', 'f_program_id'])
        .where('tenant_id', '=', TENANT)
        .where('f_status', '=', 'active')
        .orderBy('id')
        .execute(),
    );
    await asSystem(async () => {
      await sql`drop table if exists bench_baseline_actions`.execute(store.db);
      await sql`create table bench_baseline_actions (id text primary key, status text not null)`.execute(store.db);
      for (let i = 0; i < ids.length; i += 500) {
        await store.db
          .insertInto('bench_baseline_actions')
          .values(ids.slice(i, i + 500).map((r) => ({ id: r.id, status: 'pending' })))
          .execute();
      }
    });
    const json = (d: unknown) => (typeof d === 'string' ? JSON.parse(d) : d) as Record<string, unknown>;
    const t0 = performance.now();
    await asTenant(TENANT, async () => {
      for (const [n, r] of ids.entries()) {
        await store.transaction(async (trx: Db) => {
          const row = await trx
            .selectFrom('certifications')
            .select(['data', 'sys_version'])
            .where('tenant_id', '=', TENANT)
            .where('id', '=', r.id)
            .executeTakeFirstOrThrow();
          const data = { ...json(row.data), forecasted_renewal_amount: fees.get(String(r.f_program_id)) ?? 0 };
          await trx
            .updateTable('certifications')
            .set({ data: JSON.stringify(data), sys_version: Number(row.sys_version) + 1 })
            .where('tenant_id', '=', TENANT)
            .where('id', '=', r.id)
            .execute();
          await trx.updateTable('bench_baseline_actions').set({ status: 'completed' }).where('id', '=', r.id).execute();
        });
        if (n % 500 === 0) await new Promise((res) => setImmediate(res));
      }
    });
    baselineS = (performance.now() - t0) / 1000;
    log(`billing baseline (raw SQL): ${ids.length.toLocaleString('en')} actions in ${baselineS.toFixed(1)} s`);
    await asSystem(() => sql`drop table bench_baseline_actions`.execute(store.db));
  } finally {
    await store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }

  const dialect = store.dialect;
  const totalS = refreshS + executeS;
  const actionsPerS = actions / totalS;
  const baselineActionsPerS = ids.length / baselineS;
  const x = actionsPerS / baselineActionsPerS;
  const secondsPer100kActions = BILLING_TARGET_ACTIONS / actionsPerS;
  const projected = actions < BILLING_TARGET_ACTIONS;
  const dbLabel = dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  const fastEnough = secondsPer100kActions <= BILLING_TARGET_SECONDS;
  const rows: string[][] = [
    [
      'billing setup',
      `${dbLabel} (own database), ${int(SCALE)} certifications, ${int(actions)} forecast actions; nproc ${os.cpus().length}, load avg ${loadAvg.toFixed(1)}`,
      '',
      '',
      '',
      '',
    ],
    ['billing refresh', `${int(actions)} actions in ${refreshS.toFixed(1)} s (${int(actions / refreshS)} actions/s)`, '', '', '', '–'],
    ['billing execute', `${int(performed)} actions in ${executeS.toFixed(1)} s (${int(performed / executeS)} actions/s)`, '', '', '', '–'],
    [
      'billing run: refresh + execute',
      `${int(actionsPerS)} actions/s (${totalS.toFixed(1)} s)`,
      `raw SQL per action: ${int(baselineActionsPerS)} actions/s (${baselineS.toFixed(1)} s)`,
      `${x.toFixed(2)}×`,
      `≥ ${BILLING_TARGET_RATIO}×`,
      x >= BILLING_TARGET_RATIO ? 'yes' : '**no**',
    ],
    [
      `billing run of ${int(BILLING_TARGET_ACTIONS)} actions on SQLite in well under a minute`,
      `${secondsPer100kActions.toFixed(1)} s${projected ? ` (projected at the rate measured on ${int(actions)} actions)` : ` (at the rate measured on ${int(actions)} actions)`}`,
      '',
      '',
      dialect === 'sqlite' ? `≤ ${BILLING_TARGET_SECONDS} s` : '(SQLite only)',
      dialect !== 'sqlite' ? '–' : `${fastEnough ? 'yes' : '**no**'}${projected ? ' (projected)' : ''}`,
    ],
  ];
  return {
    rows,
    raw: {
      dialect,
      database: hideCredentials(databaseUrl),
      scale: SCALE,
      actions,
      performed,
      generateS: gen.seconds,
      refreshS,
      executeS,
      totalS,
      baselineActions: ids.length,
      baselineS,
      actionsPerS,
      baselineActionsPerS,
      ratio: x,
      secondsPer100kActions,
      loadAvg,
    },
  };
}

async function main() {
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const { rows } = await runBillingBench({
    databaseUrl: process.env.BENCH_DATABASE_URL || undefined,
    scale: Number(process.env.BENCH_BILLING_SCALE ?? 100_000),
    log,
  });
  const table = [BILLING_TABLE_HEAD, BILLING_TABLE_HEAD.map(() => '---'), ...rows];
  process.stdout.write(`${table.map((r) => `| ${r.join(' | ')} |`).join('\n')}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main()
    .then(() => process.exit(0))
    .catch((e) => {
      process.stderr.write(`${e instanceof Error ? e.stack : e}\n`);
      process.exit(1);
    });
}
