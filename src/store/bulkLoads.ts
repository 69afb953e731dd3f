import { sql } from 'kysely';
import type { FieldError } from '../core/errors.js';
import { valueAt } from '../core/values.js';
import type { Db, DialectName } from './store.js';
import { EXTERNAL_ID_COLUMN, type StoredRecord } from './records.js';
import type { BulkLoad, ServerKysely } from './tables.js';

/**
 * The bulk loads repository (tables of migration 6): the load row with its counters, and its rejected rows.
 * The counters move only by `advance`, which names the rows_read it expects: a chunk commits its
 * records, its rejected rows and its counters together, and a chunk that someone else already
 * committed (a worker that lost its lease) rolls back instead of writing twice.
 */
/** A load row, its bigint file size read as a number. */
export type LoadRow = Omit<BulkLoad, 'file_bytes'> & { file_bytes: number };

export interface Counts {
  read: number;
  written: number;
  rejected: number;
  unchanged: number;
}

const num = (v: unknown) => Number(v ?? 0);

function toLoad(r: BulkLoad): LoadRow {
  return {
    ...r,
    dry_run: num(r.dry_run),
    file_bytes: num(r.file_bytes),
    rows_read: num(r.rows_read),
    rows_written: num(r.rows_written),
    rows_rejected: num(r.rows_rejected),
    rows_unchanged: num(r.rows_unchanged),
  };
}

export const loadStore = {
  async insert(db: ServerKysely, row: LoadRow): Promise<void> {
    await db.insertInto('bulk_loads').values(row).execute();
  },

  async get(db: ServerKysely, tenantId: string, id: string): Promise<LoadRow | undefined> {
    const r = await db.selectFrom('bulk_loads').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return r ? toLoad(r) : undefined;
  },

  async remove(db: ServerKysely, tenantId: string, id: string): Promise<void> {
    await db.deleteFrom('bulk_loads').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },

  async set(
    db: ServerKysely,
    tenantId: string,
    id: string,
    values: Partial<Pick<LoadRow, 'status' | 'execution_id' | 'finished_at' | 'error'>>,
    onlyIfStatus?: LoadRow['status'],
  ): Promise<void> {
    let q = db.updateTable('bulk_loads').set(values).where('tenant_id', '=', tenantId).where('id', '=', id);
    if (onlyIfStatus) q = q.where('status', '=', onlyIfStatus);
    await q.execute();
  },

  /** Adds a chunk's counts if rows_read is still `from`; false when it is not (the chunk was committed by another worker). */
  async advance(db: ServerKysely, tenantId: string, id: string, from: number, c: Counts): Promise<boolean> {
    const res = await db
      .updateTable('bulk_loads')
      .set({
        rows_read: from + c.read,
        rows_written: sql`rows_written + ${c.written}`,
        rows_rejected: sql`rows_rejected + ${c.rejected}`,
        rows_unchanged: sql`rows_unchanged + ${c.unchanged}`,
      })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('rows_read', '=', from)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  },

  /**
   * Newest first (ids are UUIDv7: id order is start order), after `before` (the last id of the
   * previous page), optionally of one resource and one stored status.
   */
  async list(
    db: ServerKysely,
    tenantId: string,
    q: { resource?: string; status?: string; before?: string; limit: number },
  ): Promise<LoadRow[]> {
    let sel = db.selectFrom('bulk_loads').selectAll().where('tenant_id', '=', tenantId);
    if (q.resource !== undefined) sel = sel.where('resource', '=', q.resource);
    if (q.status !== undefined) sel = sel.where('status', '=', q.status as LoadRow['status']);
    if (q.before !== undefined) sel = sel.where('id', '<', q.before);
    const rows = await sel.orderBy('id', 'desc').limit(q.limit).execute();
    return rows.map(toLoad);
  },

  /** Asks a load to stop at its next chunk (the first ask is kept). */
  async requestCancel(db: ServerKysely, tenantId: string, id: string, at: string): Promise<void> {
    await db
      .updateTable('bulk_loads')
      .set({ cancel_requested_at: at })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('cancel_requested_at', 'is', null)
      .execute();
  },

  async cancelRequested(db: ServerKysely, tenantId: string, id: string): Promise<boolean> {
    const r = await db
      .selectFrom('bulk_loads')
      .select('cancel_requested_at')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    return Boolean(r?.cancel_requested_at);
  },

  async addErrors(
    db: ServerKysely,
    tenantId: string,
    loadId: string,
    rows: { no: number; errors: FieldError[]; source?: string }[],
  ): Promise<void> {
    for (let i = 0; i < rows.length; i += 500) {
      const part = rows.slice(i, i + 500);
      await db
        .insertInto('bulk_load_errors')
        .values(
          part.map((r) => ({
            tenant_id: tenantId,
            load_id: loadId,
            row_no: r.no,
            errors: JSON.stringify(r.errors),
            source: r.source ?? null,
          })),
        )
        .execute();
    }
  },

  /** Rejected rows with the text they were read from (the rejects file), in row order, after row `after`. */
  rejects(db: ServerKysely, tenantId: string, loadId: string, after: number, limit: number) {
    return errorRows(db, tenantId, loadId, after, limit, true);
  },

  /** Rejected rows in row order, after row `after`. */
  errors(db: ServerKysely, tenantId: string, loadId: string, after: number, limit: number) {
    return errorRows(db, tenantId, loadId, after, limit, false);
  },

  /** The rows up to `upTo` that were rejected (a resumed load rebuilds what the rows before it claimed). */
  async rejectedUpTo(db: ServerKysely, tenantId: string, loadId: string, upTo: number): Promise<Set<number>> {
    const rows = await db
      .selectFrom('bulk_load_errors')
      .select('row_no')
      .where('tenant_id', '=', tenantId)
      .where('load_id', '=', loadId)
      .where('row_no', '<=', upTo)
      .execute();
    return new Set(rows.map((r) => Number(r.row_no)));
  },
};

