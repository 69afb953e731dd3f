import { sql } from 'kysely';
import type { Store } from './store.js';
import type { Lease, ServerKysely } from './tables.js';
import { asSystem } from './tenant-scope.js';

/**
 * What an operator watches, read across all tenants: the background backlog (executions still
 * running, mail not yet sent) and who holds each lease. Small aggregate queries, run on a scrape.
 */
export interface Backlog {
  executionsRunning: number;
  /** running executions nobody holds a live lease on (left by a stopped process, or waiting for one) */
  executionsUnclaimed: number;
  /** messages waiting to be sent (queued, being sent, or waiting for a retry) */
  outboxPending: number;
  outboxFailed: number;
}

export async function readBacklog(store: Store, nowIso: string): Promise<Backlog> {
  return asSystem(async () => {
    const db: ServerKysely = store.db;
    const exec = await db
      .selectFrom('executions')
      .select([
        sql<number>`count(*)`.as('running'),
        sql<number>`sum(case when lease_until is null or lease_until < ${nowIso} then 1 else 0 end)`.as('unclaimed'),
      ])
      .where('status', '=', 'RUNNING')
      .executeTakeFirst();
    const mail = await db
      .selectFrom('outbox')
      .select(['status', sql<number>`count(*)`.as('n')])
      .where('status', 'in', ['queued', 'sending', 'retry', 'failed'])
      .groupBy('status')
      .execute();
    const byStatus = new Map(mail.map((r) => [String(r.status), Number(r.n)]));
    return {
      executionsRunning: Number(exec?.running ?? 0),
      executionsUnclaimed: Number(exec?.unclaimed ?? 0),
      outboxPending: (byStatus.get('queued') ?? 0) + (byStatus.get('sending') ?? 0) + (byStatus.get('retry') ?? 0),
      outboxFailed: byStatus.get('failed') ?? 0,
    };
  });
}

/** What the lifecycle sweeps that ended since `sinceIso` did, over all tenants (for the metrics). */
export interface SweepResults {
  /** sweeps by final status (SUCCEEDED, FAILED, ABORTED) */
  runs: Map<string, number>;
  lapsed: number;
  expired: number;
  noticesQueued: number;
  noticesNotSent: number;
  errors: number;
  /** when the last sweep ended (ISO), if any did */
  lastEnded?: string;
}

export async function readSweepResults(store: Store, sinceIso: string): Promise<SweepResults> {
  const rows = await asSystem(() =>
    store.db
      .selectFrom('executions')
      .select(['status', 'stop_date', 'output'])
      .where('resource', '=', 'lifecycle')
      .where('action', '=', 'sweep')
      .where('stop_date', '>=', sinceIso)
      .execute(),
  );
  const out: SweepResults = { runs: new Map(), lapsed: 0, expired: 0, noticesQueued: 0, noticesNotSent: 0, errors: 0 };
  const count = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  for (const r of rows) {
    out.runs.set(String(r.status), (out.runs.get(String(r.status)) ?? 0) + 1);
    if (!out.lastEnded || r.stop_date > out.lastEnded) out.lastEnded = r.stop_date;
    const o = (typeof r.output === 'string' ? JSON.parse(r.output) : r.output) as Record<string, unknown> | null;
    if (!o) continue;
    out.lapsed += count(o.lapsed);
    out.expired += count(o.expired);
    out.noticesQueued += count(o.notices_queued);
    // the lists stop at 100 entries; the counts say how many there were (sweeps before the counts: the lists)
    out.noticesNotSent += count(o.notices_not_sent_count) || (Array.isArray(o.notices_not_sent) ? o.notices_not_sent.length : 0);
    out.errors += count(o.error_count) || (Array.isArray(o.errors) ? o.errors.length : 0);
  }
  return out;
}

/** Leases (scheduler, …) whose holder is still within its time. */
export async function readLeases(store: Store, nowIso: string): Promise<Lease[]> {
  const db: ServerKysely = store.db;
  return asSystem(() => db.selectFrom('leases').select(['name', 'owner', 'until']).where('until', '>=', nowIso).execute());
}

/** Readiness: the primary answers a trivial statement. */
export async function pingPrimary(store: Store): Promise<void> {
  await sql`select 1`.execute(store.db);
}

/** The schema version: the highest numbered migration applied. */
export async function readSchemaVersion(store: Store): Promise<number | undefined> {
  const db: ServerKysely = store.db;
  const row = await asSystem(() => db.selectFrom('accredit_migrations').select(sql<number>`max(id)`.as('v')).executeTakeFirst());
  return row?.v === null || row?.v === undefined ? undefined : Number(row.v);
}

/** The tenants that hold records in a table (`accredit check` walks them one by one); none when the table is not there yet. */
export async function tenantsOf(store: Store, table: string): Promise<string[]> {
  return asSystem(async () => {
    const exists =
      store.dialect === 'sqlite'
        ? await sql`select 1 from sqlite_master where type = 'table' and name = ${table}`.execute(store.db)
        : await sql`select 1 where to_regclass(${table}) is not null`.execute(store.db);
    if (!exists.rows.length) return [];
    const { rows } = await sql<{ tenant_id: string }>`select distinct tenant_id from ${sql.table(table)} order by tenant_id`.execute(
      store.db,
    );
    return rows.map((r) => r.tenant_id);
  });
}
