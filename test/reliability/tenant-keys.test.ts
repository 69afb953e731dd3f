import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { BACKEND, startApp } from '../helpers.js';

/**
 * Every table's primary key and unique indexes begin with `tenant_id`: what lets a tenant-sharded
 * PostgreSQL (Citus, distributing on tenant_id) place each tenant's rows, and their uniqueness checks,
 * on one node. Tables that hold no tenant's data are listed here, and must stay few.
 */
const NOT_TENANT_DATA = new Set(['accredit_migrations', 'leases', 'rate_limit_hits']);

test(`every primary key and unique index begins with tenant_id (${BACKEND})`, async () => {
  const t = await startApp();
  try {
    const rows =
      BACKEND === 'postgres'
        ? (
            await sql<{ table: string; index: string; first: string }>`
              select c.relname as "table", i.relname as "index", a.attname as "first"
              from pg_index x
              join pg_class i on i.oid = x.indexrelid
              join pg_class c on c.oid = x.indrelid
              join pg_namespace n on n.oid = c.relnamespace
              left join pg_attribute a on a.attrelid = c.oid and a.attnum = x.indkey[0]
              where x.indisunique and n.nspname = current_schema()`.execute(t.store.db)
          ).rows
        : await sqliteUnique(t);
    assert.ok(rows.length > 50, `found ${rows.length} unique indexes`);
    const wrong = rows.filter((r) => !NOT_TENANT_DATA.has(r.table) && r.first !== 'tenant_id');
    assert.deepEqual(wrong, [], 'unique keys that do not begin with tenant_id');
  } finally {
    await t.close();
  }
});

async function sqliteUnique(t: Awaited<ReturnType<typeof startApp>>) {
  const out: { table: string; index: string; first: string }[] = [];
  const tables = (
    await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(t.store.db)
  ).rows;
  for (const { name } of tables) {
    const list = (await sql<{ name: string; unique: number }>`select * from pragma_index_list(${name})`.execute(t.store.db)).rows;
    for (const ix of list.filter((l) => l.unique)) {
      const cols = (await sql<{ name: string; seqno: number }>`select * from pragma_index_info(${ix.name})`.execute(t.store.db)).rows;
      out.push({ table: name, index: ix.name, first: cols.sort((a, b) => a.seqno - b.seqno)[0]?.name ?? '' });
    }
  }
  return out;
}