/** Records of a resource table whose sys_external_id is one of `ids` (first by id when several share one). */
export async function byExternalId(db: Db, table: string, tenantId: string, ids: string[]): Promise<Map<string, StoredRecord>> {
  const out = new Map<string, StoredRecord>();
  if (!ids.length) return out;
  const rows = await db
    .selectFrom(table)
    .select('data')
    .where('tenant_id', '=', tenantId)
    .where(EXTERNAL_ID_COLUMN.name, 'in', ids)
    // no ORDER BY: SQLite would walk the tenant's records in id order instead of using the index
    .execute();
  for (const r of rows) {
    const rec = (typeof r.data === 'string' ? JSON.parse(r.data) : r.data) as StoredRecord;
    const ext = rec.sys_external_id as string;
    const seen = out.get(ext);
    if (!seen || rec.id < seen.id) out.set(ext, rec);
  }
  return out;
}

/**
 * Records of a resource table matching one of `keys` on its natural-key columns (one value per part,
 * in the parts' order), keyed by JSON.stringify(values); the first by id when several match.
 */
export async function byNaturalKey(
  db: Db,
  table: string,
  tenantId: string,
  parts: { column: string; path: string[] }[],
  keys: unknown[][],
): Promise<Map<string, StoredRecord>> {
  const out = new Map<string, StoredRecord>();
  if (!keys.length) return out;
  const rows = await db
    .selectFrom(table)
    .select('data')
    .where('tenant_id', '=', tenantId)
    .where((eb) => eb.or(keys.map((k) => eb.and(parts.map((p, i) => eb(p.column, '=', k[i]))))))
    .execute();
  for (const r of rows) {
    const rec = (typeof r.data === 'string' ? JSON.parse(r.data) : r.data) as StoredRecord;
    const key = JSON.stringify(parts.map((p) => valueAt(rec, p.path)));
    const seen = out.get(key);
    if (!seen || rec.id < seen.id) out.set(key, rec);
  }
  return out;
}

/**
 * PostgreSQL: loads of one tenant's resource that match on sys_external_id take turns per chunk (a
 * transaction-scoped advisory lock), so that two concurrent loads cannot both create the record of
 * one external id. SQLite transactions are serialised already.
 */
export async function lockExternalIds(db: Db, dialect: DialectName, tenantId: string, resource: string): Promise<void> {
  if (dialect !== 'postgres') return;
  await sql`select pg_advisory_xact_lock(hashtextextended(${`accredit.bulk:${tenantId}:${resource}`}, 0))`.execute(db);
}

/** A load's rejected rows after row `after`; with `withSource`, the text each was read from. */
async function errorRows(
  db: ServerKysely,
  tenantId: string,
  loadId: string,
  after: number,
  limit: number,
  withSource: true,
): Promise<{ row: number; errors: FieldError[]; source: string | null }[]>;
async function errorRows(
  db: ServerKysely,
  tenantId: string,
  loadId: string,
  after: number,
  limit: number,
  withSource: false,
): Promise<{ row: number; errors: FieldError[] }[]>;
async function errorRows(db: ServerKysely, tenantId: string, loadId: string, after: number, limit: number, withSource: boolean) {
  const rows = await db
    .selectFrom('bulk_load_errors')
    .select(withSource ? ['row_no', 'errors', 'source'] : ['row_no', 'errors'])
    .where('tenant_id', '=', tenantId)
    .where('load_id', '=', loadId)
    .where('row_no', '>', after)
    .orderBy('row_no')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    row: Number(r.row_no),
    errors: (typeof r.errors === 'string' ? JSON.parse(r.errors) : r.errors) as FieldError[],
    ...(withSource ? { source: (r as { source?: string | null }).source ?? null } : {}),
  }));
}
