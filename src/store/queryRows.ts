import { yieldToIo } from '../core/yield.js';
import readline from 'node:readline';
import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely';
import type { Db, DialectName } from './store.js';
import { Spool } from '../core/spool.js';

/**
 * The records a query selects, read a batch at a time (never all at once).
 *
 * PostgreSQL: one statement through a cursor (Kysely `.stream()`, pg-cursor): the database sorts once
 * and the rows come 1,000 per fetch on a pooled connection of their own.
 *
 * SQLite has a single connection, and Kysely holds it for the whole life of a `.stream()`: no other
 * request of the server gets a statement through until the iteration ends. So on SQLite:
 * - when the order allows it (the sort starts with id, or the order does not matter), the records
 *   are read in keyset slices (`id > last … order by id limit 1000`), each a short statement, yielding
 *   to other work in between;
 * - a sort on other fields needs the database's sort of the whole set: one statement streams only the
 *   sorted ids (into a temporary file, not memory), then the records are fetched by id, 1,000 per
 *   short statement. The connection is held for the sort and the ids (a few µs a row), not for
 *   reading, parsing and rendering every record (several times as long).
 * Between the slices or batches the records may change: a record is read as it is when its batch is
 * read, and one deleted in between is left out.
 */
export interface RowQuery {
  table: string;
  tenantId: string;
  where: Expression<SqlBool>;
  /** ORDER BY items (compileSort). */
  order: RawBuilder<unknown>[];
  /** Set when the sort starts with id: the order is the id order (id is unique). */
  idOrder?: 'asc' | 'desc';
  limit: number;
  offset: number;
}

export const SLICE_ROWS = 1000;

const parse = (data: unknown) => (typeof data === 'string' ? JSON.parse(data) : data) as Record<string, unknown>;

function base(db: Db, q: RowQuery) {
  return db.selectFrom(q.table).select(['id', 'data']).where('tenant_id', '=', q.tenantId).where(q.where);
}

/** How many records match the criteria (before offset and limit). */
export async function countMatches(db: Db, q: RowQuery): Promise<number> {
  const row = await db
    .selectFrom(q.table)
    .select(sql<number | string>`count(*)`.as('n'))
    .where('tenant_id', '=', q.tenantId)
    .where(q.where)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * The selected records, in the query's order, a batch (up to SLICE_ROWS) at a time: the stages after
 * this one work per batch, not per row (an async hop per row costs more than the row's rendering).
 * `anyOrder`: the caller needs the set, not the order, and knows that offset is 0 and every match fits
 * in the limit (the run's count pass): no sort at all.
 */
export async function* selectedRecords(
  db: Db,
  dialect: DialectName,
  q: RowQuery,
  opts: { anyOrder?: boolean } = {},
): AsyncGenerator<Record<string, unknown>[]> {
  if (dialect === 'sqlite') {
    if (q.idOrder || opts.anyOrder) yield* slices(db, q, q.idOrder ?? 'asc', opts.anyOrder ? 0 : q.offset);
    else yield* byIds(db, q);
    return;
  }
  let query = base(db, q);
  if (!opts.anyOrder) for (const o of q.order) query = query.orderBy(o);
  query = query.limit(q.limit).offset(opts.anyOrder ? 0 : q.offset);
  let batch: Record<string, unknown>[] = [];
  for await (const row of query.stream(SLICE_ROWS)) {
    batch.push(parse(row.data));
    if (batch.length >= SLICE_ROWS) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

async function* slices(db: Db, q: RowQuery, dir: 'asc' | 'desc', offset: number): AsyncGenerator<Record<string, unknown>[]> {
  let last: string | undefined;
  let remaining = q.limit;
  let skip = offset;
  while (remaining > 0) {
    const n = Math.min(SLICE_ROWS, remaining);
    let query = base(db, q);
    if (last !== undefined) query = query.where('id', dir === 'asc' ? '>' : '<', last);
    query = query.orderBy('id', dir).limit(n);
    if (skip) query = query.offset(skip);
    skip = 0;
    const rows = await query.execute();
    if (rows.length) yield rows.map((r) => parse(r.data));
    remaining -= rows.length;
    if (rows.length < n) return;
    last = rows[rows.length - 1]!.id as string;
    await yieldToIo();
  }
}

/** SQLite, any sort: the sorted ids first (one statement, spooled to a file), then the records by id. */
async function* byIds(db: Db, q: RowQuery): AsyncGenerator<Record<string, unknown>[]> {
  const ids = await Spool.open();
  try {
    await ids.fill(sortedIds(db, q));
    if (ids.error) throw ids.error;
    const lines = readline.createInterface({ input: ids.reader(), crlfDelay: Infinity });
    let batch: string[] = [];
    for await (const id of lines) {
      batch.push(id);
      if (batch.length >= SLICE_ROWS) {
        yield await fetchByIds(db, q, batch);
        batch = [];
        await yieldToIo();
      }
    }
    if (batch.length) yield await fetchByIds(db, q, batch);
  } finally {
    await ids.close();
  }
}

async function* sortedIds(db: Db, q: RowQuery): AsyncGenerator<string> {
  let query = db.selectFrom(q.table).select('id').where('tenant_id', '=', q.tenantId).where(q.where);
  for (const o of q.order) query = query.orderBy(o);
  let lines: string[] = [];
  for await (const row of query.limit(q.limit).offset(q.offset).stream(SLICE_ROWS)) {
    const id = row.id as string;
    // ids match their resource's pattern (word characters, -, |, :): a line break cannot occur
    if (/[\r\n]/.test(id)) throw new Error(`record id ${JSON.stringify(id)} cannot be spooled`);
    lines.push(id);
    if (lines.length >= 10 * SLICE_ROWS) {
      yield `${lines.join('\n')}\n`;
      lines = [];
    }
  }
  if (lines.length) yield `${lines.join('\n')}\n`;
}

async function fetchByIds(db: Db, q: RowQuery, ids: string[]): Promise<Record<string, unknown>[]> {
  const rows = await db.selectFrom(q.table).select(['id', 'data']).where('tenant_id', '=', q.tenantId).where('id', 'in', ids).execute();
  const byId = new Map(rows.map((r) => [r.id as string, r.data]));
  const out: Record<string, unknown>[] = [];
  for (const id of ids) {
    const data = byId.get(id);
    if (data !== undefined) out.push(parse(data));
  }
  return out;
}
