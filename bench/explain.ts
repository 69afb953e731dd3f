/**
 * The SQL behind the benchmark's requests, with its plan and its time in the database alone.
 * The statements are the ones the server's own code emits: RecordTable.get/page and the
 * certification service's search filters and PATCH path run against a Kysely instance that records
 * every compiled query (the PATCH runs in a transaction that is rolled back).
 *
 *   node --import tsx bench/explain.ts            (same BENCH_DATABASE_URL / BENCH_SCALE as the bench)
 *
 * SQLite: EXPLAIN QUERY PLAN, then each read executed 200 times through better-sqlite3 (p50, p95).
 * PostgreSQL: EXPLAIN (ANALYZE, BUFFERS) of each read (writes: EXPLAIN only).
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, type CompiledQuery } from 'kysely';
import { RESOURCES } from '../src/resources/index.js';
import { ResourceService } from '../src/resources/kit/service.js';
import { RecordTable } from '../src/store/records.js';
import type { Store } from '../src/store/store.js';
import { systemClock } from '../src/core/clock.js';
import type { RequestContext } from '../src/core/context.js';
import { decodeKey } from '../src/resources/kit/paging.js';
import { describeTenant } from './generate.js';
import { prepareData, PAGE_LIMIT, SEARCH_WINDOW } from './phases.js';
import { WORK } from './lib.js';

const scale = Number(process.env.BENCH_SCALE ?? 200_000);
const databaseUrl = process.env.BENCH_DATABASE_URL || `sqlite:${path.join(WORK, `bench-${scale}.db`)}`;
const tenant = 'bench';
const sqlite = databaseUrl.startsWith('sqlite:');
const out = (s = '') => process.stdout.write(`${s}\n`);

class Rollback extends Error {}

async function main() {
  const g = await describeTenant(databaseUrl, tenant);
  if (!g?.certifications) throw new Error(`no generated tenant in ${databaseUrl}: run npm run bench (or bench/generate.ts) first`);
  const data = await prepareData(databaseUrl, tenant, g.programIds, g.statusReasonIds, Math.min(scale, g.certifications));

  const captured: CompiledQuery[] = [];
  let capture = false;
  const raw = sqlite ? new Database(databaseUrl.slice('sqlite:'.length)) : undefined;
  const pool = sqlite ? undefined : new pg.Pool({ connectionString: databaseUrl, max: 1 });
  if (pool) {
    // Row-level security (if the schema has it) reads the tenant of the connection.
    pool.on('connect', (c) => void c.query("select set_config('accredit.tenant_id', $1, false)", [tenant]));
  }
  const db = new Kysely<any>({
    dialect: raw ? new SqliteDialect({ database: raw }) : new PostgresDialect({ pool: pool! }),
    log: (e) => {
      if (capture && e.level === 'query') captured.push(e.query);
    },
  });
  const store: Store = {
    dialect: sqlite ? 'sqlite' : 'postgres',
    db,
    read: db,
    reading: (_p, fn) => fn(db),
    description: 'explain',
    transaction: (fn) => db.transaction().execute(fn),
    close: () => db.destroy(),
  };
  const certR = RESOURCES.find((r) => r.def.slug === 'certifications')!;
  const services = new Map<string, ResourceService>();
  const resolve = (slug: string): ResourceService => {
    let s = services.get(slug);
    if (!s) {
      s = new ResourceService(RESOURCES.find((r) => r.def.slug === slug)!, {
        store,
        clock: systemClock,
        pageSizeDefault: PAGE_LIMIT,
        pageSizeMax: 1000,
        resolve,
      });
      services.set(slug, s);
    }
    return s;
  };
  const service = resolve('certifications');
  const table = new RecordTable(certR.table, store.dialect);
  const ctx: RequestContext = {
    tenantId: tenant,
    actor: { sub: 'bench', tenants: [tenant], scopes: new Set(['certifications:admin', 'certifications:write', 'certifications:read']) },
    requestId: 'explain',
    clientIp: '127.0.0.1',
  };

  const program = data.programIds[0]!;
  const deepId = data.deepKey ? decodeKey(data.deepKey) : undefined;
  const cases: [string, () => Promise<unknown>][] = [
    ['GET by id', () => table.get(db, tenant, data.readIds[0]!)],
    ['list page 1', () => table.pageText(db, tenant, [], undefined, PAGE_LIMIT + 1)],
    [`list page ${data.deepPage}`, () => table.pageText(db, tenant, [], deepId, PAGE_LIMIT + 1)],
    [
      'lookup /program/{id}',
      () => table.pageText(db, tenant, [{ column: 'f_program_id', op: 'in', values: [program] }], undefined, PAGE_LIMIT + 1),
    ],
    [
      'search program + status + expiration',
      () =>
        table.pageText(
          db,
          tenant,
          service.searchFilters({ program_id: [program], status: ['active'], expiration_date: SEARCH_WINDOW }),
          undefined,
          PAGE_LIMIT + 1,
        ),
    ],
    [
      'PATCH (every statement, rolled back)',
      () =>
        db
          .transaction()
          .execute(async (trx) => {
            await service.patch(ctx, data.patchIds[0]!, [{ op: 'replace', path: '/certificate_name', value: 'explain' }], undefined, trx);
            throw new Rollback();
          })
          .catch((e) => {
            if (!(e instanceof Rollback)) throw e;
          }),
    ],
  ];

  out(
    `# Query plans — ${sqlite ? 'SQLite' : 'PostgreSQL'}, ${g.certifications.toLocaleString('en-US')} certifications in tenant ${tenant}`,
  );
  if (raw) {
    const pragma = (p: string) => JSON.stringify(raw.pragma(p, { simple: true }));
    out(
      `\npage_size ${pragma('page_size')}, cache_size ${pragma('cache_size')}, mmap_size ${pragma('mmap_size')}, pages ${pragma('page_count')}, sqlite ${(raw.prepare('select sqlite_version() v').get() as { v: string }).v}; sqlite_stat1 ${raw.prepare("select count(*) n from sqlite_master where name = 'sqlite_stat1'").get() ? ((raw.prepare("select count(*) n from sqlite_master where name = 'sqlite_stat1'").get() as { n: number }).n ? 'present' : 'absent (never ANALYZEd)') : ''}`,
    );
  }
  for (const [title, run] of cases) {
    captured.length = 0;
    capture = true;
    await run();
    capture = false;
    out(`\n## ${title}\n`);
    for (const q of captured) {
      if (/^\s*(begin|commit|rollback|savepoint|release)\b/i.test(q.sql)) {
        out(`-- ${q.sql}`);
        continue;
      }
      const params = q.parameters as unknown[];
      const isRead = /^\s*select/i.test(q.sql);
      out('```sql');
      out(q.sql.length > 600 ? `${q.sql.slice(0, 600)} …` : q.sql);
      out(`-- parameters: ${JSON.stringify(params.map((p) => (typeof p === 'string' && p.length > 60 ? `${p.slice(0, 60)}…` : p)))}`);
      if (raw) {
        for (const r of raw.prepare(`explain query plan ${q.sql}`).all(...(params as any[])) as { detail: string }[])
          out(`-- plan: ${r.detail}`);
        if (isRead) {
          const stmt = raw.prepare(q.sql);
          const times: number[] = [];
          for (let i = 0; i < 200; i++) {
            const t0 = process.hrtime.bigint();
            stmt.all(...(params as any[]));
            times.push(Number(process.hrtime.bigint() - t0) / 1e6);
          }
          times.sort((a, b) => a - b);
          out(`-- executed 200×: p50 ${times[99]!.toFixed(3)} ms, p95 ${times[189]!.toFixed(3)} ms`);
        }
      } else {
        const client = await pool!.connect();
        try {
          const { rows } = await client.query(`explain ${isRead ? '(analyze, buffers) ' : ''}${q.sql}`, params);
          for (const r of rows) out(`-- ${r['QUERY PLAN']}`);
        } finally {
          client.release();
        }
      }
      out('```');
    }
  }
  await db.destroy();
}

main().catch((e) => {
  process.stderr.write(`explain: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
