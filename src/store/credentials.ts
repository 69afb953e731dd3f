import { sql } from 'kysely';
import { columnName, type TableSpec } from './records.js';
import { nextValue } from './counters.js';
import type { CredentialsTable, IssuerKeysTable, ServerKysely } from './tables.js';
import type { Selectable } from 'kysely';

/**
 * The credential tables (migration 11; services/credentials/ says what they are for): issuer keys,
 * issued credentials and the signed status lists. JSON documents are written as text and read back
 * parsed on both back ends.
 */
export type IssuerKeyRow = Selectable<IssuerKeysTable>;
export type CredentialRow = Omit<Selectable<CredentialsTable>, 'document' | 'status_index'> & {
  status_index: number;
  document: Record<string, unknown>;
};

const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown>;
const credential = (r: Selectable<CredentialsTable>): CredentialRow => ({
  ...r,
  status_index: Number(r.status_index),
  document: json(r.document),
});

// ---- issuer keys ----------------------------------------------------------------------------------

/** The tenant's keys: the active one (no retired_at) first, then the retired ones, last retired first. */
export async function issuerKeys(db: ServerKysely, tenantId: string): Promise<IssuerKeyRow[]> {
  const rows = await db.selectFrom('issuer_keys').selectAll().where('tenant_id', '=', tenantId).execute();
  const rank = (r: IssuerKeyRow) => r.retired_at ?? '\uffff';
  return rows.sort((a, b) => rank(b).localeCompare(rank(a)) || b.created_at.localeCompare(a.created_at));
}

/**
 * Adds a key as the tenant's active one, retiring the one before (in the caller's transaction). With
 * `onlyIfNone`, adds it only when the tenant has no active key (first use: two racing processes make
 * one key, the loser's insert does nothing): false then.
 */
export async function addIssuerKey(db: ServerKysely, row: IssuerKeyRow, onlyIfNone: boolean): Promise<boolean> {
  // the tenant's key changes one at a time: the counter row's upsert holds a lock until commit
  // (PostgreSQL; SQLite has one writer), which a SELECT … FOR UPDATE over no rows would not
  await nextValue(db, row.tenant_id, 'issuer_keys.changes', 1);
  const active = await db
    .selectFrom('issuer_keys')
    .select('id')
    .where('tenant_id', '=', row.tenant_id)
    .where('retired_at', 'is', null)
    .execute();
  if (onlyIfNone && active.length) return false;
  await db
    .updateTable('issuer_keys')
    .set({ retired_at: row.created_at })
    .where('tenant_id', '=', row.tenant_id)
    .where('retired_at', 'is', null)
    .execute();
  await db.insertInto('issuer_keys').values(row).execute();
  return true;
}

// ---- credentials ----------------------------------------------------------------------------------

export function credentialById(db: ServerKysely, tenantId: string, id: string): Promise<CredentialRow | undefined> {
  return db
    .selectFrom('credentials')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst()
    .then((r) => (r ? credential(r) : undefined));
}

/** The latest revision of a certification's credential with this content, if any. */
export function latestCredential(db: ServerKysely, tenantId: string, certificationId: string, contentHash: string) {
  return db
    .selectFrom('credentials')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('certification_id', '=', certificationId)
    .where('content_hash', '=', contentHash)
    .orderBy('revision', 'desc')
    .limit(1)
    .executeTakeFirst()
    .then((r) => (r ? credential(r) : undefined));
}

/** A certification's most recently issued credential, whatever its content. */
export function newestCredentialOf(db: ServerKysely, tenantId: string, certificationId: string) {
  return db
    .selectFrom('credentials')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('certification_id', '=', certificationId)
    .orderBy('issued_at', 'desc')
    .orderBy('revision', 'desc')
    .limit(1)
    .executeTakeFirst()
    .then((r) => (r ? credential(r) : undefined));
}

/**
 * Stores a newly signed credential and revokes the certification's others (it replaces them), in the
 * caller's transaction; false when another process stored that revision first (then read it back).
 */
export async function insertCredential(db: ServerKysely, row: CredentialRow): Promise<boolean> {
  const inserted = await db
    .insertInto('credentials')
    .values({ ...row, document: JSON.stringify(row.document) })
    .onConflict((oc) => oc.doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!inserted) return false;
  await db
    .updateTable('credentials')
    .set({ revoked_at: row.issued_at })
    .where('tenant_id', '=', row.tenant_id)
    .where('certification_id', '=', row.certification_id)
    .where('id', '<>', row.id)
    .where('revoked_at', 'is', null)
    .execute();
  return true;
}

/** Marks credentials revoked (never undone). */
export async function revokeCredentials(db: ServerKysely, tenantId: string, ids: string[], at: string): Promise<void> {
  if (!ids.length) return;
  await db
    .updateTable('credentials')
    .set({ revoked_at: at })
    .where('tenant_id', '=', tenantId)
    .where('id', 'in', ids)
    .where('revoked_at', 'is', null)
    .execute();
}

