import { sql } from 'kysely';
import type { Db } from './store.js';
import { inSavepoint } from './savepoints.js';
import type { ServerKysely } from './tables.js';
import { UniqueClash, type RecordTable, type UniqueIndex } from './records.js';

/**
 * Gap-free counters: the next value is taken inside the caller's transaction by an upsert, which
 * locks the counter row until commit (PostgreSQL) or runs in the single writer (SQLite). Concurrent
 * takers are serialized; a rolled-back transaction gives its value back. So numbers are unique and
 * consecutive, even when many activations race.
 */
export async function nextValue(db: ServerKysely, tenantId: string, name: string, start: number): Promise<number> {
  const row = await db
    .insertInto('counters')
    .values({ tenant_id: tenantId, name, value: start })
    .onConflict((oc) => oc.columns(['tenant_id', 'name']).doUpdateSet({ value: sql`counters.value + 1` }))
    .returning('value')
    .executeTakeFirstOrThrow();
  return Number(row.value);
}

/**
 * Where a counter's values are held: a unique index of a record table whose last column holds them,
 * the other columns (its scope) equal to `scope` (the certificate numbers of one programme).
 */
export interface HeldBy {
  table: RecordTable;
  index: UniqueIndex;
  scope: unknown[];
}

/**
 * The counter's next value that no record holds: its next value, or, when a record holds that one
 * already (a number set by hand or loaded), the first value above it that none holds (the first gap
 * of the run of held values, found in one index range scan). The counter moves to the value taken, so
 * it never hands out a held value and does not look at the ones it skipped again.
 */
export async function nextFreeValue(db: Db, tenantId: string, name: string, start: number, held: HeldBy): Promise<number> {
  const n = await nextValue(db, tenantId, name, start);
  const { table, index, scope } = held;
  const cols = index.columns;
  const last = cols[cols.length - 1]!;
  const where = (alias: string) =>
    sql.join(
      [sql`${sql.ref(`${alias}.tenant_id`)} = ${tenantId}`, ...scope.map((v, i) => sql`${sql.ref(`${alias}.${cols[i]}`)} = ${v}`)],
      sql` and `,
    );
  const t = sql.table(table.spec.name);
  const taken = await sql`select 1 from ${t} a where ${where('a')} and ${sql.ref(`a.${last}`)} = ${n} limit 1`.execute(db);
  if (!taken.rows.length) return n;
  const a = sql.ref(`a.${last}`);
  const { rows } = await sql<{ free: number }>`
    select ${a} + 1 as free from ${t} a
    where ${where('a')} and ${a} >= ${n} and ${a} = round(${a})
      and not exists (select 1 from ${t} b where ${where('b')} and ${sql.ref(`b.${last}`)} = ${a} + 1)
    order by ${a} limit 1`.execute(db);
  const free = Number(rows[0]!.free);
  await (db as ServerKysely)
    .updateTable('counters')
    .set({ value: free })
    .where('tenant_id', '=', tenantId)
    .where('name', '=', name)
    .execute();
  return free;
}

/**
 * Writes a record with the counter's next free value (see nextFreeValue), in the caller's
 * transaction. On PostgreSQL a concurrent transaction may give a record that value between the look
 * and the write (its row was not committed yet): the unique index refuses the write, which is undone
 * to a savepoint, and the next free value is taken. On SQLite writers are serialized: the look sees
 * every record.
 */
export async function withFreeValue<T>(
  db: Db,
  tenantId: string,
  name: string,
  start: number,
  held: HeldBy,
  write: (value: number) => Promise<T>,
): Promise<T> {
  const pg = held.table.dialect === 'postgres';
  for (let attempt = 1; ; attempt++) {
    const value = await nextFreeValue(db, tenantId, name, start, held);
    if (!pg) return write(value);
    try {
      return await inSavepoint(db, 'postgres', 'free_value', () => write(value));
    } catch (e) {
      // undone to the savepoint: the next free value
      if (!(e instanceof UniqueClash) || e.index.name !== held.index.name || attempt >= 10) throw e;
    }
  }
}
