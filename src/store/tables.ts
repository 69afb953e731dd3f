import type { ColumnType, Generated, Insertable, Kysely, Selectable, Updateable } from 'kysely';

/**
 * Row types of the server's fixed tables: the ones the numbered migrations create (migrate.ts), as
 * opposed to the resource tables generated from the definitions (those stay `Kysely<any>`, see `Db`).
 * Repositories over these tables take a `ServerKysely`; a `Db` (`Kysely<any>`, what Store.db and a
 * transaction hand out) is accepted where a `ServerKysely` is asked for, so no cast is needed.
 * Keep each interface in step with its migration.
 */

/**
 * A JSON column: `jsonb` on PostgreSQL (read back parsed), `text` on SQLite (read back as the string).
 * Written as JSON text on both.
 */
export type JsonColumn = ColumnType<unknown, string, string>;
export type NullableJsonColumn = ColumnType<unknown, string | null | undefined, string | null>;
/** A `bigint` column: pg reads int8 as a string (it may exceed 2^53), SQLite as a number. */
export type BigintColumn = ColumnType<string | number, number, number>;

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED';

/** Background executions (migrations 1 and 5): one run of an action or job, with its lease and progress. */
export interface ExecutionsTable {
  tenant_id: string;
  id: string;
  resource: string;
  record_id: string;
  action: string;
  status: ExecutionStatus;
  start_date: string;
  stop_date: string | null;
  started_by: string | null;
  output: NullableJsonColumn;
  progress_done: number | null;
  progress_total: number | null;
  error: string | null;
  /** JSON text of the job's parameters. */
  params: string | null;
  lease_owner: string | null;
  lease_until: string | null;
  updated_at: string | null;
}

/** The reference index (migration 2): one row per (record, field) naming another record. */
export interface RefsTable {
  tenant_id: string;
  target: string;
  target_id: string;
  source: string;
  source_id: string;
  field: string;
}

export type IdempotencyState = 'in_flight' | 'done';

/** Idempotency-Key of POST requests (migration 3): the claim, then the first answer. */
export interface IdempotencyKeysTable {
  tenant_id: string;
  actor: string;
  key: string;
  fingerprint: string;
  state: IdempotencyState;
  created_at: string;
  status: number | null;
  content_type: string | null;
  etag: string | null;
  body: string | null;
}

/** Gap-free counters (migration 4), e.g. certificate numbers per programme. */
export interface CountersTable {
  tenant_id: string;
  name: string;
  value: BigintColumn;
}

/** The change history of records (migration 4). `changes`: field -> [before, after]. */
export interface HistoryTable {
  tenant_id: string;
  resource: string;
  record_id: string;
  id: string;
  at: string;
  by_id: string;
  via: string;
  changes: JsonColumn;
}

export type OutboxStatus = 'queued' | 'sending' | 'sent' | 'retry' | 'failed';

/** The mail outbox (migration 5). `message`: the rendered mail as JSON text. */
export interface OutboxTable {
  tenant_id: string;
  id: string;
  source: string;
  to_address: string;
  message: string;
  status: OutboxStatus;
  attempts: Generated<number>;
  next_attempt_at: string;
  created_at: string;
  sent_at: string | null;
  message_id: string | null;
  last_error: string | null;
  lease_owner: string | null;
  lease_until: string | null;
}

/** Registrations billed to a training provider, once each (migration 5). */
export interface BilledItemsTable {
  tenant_id: string;
  item_key: string;
  invoice_id: string;
}

/** Named leases (migration 5), e.g. `scheduler`: who holds it, until when. Not tenant data. */
export interface LeasesTable {
  name: string;
  owner: string;
  until: string;
}

export type BulkLoadFormat = 'csv' | 'jsonl';
export type BulkLoadStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

