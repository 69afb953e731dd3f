import { sql } from 'kysely';
import type { Db } from './db.js';

/** Every record of a definition's table across tenants, as (tenant_id, id), in that order: the recurring billing runs the scheduler walks. */
export async function everyRecordId(db: Db, table: string): Promise<{ tenant_id: string; id: string }[]> {
  const { rows } = await sql<{
    tenant_id: string;
    id: string;
  }>`select tenant_id, id from ${sql.table(table)} order by tenant_id, id`.execute(db);
  return rows;
}
