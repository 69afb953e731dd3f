/**
 * Billing-run benchmark: refresh + execute of a forecast run over a generated tenant (100,000
 * certifications by default), against a same-run baseline of the raw SQL each action needs.
 *
 *   node --import tsx bench/billing.ts                       # SQLite, 100,000 certifications
 *   BENCH_BILLING_SCALE=20000 node --import tsx bench/billing.ts
 *   BENCH_DATABASE_URL=postgres://root:accredit@localhost/accredit_bench node --import tsx bench/billing.ts
 *
 * The run forecasts renewals for every active certification (70 % of the tenant): the refresh scans
 * them and writes one billingRunAction each; the execution, per action and in one transaction, reads
 * the action and its certification, checks it is still eligible, reads the programme's renewal fee,
 * writes the certification (forecasted_renewal_amount, history, references) and the action's status.
 * The baseline does the minimum the same work needs, with the same driver and no framework: per
 * action, in one transaction, read the certification, write it back with the amount, and mark a
 * pending row done. Prints one markdown table (figure, value, baseline, ratio, target, met?).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

const SCALE = Number(process.env.BENCH_BILLING_SCALE ?? 100_000);
const TENANT = 'bench';
const log = (s: string) => process.stderr.write(s + '\n');

async function database(): Promise<string> {
  const url = process.env.BENCH_DATABASE_URL;
  if (!url) {
    const file = path.join(WORK, `billing-${SCALE}.db`);
    fs.mkdirSync(WORK, { recursive: true });
    for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
    return `sqlite:${file}`;
  }
  const u = new URL(url);
  const name = u.pathname.slice(1);
  if (!name.includes('bench')) throw new Error('BENCH_DATABASE_URL: the database name must contain "bench" (it is dropped and created)');
  const admin = new pg.Client({ connectionString: Object.assign(new URL(url), { pathname: '/postgres' }).toString() });
  await admin.connect();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.query(`create database ${name}`);
  await admin.end();
  return url;
}

async function main() {
  const databaseUrl = await database();
  log(`generating ${SCALE.toLocaleString('en')} certifications in ${databaseUrl.replace(/\/\/[^@]*@/, '//…@')}`);
  const gen = await generate({ databaseUrl, tenant: TENANT, certifications: SCALE, log });

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'accredit-bench-billing-'));
  const config = loadConfig({ DATABASE_URL: databaseUrl, DATA_DIR: dataDir, JWT_SECRET: 'b'.repeat(40), LOG_LEVEL: 'silent', SCHEDULER_POLL_MS: '0', WORKER_POLL_MS: '50' });
  const store = openStore(databaseUrl, { pgPoolMax: 10 });
  await migrate(store, tableSpecs());
  const verifier = createVerifier(config);
  const app = await buildApp({ config, store, verifier, logger: false });
  await app.ready();
  const token = await verifier.sign!({ sub: 'bench', tenants: [TENANT], scope: 'certifications:admin' });
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await app.inject({ method: method as 'GET', url, payload: body as object, headers: { authorization: `Bearer ${token}` } });
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    return res.json();
  };
  // every programme's renewal fee: an application fee on its renewal process
  const fees = new Map<string, number>();
  for (const [i, programId] of gen.programIds.entries()) {
    const price = 100 + 10 * i;
    const fee = await call('POST', `/applicationFees/${TENANT}`, { name: `Renewal ${i}`, price, business_unit_id: 'bu', program_id: programId });
    await call('POST', `/applicationProcesses/${TENANT}`, { name: `Renewal ${i}`, type: 'renewal', program_id: programId, application_fee_id: fee.id });
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
  const refreshS = (performance.now() - t0) / 1000;
  if (refreshed.status !== 'SUCCEEDED') throw new Error(`refresh: ${JSON.stringify(refreshed)}`);
  const actions = Number(refreshed.output.candidates);
  log(`refresh: ${actions.toLocaleString('en')} actions in ${refreshS.toFixed(1)} s`);
  t0 = performance.now();
  const executed = await wait((await call('POST', `/billingRuns/${TENANT}/execute/${run.id}`)).executionArn);
  const executeS = (performance.now() - t0) / 1000;
  if (executed.status !== 'SUCCEEDED') throw new Error(`execute: ${JSON.stringify(executed)}`);
  log(`execute: ${Number(executed.output.performed).toLocaleString('en')} actions in ${executeS.toFixed(1)} s`);
  await app.close();

  // the baseline: the same certifications, the raw SQL each action needs, one transaction per action
  const ids = await asTenant(TENANT, () =>
    store.db.selectFrom('certifications').select(['id', 'f_program_id']).where('tenant_id', '=', TENANT).where('f_status', '=', 'active').orderBy('id').execute(),
  );
  await asSystem(async () => {
    await sql`drop table if exists bench_baseline_actions`.execute(store.db);
    await sql`create table bench_baseline_actions (id text primary key, status text not null)`.execute(store.db);
    for (let i = 0; i < ids.length; i += 500) {
      await store.db.insertInto('bench_baseline_actions').values(ids.slice(i, i + 500).map((r) => ({ id: r.id, status: 'pending' }))).execute();
    }
  });
  const json = (d: unknown) => (typeof d === 'string' ? JSON.parse(d) : d) as Record<string, unknown>;
  t0 = performance.now();
  await asTenant(TENANT, async () => {
    for (const [n, r] of ids.entries()) {
      await store.transaction(async (trx: Db) => {
        const row = await trx.selectFrom('certifications').select(['data', 'sys_version']).where('tenant_id', '=', TENANT).where('id', '=', r.id).executeTakeFirstOrThrow();
        const data = { ...json(row.data), forecasted_renewal_amount: fees.get(String(r.f_program_id)) ?? 0 };
        await trx.updateTable('certifications').set({ data: JSON.stringify(data), sys_version: Number(row.sys_version) + 1 }).where('tenant_id', '=', TENANT).where('id', '=', r.id).execute();
        await trx.updateTable('bench_baseline_actions').set({ status: 'completed' }).where('id', '=', r.id).execute();
      });
      if (n % 500 === 0) await new Promise((res) => setImmediate(res));
    }
  });
  const baselineS = (performance.now() - t0) / 1000;
  await asSystem(() => sql`drop table bench_baseline_actions`.execute(store.db));
  await store.close();
  fs.rmSync(dataDir, { recursive: true, force: true });

  const rate = (n: number, s: number) => n / s;
  const total = refreshS + executeS;
  const x = rate(actions, total) / rate(ids.length, baselineS);
  const rows = [
    ['figure', 'value', 'same-run baseline', 'ratio', 'target', 'met?'],
    ['---', '---', '---', '---', '---', '---'],
    ['setup', `${store.dialect}, ${SCALE.toLocaleString('en')} certifications, ${actions.toLocaleString('en')} forecast actions; nproc ${os.cpus().length}, load avg ${os.loadavg()[0]!.toFixed(1)}`, '', '', '', ''],
    ['billing refresh', `${actions.toLocaleString('en')} actions in ${refreshS.toFixed(1)} s (${Math.round(rate(actions, refreshS)).toLocaleString('en')} actions/s)`, '', '', '', '–'],
    ['billing execute', `${actions.toLocaleString('en')} actions in ${executeS.toFixed(1)} s (${Math.round(rate(actions, executeS)).toLocaleString('en')} actions/s)`, '', '', '', '–'],
    [
      'billing run: refresh + execute',
      `${Math.round(rate(actions, total)).toLocaleString('en')} actions/s (${total.toFixed(1)} s)`,
      `raw SQL per action: ${Math.round(rate(ids.length, baselineS)).toLocaleString('en')} actions/s (${baselineS.toFixed(1)} s)`,
      `${x.toFixed(2)}×`,
      '≥ 0.3×',
      x >= 0.3 ? 'yes' : '**no**',
    ],
    ...(store.dialect === 'sqlite' && SCALE >= 100_000 ? [[`refresh + execute over ${SCALE.toLocaleString('en')} certifications on SQLite`, `${total.toFixed(1)} s`, '', '', 'well under 60 s', total < 45 ? 'yes' : '**no**']] : []),
  ];
  process.stdout.write(rows.map((r) => `| ${r.join(' | ')} |`).join('\n') + '\n');
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : e}\n`);
  process.exit(1);
});