/** A bulk load (migration 6): its uploaded file, its counters, and how it ended. */
export interface BulkLoadsTable {
  tenant_id: string;
  id: string;
  resource: string;
  format: BulkLoadFormat;
  status: BulkLoadStatus;
  source_file: string;
  file_name: string;
  file_bytes: BigintColumn;
  execution_id: string | null;
  rows_read: Generated<number>;
  rows_written: Generated<number>;
  rows_rejected: Generated<number>;
  rows_unchanged: Generated<number>;
  started_at: string;
  finished_at: string | null;
  error: string | null;
  created_by: string;
  /** 1: validated and counted, nothing written (migration 10). */
  dry_run: Generated<number>;
  /** When a cancel was asked for (migration 10); the job ends the load `cancelled` at its next chunk. */
  cancel_requested_at: Generated<string | null>;
  /** A CSV load's header row, as a JSON array (migration 10): the rejects file repeats it. */
  header: Generated<string | null>;
}

/** The rows a bulk load rejected (migration 6); `errors`: a JSON array of field errors. */
export interface BulkLoadErrorsTable {
  tenant_id: string;
  load_id: string;
  row_no: number;
  errors: JsonColumn;
  /** The row as read (migration 10): a CSV record's cells as a JSON array, a JSON line's text; null when unreadable. */
  source: Generated<string | null>;
}

/** Rate-limit counters shared by processes (migration 7; PostgreSQL only, UNLOGGED). */
export interface RateLimitHitsTable {
  key: string;
  window_start: BigintColumn;
  hits: number;
}

/** Applied migrations; id 0 holds the hash of the resource table specs last synced. */
export interface AccreditMigrationsTable {
  id: number;
  name: string;
  applied_at: string;
}

/** Issuer keys of a tenant's credentials (migration 11); retired keys stay, so old proofs verify. */
export interface IssuerKeysTable {
  tenant_id: string;
  id: string;
  public_key_multibase: string;
  /** The secret key, encrypted (services/credentials/keys.ts). */
  secret_key: string;
  created_at: string;
  retired_at: string | null;
}

/** Credentials issued (migration 11): one per certification term and content, signed once. */
export interface CredentialsTable {
  tenant_id: string;
  id: string;
  certification_id: string;
  content_hash: string;
  revision: number;
  status_index: BigintColumn;
  issuer: string;
  key_id: string;
  issued_at: string;
  revoked_at: string | null;
  document: JsonColumn;
}

/** The signed status lists served last (migration 11), with a hash of the bits they carry. */
export interface StatusListsTable {
  tenant_id: string;
  purpose: string;
  list: number;
  bits_hash: string;
  document: JsonColumn;
  updated_at: string;
}

/** The fixed tables, by name. */
export interface ServerDb {
  executions: ExecutionsTable;
  refs: RefsTable;
  idempotency_keys: IdempotencyKeysTable;
  counters: CountersTable;
  history: HistoryTable;
  outbox: OutboxTable;
  billed_items: BilledItemsTable;
  leases: LeasesTable;
  bulk_loads: BulkLoadsTable;
  bulk_load_errors: BulkLoadErrorsTable;
  rate_limit_hits: RateLimitHitsTable;
  issuer_keys: IssuerKeysTable;
  credentials: CredentialsTable;
  status_lists: StatusListsTable;
  accredit_migrations: AccreditMigrationsTable;
}

/** A Kysely instance (or transaction) typed over the fixed tables. */
export type ServerKysely = Kysely<ServerDb>;

export type Execution = Selectable<ExecutionsTable>;
export type NewExecution = Insertable<ExecutionsTable>;
export type ExecutionUpdate = Updateable<ExecutionsTable>;
export type Ref = Selectable<RefsTable>;
export type IdempotencyKey = Selectable<IdempotencyKeysTable>;
export type HistoryRow = Selectable<HistoryTable>;
export type Outbox = Selectable<OutboxTable>;
export type NewOutbox = Insertable<OutboxTable>;
export type OutboxUpdate = Updateable<OutboxTable>;
export type BilledItem = Selectable<BilledItemsTable>;
export type Lease = Selectable<LeasesTable>;
export type BulkLoad = Selectable<BulkLoadsTable>;
export type NewBulkLoad = Insertable<BulkLoadsTable>;
export type BulkLoadError = Selectable<BulkLoadErrorsTable>;
