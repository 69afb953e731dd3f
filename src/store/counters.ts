import { sql } from 'kysely';
import type { Db } from './store.js';

/**
 * Gap-free counters: the next value is taken inside the caller's transaction by an upsert, which
 * locks the counter row until commit (PostgreSQL) or runs in the single writer (SQLite). Concurrent
 * takers are serialized; a rolled-back transaction gives its value back. So numbers are unique and
 * consecutive, even when many activations race.
 */
export async function nextValue(db: Db, tenantId: string, name: string, start: number): Promise<number> {
  const row = await db
    .insertInto('counters')
    .values({ tenant_id: tenantId, name, value: start })
    .onConflict((oc) => oc.columns(['tenant_id', 'name']).doUpdateSet({ value: sql`counters.value + 1` }))
    .returning('value')
    .executeTakeFirstOrThrow();
  return Number(row.value);
}
