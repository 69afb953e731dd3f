import crypto from 'node:crypto';
import { sql } from 'kysely';
import type { Db, DialectName, Store } from './store.js';
import type { ColumnType, TableSpec } from './records.js';
import { asSystem } from './tenant-scope.js';

/**
 * Migrations in two parts:
 * 1. numbered migrations for the server's own tables (executions, …), applied once each, in order;
 * 2. a declarative sync of the resource tables: each resource definition yields a TableSpec, and the
 *    sync creates what is missing (table, extracted columns, indexes) and back-fills a new column from
 *    the stored JSON. Adding a search field to a definition is therefore a migration by itself.
 * On PostgreSQL an advisory lock makes concurrent start-ups of several server processes safe.
 */
interface Migration {
  id: number;
  name: string;
  up(db: Db, dialect: DialectName): Promise<void>;
}

const jsonType = (d: DialectName) => (d === 'postgres' ? 'jsonb' : 'text');

const MIGRATIONS: Migration[] = [
  {
    id: 1,
    name: 'executions',
    async up(db, dialect) {
      await db.schema
        .createTable('executions')
        .ifNotExists()
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('resource', 'text', (c) => c.notNull())
        .addColumn('record_id', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('start_date', 'text', (c) => c.notNull())
        .addColumn('stop_date', 'text')
        .addColumn('started_by', 'text')
        .addColumn('output', sql.raw(jsonType(dialect)))
        .addPrimaryKeyConstraint('executions_pk', ['tenant_id', 'id'])
        .execute();
      await db.schema
        .createIndex('executions_record_idx')
        .ifNotExists()
        .on('executions')
        .columns(['tenant_id', 'resource', 'record_id', 'start_date'])
        .execute();
    },
  },
  {
    id: 2,
    name: 'refs',
    async up(db) {
      // The reference index: one row per (record, field) that names another record of this API.
      // It answers "who refers to X?" with one index lookup, for arrays and nested fields alike.
      await db.schema
        .createTable('refs')
        .ifNotExists()
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('target_id', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('source_id', 'text', (c) => c.notNull())
        .addColumn('field', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('refs_pk', ['tenant_id', 'target', 'target_id', 'source', 'source_id', 'field'])
        .execute();
      await db.schema.createIndex('refs_source_idx').ifNotExists().on('refs').columns(['tenant_id', 'source', 'source_id']).execute();
    },
  },
  {
    id: 3,
    name: 'idempotency_keys',
    async up(db) {
      // Idempotency-Key of POST requests: the first answer, replayed to retries for 24 hours.
      await db.schema
        .createTable('idempotency_keys')
        .ifNotExists()
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('status', 'integer')
        .addColumn('content_type', 'text')
        .addColumn('etag', 'text')
        .addColumn('body', 'text')
        .addPrimaryKeyConstraint('idempotency_keys_pk', ['tenant_id', 'actor', 'key'])
        .execute();
      await db.schema.createIndex('idempotency_keys_created_idx').ifNotExists().on('idempotency_keys').column('created_at').execute();
    },
  },
  {
    id: 4,
    name: 'counters_and_history',
    async up(db, dialect) {
      // Gap-free sequences (certificate numbers per programme), advanced inside the writing transaction.
      await db.schema
        .createTable('counters')
        .ifNotExists()
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('value', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('counters_pk', ['tenant_id', 'name'])
        .execute();
      // The change history of records whose definition asks for it (certifications).
      await db.schema
        .createTable('history')
        .ifNotExists()
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('resource', 'text', (c) => c.notNull())
        .addColumn('record_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('by_id', 'text', (c) => c.notNull())
        .addColumn('via', 'text', (c) => c.notNull())
        .addColumn('changes', sql.raw(jsonType(dialect)), (c) => c.notNull())
        .addPrimaryKeyConstraint('history_pk', ['tenant_id', 'resource', 'record_id', 'id'])
        .execute();
    },
  },
  {
    id: 5,
    name: 'background_work_and_mail',
    async up(db, dialect) {
      // Background executions are resumable: progress, the error, and a lease (owner + until) that a
      // live worker renews; an execution whose lease lapsed is taken over by another worker.
      for (const [col, type] of [
        ['progress_done', 'integer'],
        ['progress_total', 'integer'],
        ['error', 'text'],
        ['params', 'text'],
        ['lease_owner', 'text'],
        ['lease_until', 'text'],
        ['updated_at', 'text'],
      ] as const) {
        await db.schema.alterTable('executions').addColumn(col, type).execute();
      }
      await db.schema.createIndex('executions_status_idx').ifNotExists().on('executions').columns(['status', 'lease_until']).execute();
      // The outbox: every e-mail is a row first (written in the transaction that decides to send it,
      // keyed so that it can be queued only once), then sent by the mail sender with retries.
      await db.schema
        .createTable('outbox')
        .ifNotExists()
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('to_address', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('sent_at', 'text')
        .addColumn('message_id', 'text')
        .addColumn('last_error', 'text')
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'text')
        .addPrimaryKeyConstraint('outbox_pk', ['tenant_id', 'id'])
        .execute();
      await db.schema.createIndex('outbox_due_idx').ifNotExists().on('outbox').columns(['status', 'next_attempt_at']).execute();
      await db.schema.createIndex('outbox_source_idx').ifNotExists().on('outbox').columns(['tenant_id', 'source']).execute();
      // Registrations billed to a training provider, once each (the key is unique per tenant).
      await db.schema
        .createTable('billed_items')
        .ifNotExists()
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('item_key', 'text', (c) => c.notNull())
        .addColumn('invoice_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('billed_items_pk', ['tenant_id', 'item_key'])
        .execute();
      // Named leases (the scheduler's "only one process schedules at a time"); not tenant data.
      await db.schema
        .createTable('leases')
        .ifNotExists()
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('until', 'text', (c) => c.notNull())
        .execute();
      if (dialect === 'postgres') for (const t of ['outbox', 'billed_items']) await protectTable(db, t);
    },
  },
  {
    id: 6,
    name: 'bulk_loads',
    async up(db, dialect) {
      // A bulk load: its uploaded file, its counters and the last data row committed (a resumed load
      // continues after it). Counters, rejected rows and the records a chunk writes commit together.
      await db.schema
        .createTable('bulk_loads')
        .ifNotExists()
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('resource', 'text', (c) => c.notNull())
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('source_file', 'text', (c) => c.notNull())
        .addColumn('file_name', 'text', (c) => c.notNull())
        .addColumn('file_bytes', 'bigint', (c) => c.notNull())
        .addColumn('execution_id', 'text')
        .addColumn('rows_read', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('rows_written', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('rows_rejected', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('rows_unchanged', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .addColumn('error', 'text')
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('bulk_loads_pk', ['tenant_id', 'id'])
        .execute();
      // The rows a load rejected, with their field errors (a JSON array), in row order.
      await db.schema
        .createTable('bulk_load_errors')
        .ifNotExists()
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('load_id', 'text', (c) => c.notNull())
        .addColumn('row_no', 'integer', (c) => c.notNull())
        .addColumn('errors', sql.raw(jsonType(dialect)), (c) => c.notNull())
        .addPrimaryKeyConstraint('bulk_load_errors_pk', ['tenant_id', 'load_id', 'row_no'])
        .execute();
      if (dialect === 'postgres') for (const t of ['bulk_loads', 'bulk_load_errors']) await protectTable(db, t);
    },
  },
  {
    id: 7,
    name: 'rate_limit_hits',
    async up(db, dialect) {
      // Rate-limit counters shared by every process (limits.ts); not tenant data, and not worth a WAL
      // record: UNLOGGED (emptied by a crash of PostgreSQL, which forgives a minute of counting).
      // SQLite keeps them in a file of their own beside the database.
      if (dialect !== 'postgres') return;
      await sql`create unlogged table if not exists rate_limit_hits (
        key text not null, window_start bigint not null, hits integer not null,
        primary key (key, window_start))`.execute(db);
    },
  },
  {
    id: 8,
    name: 'billing_run_notice_refs',
    async up(db, dialect) {
      // The notice ids of billing runs became references: index those of the runs stored before, so
      // that deleting a notice such a run names is refused (409 referenced_by) like for any other.
      if (!(await existingColumns(db, dialect, 'billing_runs'))) return;
      const rows = await db.selectFrom('billing_runs').select(['tenant_id', 'id', 'data']).execute();
      const refs: Record<string, string>[] = [];
      for (const r of rows) {
        const data = (typeof r.data === 'string' ? JSON.parse(r.data) : r.data) as Record<string, any>;
        const add = (field: string, target: string, id: unknown) => {
          if (typeof id === 'string')
            refs.push({ tenant_id: r.tenant_id, target, target_id: id, source: 'billingRuns', source_id: r.id, field });
        };
        add('drop_options.drop_notice_id', 'notices', data.drop_options?.drop_notice_id);
        for (const [block, target] of [
          ['renewal_reminder_options', 'notices'],
          ['application_reminder_options', 'applicationNotices'],
        ] as const) {
          const reminders = data[block]?.reminders;
          if (Array.isArray(reminders))
            reminders.forEach((m, i) => add(`${block}.reminders.${i}.reminder_notice_id`, target, m?.reminder_notice_id));
        }
      }
      for (let i = 0; i < refs.length; i += 500) {
        await db
          .insertInto('refs')
          .values(refs.slice(i, i + 500))
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
    },
  },
  {
    id: 9,
    name: 'executions_kind_idx',
    async up(db) {
      // The sweep metrics read the sweeps that ended in the last day across all tenants: by kind and
      // end, not a scan of every execution ever run.
      await db.schema
        .createIndex('executions_kind_idx')
        .ifNotExists()
        .on('executions')
        .columns(['resource', 'action', 'stop_date'])
        .execute();
    },
  },
  {
    id: 10,
    name: 'bulk_load_management',
    async up(db) {
      // Loads people manage: a dry run writes nothing; a cancel asked for is seen by the running job
      // between chunks; the CSV header and each rejected row's own text make the rejects file.
      await db.schema
        .alterTable('bulk_loads')
        .addColumn('dry_run', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable('bulk_loads').addColumn('cancel_requested_at', 'text').execute();
      await db.schema.alterTable('bulk_loads').addColumn('header', 'text').execute();
      await db.schema.alterTable('bulk_load_errors').addColumn('source', 'text').execute();
    },
  },
  {
    id: 11,
    name: 'credentials',
    async up(db, dialect) {
      // Portable credentials (services/credentials/): each tenant's Ed25519 issuer keys (the secret
      // half encrypted under CREDENTIAL_KEY_SECRET), the credentials issued (one per certification
      // term, its index in the status lists), and the signed status lists served last.
      await db.schema
        .createTable('issuer_keys')
        .ifNotExists()
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('public_key_multibase', 'text', (c) => c.notNull())
        .addColumn('secret_key', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('retired_at', 'text')
        .addPrimaryKeyConstraint('issuer_keys_pk', ['tenant_id', 'id'])
        .execute();
      await db.schema
        .createTable('credentials')
        .ifNotExists()
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('certification_id', 'text', (c) => c.notNull())
        .addColumn('content_hash', 'text', (c) => c.notNull())
        .addColumn('revision', 'integer', (c) => c.notNull())
        .addColumn('status_index', 'bigint', (c) => c.notNull())
        .addColumn('issuer', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('issued_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .addColumn('document', sql.raw(jsonType(dialect)), (c) => c.notNull())
        .addPrimaryKeyConstraint('credentials_pk', ['tenant_id', 'id'])
        .addUniqueConstraint('credentials_term_uq', ['tenant_id', 'certification_id', 'content_hash', 'revision'])
        .addUniqueConstraint('credentials_index_uq', ['tenant_id', 'status_index'])
        .execute();
      await db.schema
        .createTable('status_lists')
        .ifNotExists()
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('list', 'integer', (c) => c.notNull())
        .addColumn('bits_hash', 'text', (c) => c.notNull())
        .addColumn('document', sql.raw(jsonType(dialect)), (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('status_lists_pk', ['tenant_id', 'purpose', 'list'])
        .execute();
    },
  },
];

/**
 * The schema version: the id of the last numbered migration this release knows. Each migration raises
 * it; the database's version is the highest id in accredit_migrations. A release refuses to start on a
 * database whose version is above its own (a newer release migrated it): it would rewrite the resource
 * tables' sync record and drop the indexes its older definitions do not know.
 */
export const SCHEMA_VERSION = Math.max(...MIGRATIONS.map((m) => m.id));

/** The database was migrated by a newer release: nothing is changed, the server does not start. */
export class SchemaTooNew extends Error {
  constructor(
    readonly databaseVersion: number,
    readonly releaseVersion: number,
  ) {
    super(
      `the database's schema is version ${databaseVersion}, newer than version ${releaseVersion} that this release knows: ` +
        'a newer release of accredit migrated it. Run that release (or a later one), or restore the backup taken before the upgrade ' +
        '(docs/upgrading.md); nothing was changed.',
    );
    this.name = 'SchemaTooNew';
  }
}

const SQL_TYPE: Record<DialectName, Record<ColumnType, string>> = {
  sqlite: { text: 'text', datetime: 'text', bool: 'integer', num: 'real' },
  postgres: { text: 'text', datetime: 'text', bool: 'boolean', num: 'double precision' },
};

async function existingColumns(db: Db, dialect: DialectName, table: string): Promise<Set<string> | undefined> {
  if (dialect === 'sqlite') {
    const { rows } = await sql<{ name: string }>`select name from pragma_table_info(${table})`.execute(db);
    return rows.length ? new Set(rows.map((r) => r.name)) : undefined;
  }
  const { rows } = await sql<{ column_name: string }>`
    select column_name from information_schema.columns
    where table_schema = current_schema() and table_name = ${table}`.execute(db);
  return rows.length ? new Set(rows.map((r) => r.column_name)) : undefined;
}

/** SQL that extracts a field from the stored JSON, for back-filling a newly added column. */
function extractSql(dialect: DialectName, path: string[], type: ColumnType) {
  if (dialect === 'sqlite') {
    const p = `$.${path.map((k) => `"${k}"`).join('.')}`;
    return sql`json_extract(data, ${p})`;
  }
  const text = sql`data #>> ${sql.lit(`{${path.join(',')}}`)}`;
  if (type === 'bool') return sql`(${text})::boolean`;
  if (type === 'num') return sql`(${text})::double precision`;
  return text;
}

/**
 * Row-level security on a tenant table (PostgreSQL): rows are visible and writable only under the
 * connection's tenant scope (or the system scope `*`). FORCE makes it apply to the table's owner too;
 * only superusers bypass it, so production should connect as an ordinary role.
 */
async function protectTable(db: Db, table: string): Promise<void> {
  await sql`alter table ${sql.table(table)} enable row level security`.execute(db);
  await sql`alter table ${sql.table(table)} force row level security`.execute(db);
  const { rows } = await sql<{
    n: number;
  }>`select count(*)::int as n from pg_policies where schemaname = current_schema() and tablename = ${table} and policyname = 'tenant_isolation'`.execute(
    db,
  );
  if (rows[0]!.n === 0) {
    await sql`create policy tenant_isolation on ${sql.table(table)}
      using (tenant_id = current_setting('accredit.tenant_id', true) or current_setting('accredit.tenant_id', true) = '*')
      with check (tenant_id = current_setting('accredit.tenant_id', true) or current_setting('accredit.tenant_id', true) = '*')`.execute(
      db,
    );
  }
}

const FIXED_TENANT_TABLES = [
  'executions',
  'refs',
  'idempotency_keys',
  'counters',
  'history',
  'outbox',
  'billed_items',
  'bulk_loads',
  'bulk_load_errors',
  'issuer_keys',
  'credentials',
  'status_lists',
];

/** One step of a resource table's sync: what it does (for `migrate --dry-run`; none when it only re-asserts) and how. */
interface SyncStep {
  text?: string;
  run(): Promise<unknown>;
}

/**
 * The steps that bring a resource table to its spec: reads only; `syncTable` runs them and
 * `migrate --dry-run` lists them, so the list is what a migration would do.
 */
async function planTable(db: Db, dialect: DialectName, spec: TableSpec): Promise<SyncStep[]> {
  const steps: SyncStep[] = [];
  const have = await existingColumns(db, dialect, spec.name);
  const created = !have;
  if (!have) {
    let create = db.schema
      .createTable(spec.name)
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('sys_version', 'integer', (c) => c.notNull())
      .addColumn('data', sql.raw(jsonType(dialect)), (c) => c.notNull());
    for (const col of spec.columns) create = create.addColumn(col.name, sql.raw(SQL_TYPE[dialect][col.type]));
    const q = create.addPrimaryKeyConstraint(`${spec.name}_pk`, ['tenant_id', 'id']);
    steps.push({ text: `create table ${spec.name}`, run: () => q.execute() });
  } else {
    for (const col of spec.columns) {
      if (have.has(col.name)) continue;
      steps.push({
        text: `add column ${spec.name}.${col.name} (${col.path.join('.')}), filled from the stored records`,
        run: async () => {
          await db.schema.alterTable(spec.name).addColumn(col.name, sql.raw(SQL_TYPE[dialect][col.type])).execute();
          await sql`update ${sql.table(spec.name)} set ${sql.ref(col.name)} = ${extractSql(dialect, col.path, col.type)}`.execute(db);
        },
      });
    }
  }
  if (dialect === 'postgres')
    steps.push({ text: created ? `row-level security on ${spec.name}` : undefined, run: () => protectTable(db, spec.name) });
  // an index step is listed when the index is missing (or, for a drop, present); a new table has none
  const missing = async (name: string) => created || !(await indexExists(db, dialect, name));
  for (const cols of spec.indexes ?? []) {
    const name = `${spec.name}_${cols.map((c) => c.replace(/^f_/, '')).join('_')}_cidx`.slice(0, 63);
    if (!(await missing(name))) continue;
    const q = db.schema
      .createIndex(name)
      .ifNotExists()
      .on(spec.name)
      .columns(['tenant_id', ...cols, 'id']);
    steps.push({ text: `create index ${name}`, run: () => q.execute() });
  }
  for (const u of spec.unique ?? []) {
    // (duplicates were ruled out before anything changed: see uniqueClashes)
    if (!(await missing(u.name))) continue;
    const q = db.schema
      .createIndex(u.name)
      .ifNotExists()
      .unique()
      .on(spec.name)
      .columns(['tenant_id', ...u.columns]);
    steps.push({ text: `create unique index ${u.name} (${u.fields.join(', ')})`, run: () => q.execute() });
  }
  for (const col of spec.columns) {
    // `_idx` covers every row, `_set` only rows where the column is set (see IndexedColumn.index);
    // the one the column no longer wants is dropped.
    const all = `${spec.name}_${col.name}_idx`;
    const set = `${spec.name}_${col.name}_set`;
    const kind = col.index ?? 'all';
    for (const [name, wanted] of [
      [all, kind === 'all'],
      [set, kind === 'set'],
    ] as const) {
      if (!wanted) {
        if (!created && !(await missing(name)))
          steps.push({ text: `drop index ${name}`, run: () => db.schema.dropIndex(name).ifExists().execute() });
        continue;
      }
      if (!(await missing(name))) continue;
      let create = db.schema.createIndex(name).ifNotExists().on(spec.name).columns(['tenant_id', col.name, 'id']);
      if (kind === 'set') create = create.where(sql.ref(col.name), 'is not', null);
      const q = create;
      steps.push({ text: `create index ${name}`, run: () => q.execute() });
    }
  }
  return steps;
}

export async function syncTable(db: Db, dialect: DialectName, spec: TableSpec): Promise<number> {
  const steps = await planTable(db, dialect, spec);
  for (const step of steps) await step.run();
  return steps.filter((s) => s.text).length;
}

/** Records of one tenant that hold the same values of a unique index (which cannot be created then). */
export interface UniqueClashGroup {
  table: string;
  tenant_id: string;
  /** field -> value, e.g. { program_id: '…', number: 1000 } */
  values: Record<string, unknown>;
  ids: string[];
}

/** The migration refuses to run: the database holds records a new unique index would forbid. */
export class MigrationRefused extends Error {
  constructor(
    readonly clashes: UniqueClashGroup[],
    more: boolean,
  ) {
    const lines = clashes.map(
      (c) =>
        `  ${c.table}: tenant ${c.tenant_id}, ${Object.entries(c.values)
          .map(([f, v]) => `${f} ${String(v)}`)
          .join(', ')}: ids ${c.ids.join(', ')}`,
    );
    super(
      `migration stopped, nothing was changed: ${more ? `more than ${clashes.length}` : clashes.length} group(s) of records share values that must be unique ` +
        `(certificate numbers are unique within a program):\n${lines.join('\n')}${more ? '\n  …' : ''}\n` +
        'Give each of them a free value with the release you run now (PATCH the record), then migrate again: see docs/programmes.md, "Unique certificate numbers".',
    );
    this.name = 'MigrationRefused';
  }
}

const CLASH_LIST_MAX = 200;

/**
 * Before anything changes: the unique indexes that the resource tables will get must fit the rows
 * they hold. Groups of rows of one tenant sharing the values of a unique index not created yet are
 * listed (tenant, values, ids), and the migration stops with them, having changed nothing.
 */
export async function uniqueClashes(
  db: Db,
  dialect: DialectName,
  tables: TableSpec[],
): Promise<{ groups: UniqueClashGroup[]; more: boolean }> {
  const groups: UniqueClashGroup[] = [];
  for (const spec of tables) {
    if (!spec.unique?.length) continue;
    const have = await existingColumns(db, dialect, spec.name);
    if (!have) continue;
    for (const u of spec.unique) {
      if (await indexExists(db, dialect, u.name)) continue;
      const exprs = u.columns.map((name) => {
        const col = spec.columns.find((c) => c.name === name)!;
        return have.has(name) ? sql.ref(name) : extractSql(dialect, col.path, col.type);
      });
      const cols = exprs.map((e, i) => sql`${e} as ${sql.ref(`v${i}`)}`);
      const ids = dialect === 'postgres' ? sql`string_agg(id, ',' order by id)` : sql`group_concat(id, ',')`;
      const { rows } = await sql<Record<string, unknown>>`
        select tenant_id, ${sql.join(cols)}, ${ids} as ids from ${sql.table(spec.name)}
        where ${sql.join(
          exprs.map((e) => sql`${e} is not null`),
          sql` and `,
        )}
        group by tenant_id, ${sql.join(exprs)} having count(*) > 1
        order by tenant_id, ${sql.join(exprs)} limit ${CLASH_LIST_MAX + 1 - groups.length}`.execute(db);
      for (const r of rows) {
        groups.push({
          table: spec.name,
          tenant_id: String(r.tenant_id),
          values: Object.fromEntries(u.fields.map((f, i) => [f, r[`v${i}`]])),
          ids: String(r.ids).split(',').sort(),
        });
      }
      if (groups.length > CLASH_LIST_MAX) return { groups: groups.slice(0, CLASH_LIST_MAX), more: true };
    }
  }
  return { groups, more: false };
}

async function indexExists(db: Db, dialect: DialectName, name: string): Promise<boolean> {
  const { rows } =
    dialect === 'sqlite'
      ? await sql`select 1 from sqlite_master where type = 'index' and name = ${name}`.execute(db)
      : await sql`select 1 from pg_indexes where schemaname = current_schema() and indexname = ${name}`.execute(db);
  return rows.length > 0;
}

async function ensureMigrationsTable(db: Db): Promise<void> {
  await db.schema
    .createTable('accredit_migrations')
    .ifNotExists()
    // id 0 holds the hash of the resource table specs last synced (see below)
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('applied_at', 'text', (c) => c.notNull())
    .execute();
}

/** The database's schema version (0 before any migration). */
async function databaseVersion(db: Db): Promise<number> {
  const row = await db.selectFrom('accredit_migrations').select(sql<number>`max(id)`.as('v')).executeTakeFirst();
  return row?.v === null || row?.v === undefined ? 0 : Number(row.v);
}

/** A migration just applied (logged by `serve`, printed by `migrate`). */
export interface AppliedStep {
  /** The numbered migration's id; absent for the sync of the resource tables. */
  id?: number;
  name: string;
  ms: number;
  /** The sync: how many changes it made (tables, columns, indexes). */
  changes?: number;
}
export interface MigrateOptions {
  /** Called as each step commits. */
  onApplied?(step: AppliedStep): void;
}

/** The hash of the resource table specs: the sync runs only when it differs from the one stored. */
const specsHash = (dialect: DialectName, tables: TableSpec[]) =>
  crypto
    .createHash('sha256')
    .update(JSON.stringify({ v: 1, dialect, tables }))
    .digest('hex');

async function applyAll(db: Db, dialect: DialectName, tables: TableSpec[], opts: MigrateOptions): Promise<string[]> {
  const applied: string[] = [];
  await ensureMigrationsTable(db);
  const version = await databaseVersion(db);
  if (version > SCHEMA_VERSION) throw new SchemaTooNew(version, SCHEMA_VERSION);
  // The resource tables are synced only when their specs changed since the last sync (a hash of the
  // specs is kept), so that starting on an existing database costs a few queries, not hundreds.
  const hash = specsHash(dialect, tables);
  const synced = (await db.selectFrom('accredit_migrations').select('name').where('id', '=', 0).executeTakeFirst())?.name === hash;
  if (!synced) {
    const clashes = await uniqueClashes(db, dialect, tables);
    if (clashes.groups.length) throw new MigrationRefused(clashes.groups, clashes.more);
  }
  const done = new Set((await db.selectFrom('accredit_migrations').select('id').where('id', '>', 0).execute()).map((r) => Number(r.id)));
  for (const m of MIGRATIONS) {
    if (done.has(m.id)) continue;
    const started = performance.now();
    await db.transaction().execute(async (trx) => {
      await m.up(trx, dialect);
      await trx.insertInto('accredit_migrations').values({ id: m.id, name: m.name, applied_at: new Date().toISOString() }).execute();
    });
    applied.push(`${m.id}-${m.name}`);
    opts.onApplied?.({ id: m.id, name: m.name, ms: Math.round(performance.now() - started) });
  }
  if (synced) return applied;
  const started = performance.now();
  if (dialect === 'postgres') for (const t of FIXED_TENANT_TABLES) await protectTable(db, t);
  let changes = 0;
  for (const t of tables) changes += await syncTable(db, dialect, t);
  await db.deleteFrom('accredit_migrations').where('id', '=', 0).execute();
  await db.insertInto('accredit_migrations').values({ id: 0, name: hash, applied_at: new Date().toISOString() }).execute();
  applied.push('resource tables');
  opts.onApplied?.({ name: 'resource tables', ms: Math.round(performance.now() - started), changes });
  return applied;
}

/** Where a database stands against this release (`accredit migrate --status` / `--dry-run`). */
export interface MigrationStatus {
  databaseVersion: number;
  releaseVersion: number;
  applied: { id: number; name: string; applied_at: string; known: boolean }[];
  pending: { id: number; name: string }[];
  /** Whether the resource tables match this release's definitions (synced with the same specs). */
  resourceTablesInSync: boolean;
  /** --dry-run: what the sync of the resource tables would do. */
  syncSteps?: string[];
  /** --dry-run: groups of records that would stop the migration (see MigrationRefused). */
  clashes?: UniqueClashGroup[];
}

async function statusOf(db: Db, dialect: DialectName, tables: TableSpec[], detail: boolean): Promise<MigrationStatus> {
  // reads only: on a new database not even the migrations table is created
  const fresh = !(await existingColumns(db, dialect, 'accredit_migrations'));
  const rows = fresh
    ? []
    : await db.selectFrom('accredit_migrations').select(['id', 'name', 'applied_at']).where('id', '>', 0).orderBy('id').execute();
  const known = new Set(MIGRATIONS.map((m) => m.id));
  const applied = rows.map((r) => ({
    id: Number(r.id),
    name: String(r.name),
    applied_at: String(r.applied_at),
    known: known.has(Number(r.id)),
  }));
  const done = new Set(applied.map((a) => a.id));
  const hash = fresh ? undefined : (await db.selectFrom('accredit_migrations').select('name').where('id', '=', 0).executeTakeFirst())?.name;
  const status: MigrationStatus = {
    databaseVersion: applied.reduce((v, a) => Math.max(v, a.id), 0),
    releaseVersion: SCHEMA_VERSION,
    applied,
    pending: MIGRATIONS.filter((m) => !done.has(m.id)).map((m) => ({ id: m.id, name: m.name })),
    resourceTablesInSync: hash === specsHash(dialect, tables),
  };
  if (detail && !status.resourceTablesInSync) {
    // (a pending numbered migration may add to this; the resource tables are synced after them)
    status.syncSteps = [];
    for (const t of tables) for (const step of await planTable(db, dialect, t)) if (step.text) status.syncSteps.push(step.text);
    status.clashes = (await uniqueClashes(db, dialect, tables)).groups;
  }
  return status;
}

const LOCK_KEY = 7_214_455_001; // arbitrary, constant: "accredit migrations"

export function migrate(store: Store, tables: TableSpec[], opts: MigrateOptions = {}): Promise<string[]> {
  return asSystem(() => withMigrationLock(store, (db) => applyAll(db, store.dialect, tables, opts)));
}

/** The applied and pending migrations; with `detail`, what the sync would change too (`--dry-run`). Changes nothing. */
export function migrationStatus(store: Store, tables: TableSpec[], detail = false): Promise<MigrationStatus> {
  return asSystem(() => withMigrationLock(store, (db) => statusOf(db, store.dialect, tables, detail)));
}

async function withMigrationLock<T>(store: Store, fn: (db: Db) => Promise<T>): Promise<T> {
  if (store.dialect === 'sqlite') return fn(store.db);
  return store.db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${LOCK_KEY})`.execute(conn);
    try {
      return await fn(conn);
    } finally {
      await sql`select pg_advisory_unlock(${LOCK_KEY})`.execute(conn);
    }
  });
}
