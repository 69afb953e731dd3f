import { sql } from 'kysely';
import { columnName, type StoredRecord, type TableSpec } from './records.js';
import { effectiveStatusSql, standingSql } from './standing.js';
import type { Db, DialectName } from './store.js';

/**
 * The public registry's reads (services/registry.ts decides what they are asked and what an entry
 * shows): a directory's certifications by criteria, programme names, and the certifications holding a
 * certificate number. Status and standing are today's (store/standing.ts), as records and verify show them.
 */

/** One search criterion of a directory (domain/registry/publishing.ts parses them from the query). */
export interface RegistryCriterion {
  field: string;
  /** contains: case-insensitive infix; number: a whole number; exact: the value itself. */
  kind: 'contains' | 'number' | 'exact';
  value: string | number;
}

export interface EntriesQuery {
  tenantId: string;
  /** The day status and standing are computed for (YYYY-MM-DD). */
  today: string;
  /** Stored statuses to read (an index range: those the listed statuses can come from). */
  storedStatuses: string[];
  /** Today's statuses listed. */
  statuses: string[];
  /** undefined = every programme */
  programIds?: string[];
  criteria: RegistryCriterion[];
  /** Keyset paging: ids after this one. */
  after?: string;
  limit: number;
}

/** The text of a top-level field of the stored JSON (fields without an extracted column). */
const jsonText = (dialect: DialectName, field: string) =>
  dialect === 'postgres' ? sql<string>`(data ->> ${field}::text)` : sql<string>`json_extract(data, ${`$.${field}`})`;

function condition(spec: TableSpec, dialect: DialectName, c: RegistryCriterion, today: string) {
  if (c.field === 'status') return sql<boolean>`${effectiveStatusSql(today)} = ${String(c.value)}`;
  if (c.field === 'standing') return sql<boolean>`${standingSql(today)} = ${String(c.value)}`;
  const column = spec.columns.find((col) => col.path.length === 1 && col.path[0] === c.field);
  const expr = column ? sql.ref(column.name) : jsonText(dialect, c.field);
  if (c.kind === 'contains') {
    const pattern = `%${String(c.value)
      .toLowerCase()
      .replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
    return sql<boolean>`lower(${expr}) like ${pattern} escape '\\'`;
  }
  if (c.kind === 'number') {
    if (column?.type === 'num') return sql<boolean>`${expr} = ${c.value}`;
    // a number inside the JSON, compared as its text (whole numbers only)
    return sql<boolean>`${dialect === 'postgres' ? expr : sql`cast(${expr} as text)`} = ${String(c.value)}`;
  }
  return sql<boolean>`${expr} = ${String(c.value)}`;
}

const parse = (data: unknown) => (typeof data === 'string' ? JSON.parse(data) : data) as StoredRecord;

/** Certifications (the table of `spec`) matching a directory's scope and criteria, in id order, up to `limit`. */
export async function directoryCertifications(
  db: Db,
  dialect: DialectName,
  spec: TableSpec,
  q: EntriesQuery,
): Promise<{ id: string; rec: StoredRecord }[]> {
  let query = db
    .selectFrom(spec.name)
    .select(['id', 'data'])
    .where('tenant_id', '=', q.tenantId)
    .where(sql.ref(columnName(['status'])), 'in', q.storedStatuses)
    .where(sql<string>`${effectiveStatusSql(q.today)}`, 'in', q.statuses);
  if (q.programIds) query = query.where(sql.ref(columnName(['program_id'])), 'in', q.programIds);
  for (const c of q.criteria) query = query.where(() => condition(spec, dialect, c, q.today));
  if (q.after !== undefined) query = query.where('id', '>', q.after);
  const rows = await query.orderBy('id').limit(q.limit).execute();
  return rows.map((r) => ({ id: String(r.id), rec: parse(r.data) }));
}

/** The names of programmes (the programs table `table`), by id; a programme without a name maps to undefined. */
export async function programNames(db: Db, table: string, tenantId: string, ids: string[]): Promise<Map<string, string | undefined>> {
  const out = new Map<string, string | undefined>();
  if (!ids.length) return out;
  const rows = await db.selectFrom(table).select(['id', 'data']).where('tenant_id', '=', tenantId).where('id', 'in', ids).execute();
  for (const r of rows) out.set(String(r.id), (parse(r.data) as { name?: string }).name);
  return out;
}

/** The certifications of a programme holding certificate `number` (the first `limit` by id). */
export async function certificationsByNumber(
  db: Db,
  table: string,
  tenantId: string,
  programId: string,
  number: number,
  limit = 100,
): Promise<StoredRecord[]> {
  const rows = await db
    .selectFrom(table)
    .select('data')
    .where('tenant_id', '=', tenantId)
    .where(sql.ref(columnName(['program_id'])), '=', programId)
    .where(sql.ref(columnName(['number'])), '=', number)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => parse(r.data));
}
