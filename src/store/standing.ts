import { sql, type RawBuilder } from 'kysely';
import { columnName } from './records.js';
import type { Db } from './store.js';

/**
 * The standing of a certification (domain/lifecycle/standing.ts) as SQL over the certifications
 * table's extracted columns, for the readers that count or filter many rows at once (statistics, the
 * directory search, the lifecycle sweep's scan). Each expression below is the domain function written
 * in SQL, case for case; test/lifecycle/standing.test.ts checks that the record's `standing`, verify,
 * the directory and the statistics agree on every boundary day.
 *
 * `today` is inlined as a literal (a YYYY-MM-DD checked here), so that an expression reads the same in
 * a SELECT list and its GROUP BY (PostgreSQL compares them as text, and two bound parameters differ).
 */
const col = (field: string) => sql.ref(columnName([field]));
const S = col('status');
const E = col('expiration_date');
const G = col('grace_period_end_date');
const R = col('reinstatement_end_date');

const day = (today: string) => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(today)) throw new Error(`not a day: ${today}`);
  return sql.lit(today);
};

/** lastCoveredDay: the grace end when set and not before the expiration date, else the expiration date. */
const LAST = sql`(case when ${G} is null then ${E} when ${E} is null then ${G} when ${G} > ${E} then ${G} else ${E} end)`;

/** standing(c, today): 'current' | 'in_grace' | 'lapsed_reinstatable' | 'lapsed' | null. */
export function standingSql(today: string): RawBuilder<string | null> {
  const t = day(today);
  return sql<string | null>`(case
    when ${S} = 'active' and (${LAST} is null or ${t} <= ${LAST}) then (case when ${E} is not null and ${t} > ${E} then 'in_grace' else 'current' end)
    when ${S} = 'active' or ${S} = 'inactive' then (case when (${R} is not null and ${t} <= ${R}) or (${LAST} is not null and ${t} <= ${LAST}) then 'lapsed_reinstatable' else 'lapsed' end)
    else null end)`;
}

/** dueToLapse(c, today): active and past the last day its term covers. */
export function dueToLapseSql(today: string): RawBuilder<boolean> {
  return sql<boolean>`(${S} = 'active' and ${LAST} is not null and ${LAST} < ${day(today)})`;
}

/** effectiveStatus(c, today): inactive when due to lapse, else the stored status. */
export function effectiveStatusSql(today: string): RawBuilder<string | null> {
  return sql<string | null>`(case when ${dueToLapseSql(today)} then 'inactive' else ${S} end)`;
}

// ---- the lifecycle sweep's scans ------------------------------------------------------------------

const A_STATUS = sql.ref(columnName(['status']));
const A_EXPIRES = sql.ref(columnName(['expiration_date']));

/** applicationExpired (domain/billing/eligibility.ts): an open status (none = draft) and an expiration date before today. */
function applicationDueSql(expirable: string[], today: string): RawBuilder<boolean> {
  const list = sql.join(expirable.map((s) => sql.lit(s)));
  return sql<boolean>`((${A_STATUS} in (${list}) or ${A_STATUS} is null) and ${A_EXPIRES} is not null and ${A_EXPIRES} < ${day(today)})`;
}

export interface SweepTables {
  certifications: string;
  applications: string;
  /** Application statuses that expire (EXPIRABLE_APPLICATION_STATUSES). */
  expirable: string[];
}

/** The tenants with a certification due to lapse or an application due to expire on `today` (run in the system scope). */
export async function tenantsWithDueWork(db: Db, t: SweepTables, today: string): Promise<string[]> {
  const { rows } = await sql<{ tenant_id: string }>`
    select distinct tenant_id from ${sql.table(t.certifications)} where ${dueToLapseSql(today)}
    union
    select distinct tenant_id from ${sql.table(t.applications)} where ${applicationDueSql(t.expirable, today)}
    order by 1`.execute(db);
  return rows.map((r) => String(r.tenant_id));
}

/** Ids of a tenant's certifications due to lapse, after `after` in id order (keyset pages). */
export async function dueCertificationIds(
  db: Db,
  t: SweepTables,
  tenantId: string,
  today: string,
  after: string | undefined,
  limit: number,
): Promise<string[]> {
  let q = db
    .selectFrom(t.certifications)
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where(sql.ref(columnName(['status'])), '=', 'active')
    .where(dueToLapseSql(today));
  if (after !== undefined) q = q.where('id', '>', after);
  return (await q.orderBy('id').limit(limit).execute()).map((r) => String(r.id));
}

/** Ids of a tenant's open applications due to expire, after `after` in id order. */
export async function dueApplicationIds(
  db: Db,
  t: SweepTables,
  tenantId: string,
  today: string,
  after: string | undefined,
  limit: number,
): Promise<string[]> {
  let q = db.selectFrom(t.applications).select('id').where('tenant_id', '=', tenantId).where(applicationDueSql(t.expirable, today));
  if (after !== undefined) q = q.where('id', '>', after);
  return (await q.orderBy('id').limit(limit).execute()).map((r) => String(r.id));
}

/** How many of a tenant's certifications are due to lapse and applications due to expire. */
export async function countDueWork(db: Db, t: SweepTables, tenantId: string, today: string): Promise<number> {
  const count = async (table: string, cond: RawBuilder<boolean>) =>
    Number(
      (await db.selectFrom(table).select(sql<number>`count(*)`.as('n')).where('tenant_id', '=', tenantId).where(cond).executeTakeFirst())
        ?.n ?? 0,
    );
  return (await count(t.certifications, dueToLapseSql(today))) + (await count(t.applications, applicationDueSql(t.expirable, today)));
}
