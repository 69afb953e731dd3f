import { sql } from 'kysely';
import { columnName } from './records.js';
import { standingSql } from './standing.js';
import type { Db } from './store.js';

/**
 * The queries behind the statistics (services/statistics.ts folds their rows into figures). Every one
 * is a GROUP BY count over the extracted (indexed) columns of a tenant's records, never a read of the
 * records themselves (services/statistics.ts names the index each one scans).
 */
export interface StatisticsTables {
  certifications: string;
  applications: string;
  programs: string;
  billingRuns: string;
  billingRunActions: string;
}

/** An "expiring by" window: the count of active certifications expiring on or before `until`, as `as`. */
export interface ExpiringWindow {
  as: string;
  until: string;
}

const P = columnName(['program_id']);
const S = columnName(['status']);
const E = columnName(['expiration_date']);
const A = columnName(['audit', 'status']);

/**
 * The queries of the `programs` figures, not yet run (bench/statistics.ts shows their plans):
 * certifications per programme, status and standing today; active certifications expiring from
 * `today` to the last window's day per programme; applications per programme and status; audit draws
 * per programme and status; the programmes' names.
 */
export function programQueries(db: Db, t: StatisticsTables, tenantId: string, today: string, windows: ExpiringWindow[]) {
  const last = windows.reduce((max, w) => (w.until > max ? w.until : max), today);
  const within = windows.map((w) => sql<number>`sum(case when ${sql.ref(E)} <= ${w.until} then 1 else 0 end)`.as(w.as));
  return {
    certifications: db
      .selectFrom(t.certifications)
      .select([sql.ref(P).as('program_id'), sql.ref(S).as('status'), standingSql(today).as('standing'), sql<number>`count(*)`.as('n')])
      .where('tenant_id', '=', tenantId)
      .groupBy([sql.ref(P), sql.ref(S), standingSql(today)]),
    expiring: db
      .selectFrom(t.certifications)
      .select([sql.ref(P).as('program_id'), ...within])
      .where('tenant_id', '=', tenantId)
      .where(sql.ref(S), '=', 'active')
      .where(sql.ref(E), '>=', today)
      .where(sql.ref(E), '<=', last)
      .groupBy(P),
    applications: db
      .selectFrom(t.applications)
      .select([sql.ref(P).as('program_id'), sql.ref(S).as('status'), sql<number>`count(*)`.as('n')])
      .where('tenant_id', '=', tenantId)
      .groupBy([P, S]),
    audits: db
      .selectFrom(t.applications)
      .select([sql.ref(P).as('program_id'), sql.ref(A).as('status'), sql<number>`count(*)`.as('n')])
      .where('tenant_id', '=', tenantId)
      .where(sql.ref(A), 'is not', null)
      .groupBy([P, A]),
    programs: db.selectFrom(t.programs).select(['id', 'data']).where('tenant_id', '=', tenantId),
  };
}

export type GroupRow = { program_id: unknown; status: unknown; n: unknown };
export interface ProgramRows {
  certifications: (GroupRow & { standing: unknown })[];
  /** one row per programme, a count per window (its `as`) */
  expiring: Record<string, unknown>[];
  /** `status` null: a draft */
  applications: GroupRow[];
  audits: GroupRow[];
  programs: { id: string; name: string | undefined }[];
}

/** The rows of the `programs` figures, the five queries run at once. */
export async function programRows(
  db: Db,
  t: StatisticsTables,
  tenantId: string,
  today: string,
  windows: ExpiringWindow[],
): Promise<ProgramRows> {
  const q = programQueries(db, t, tenantId, today, windows);
  const [certifications, expiring, applications, programs, audits] = await Promise.all([
    q.certifications.execute(),
    q.expiring.execute(),
    q.applications.execute(),
    q.programs.execute(),
    q.audits.execute(),
  ]);
  return {
    certifications,
    expiring,
    applications,
    audits,
    programs: programs.map((r) => ({
      id: String(r.id),
      name: ((typeof r.data === 'string' ? JSON.parse(r.data) : r.data) as { name?: string }).name,
    })),
  };
}

/** Records of a tenant's table counted by the value of one field (an extracted column). */
export function countBy(
  db: Db,
  table: string,
  tenantId: string,
  field: string,
  only?: { field: string; value: string },
): Promise<{ value: unknown; n: unknown }[]> {
  let q = db
    .selectFrom(table)
    .select([sql.ref(columnName([field])).as('value'), sql<number>`count(*)`.as('n')])
    .where('tenant_id', '=', tenantId);
  if (only) q = q.where(columnName([only.field]), '=', only.value);
  return q.groupBy(columnName([field])).execute();
}

/**
 * Sums of one numeric column grouped by two others over a tenant's rows (where `only` holds and the
 * summed column is set): the pending billing amounts per action type and currency.
 */
export function sumBy(
  db: Db,
  table: string,
  tenantId: string,
  groups: [string, string],
  summed: string,
  only?: { field: string; value: string },
): Promise<{ a: unknown; b: unknown; sum: unknown; n: unknown }[]> {
  const [a, b] = groups.map((g) => columnName([g])) as [string, string];
  const s = columnName([summed]);
  let q = db
    .selectFrom(table)
    .select([sql.ref(a).as('a'), sql.ref(b).as('b'), sql<number>`sum(${sql.ref(s)})`.as('sum'), sql<number>`count(*)`.as('n')])
    .where('tenant_id', '=', tenantId)
    .where(s, 'is not', null);
  if (only) q = q.where(columnName([only.field]), '=', only.value);
  return q.groupBy([a, b]).execute();
}