/** What a status list needs of one credential that may be flagged: its own state and its certification's. */
export interface FlagCandidate {
  id: string;
  status_index: number;
  revoked_at: string | null;
  /** null when the certification is gone */
  certification: {
    status: unknown;
    expiration_date: unknown;
    grace_period_end_date: unknown;
    reinstatement_end_date: unknown;
  } | null;
}

/**
 * The credentials with an index in [from, to) that a status list may flag: revoked ones, and those
 * whose certification is gone, not active, or active but past the last day its term covers. The
 * others (active, within their term) flag nothing and are not read, so the work follows the flagged.
 */
export async function flagCandidates(
  db: ServerKysely,
  certifications: TableSpec,
  tenantId: string,
  range: { from: number; to: number },
  today: string,
): Promise<FlagCandidate[]> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(today)) throw new Error(`not a day: ${today}`);
  const c = (field: string) => sql.ref(`c.${columnName([field])}`);
  const last = sql`(case when ${c('grace_period_end_date')} is null then ${c('expiration_date')} when ${c('expiration_date')} is null then ${c('grace_period_end_date')} when ${c('grace_period_end_date')} > ${c('expiration_date')} then ${c('grace_period_end_date')} else ${c('expiration_date')} end)`;
  const { rows } = await sql<Record<string, unknown>>`select k.id, k.status_index, k.revoked_at, c.id as cert_id,
      ${c('status')} as status, ${c('expiration_date')} as expiration_date,
      ${c('grace_period_end_date')} as grace_period_end_date, ${c('reinstatement_end_date')} as reinstatement_end_date
    from credentials k
    left join ${sql.table(certifications.name)} c on c.tenant_id = k.tenant_id and c.id = k.certification_id
    where k.tenant_id = ${tenantId} and k.status_index >= ${range.from} and k.status_index < ${range.to}
      and (k.revoked_at is not null or c.id is null or ${c('status')} is null or ${c('status')} <> 'active'
        or (${last} is not null and ${last} < ${sql.lit(today)}))
    order by k.status_index`.execute(db);
  return rows.map((r) => ({
    id: String(r.id),
    status_index: Number(r.status_index),
    revoked_at: (r.revoked_at as string | null) ?? null,
    certification:
      r.cert_id == null
        ? null
        : {
            status: r.status,
            expiration_date: r.expiration_date,
            grace_period_end_date: r.grace_period_end_date,
            reinstatement_end_date: r.reinstatement_end_date,
          },
  }));
}

/** The key that signs a status list: the key of its first credential (a list holds one key's credentials). */
export async function listKeyId(db: ServerKysely, tenantId: string, range: { from: number; to: number }): Promise<string | undefined> {
  const r = await db
    .selectFrom('credentials')
    .select('key_id')
    .where('tenant_id', '=', tenantId)
    .where('status_index', '>=', range.from)
    .where('status_index', '<', range.to)
    .orderBy('status_index')
    .limit(1)
    .executeTakeFirst();
  return r?.key_id;
}

/** Moves a counter on so that its next value is at least `next` (nothing when it has not started). */
export async function advanceCounter(db: ServerKysely, tenantId: string, name: string, next: number): Promise<void> {
  await db
    .updateTable('counters')
    .set({ value: next - 1 })
    .where('tenant_id', '=', tenantId)
    .where('name', '=', name)
    .where('value', '<', next - 1)
    .execute();
}

/** The highest status index given so far (-1 when none): how many lists there are. */
export async function maxStatusIndex(db: ServerKysely, tenantId: string): Promise<number> {
  const r = await db
    .selectFrom('credentials')
    .select((eb) => eb.fn.max('status_index').as('m'))
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  return r?.m == null ? -1 : Number(r.m);
}

// ---- status lists ---------------------------------------------------------------------------------

export async function statusList(db: ServerKysely, tenantId: string, purpose: string, list: number) {
  const r = await db
    .selectFrom('status_lists')
    .select(['bits_hash', 'document', 'updated_at'])
    .where('tenant_id', '=', tenantId)
    .where('purpose', '=', purpose)
    .where('list', '=', list)
    .executeTakeFirst();
  return r ? { bits_hash: r.bits_hash, document: json(r.document), updated_at: r.updated_at } : undefined;
}

/** Stores a list as signed now (the last writer wins: two processes signing the same bits agree). */
export async function putStatusList(
  db: ServerKysely,
  row: { tenant_id: string; purpose: string; list: number; bits_hash: string; document: Record<string, unknown>; updated_at: string },
): Promise<void> {
  const values = { ...row, document: JSON.stringify(row.document) };
  await db
    .insertInto('status_lists')
    .values(values)
    .onConflict((oc) =>
      oc
        .columns(['tenant_id', 'purpose', 'list'])
        .doUpdateSet({ bits_hash: values.bits_hash, document: values.document, updated_at: values.updated_at }),
    )
    .execute();
}
