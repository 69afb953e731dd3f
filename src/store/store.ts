import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { currentTenant, enableTenantScopes } from './tenant-scope.js';
import { startCheckpointer, WRITER_AUTOCHECKPOINT_PAGES, type Checkpointer } from './checkpointer.js';
import { Replicas, type ReadPreference } from './replicas.js';
import type { Db } from './db.js';
import { Kysely, PostgresDialect, sql, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';

export type DialectName = 'sqlite' | 'postgres';
export type { Db };

/**
 * The storage port: one Kysely instance over SQLite or PostgreSQL. Everything that speaks SQL lives
 * under store/; the rest of the server sees these functions and plain records.
 */
export interface Store {
  readonly dialect: DialectName;
  readonly db: Db;
  /**
   * For reads outside a transaction (GET, pages). SQLite: a second connection, which reads the last
   * committed state (WAL) and never queues behind a write transaction holding the writer; PostgreSQL:
   * the same pool as `db`.
   */
  readonly read: Db;
  /**
   * A read outside a transaction, where the preference allows it from a streaming replica
   * (PostgreSQL with DATABASE_REPLICA_URLS); otherwise from `read`.
   */
  reading<T>(pref: ReadPreference | undefined, fn: (db: Db) => Promise<T>): Promise<T>;
  /** With replicas: the primary's WAL position now, as a consistency token for the answer to a write. */
  writePosition?(): Promise<string>;
  readonly replicas?: Replicas;
  /** Runs fn in one transaction (serialised on SQLite, READ COMMITTED + row locks on PostgreSQL). */
  transaction<T>(fn: (trx: Db) => Promise<T>): Promise<T>;
  /** A description safe for logs (no password). */
  readonly description: string;
  /**
   * SQLite: an online copy of the database into `file` (SQLite's backup API, page by page while the
   * server keeps serving); absent on PostgreSQL, whose tool is pg_dump.
   */
  backup?(file: string): Promise<{ pages: number }>;
  /** PostgreSQL: the pool's connections (for metrics); absent on SQLite. */
  poolStats?(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}

/**
 * One observer of statement durations (metrics), for statements that go through the query builder
 * (the prepared-statement fast paths of SQLite transactions do not).
 */
let queryObserver: ((ms: number, failed: boolean) => void) | undefined;
export const observeQueries = (fn: ((ms: number, failed: boolean) => void) | undefined) => {
  queryObserver = fn;
};
const log = (e: { level: 'query' | 'error'; queryDurationMillis: number }) => queryObserver?.(e.queryDurationMillis, e.level === 'error');

export interface StoreOptions {
  pgPoolMax?: number;
  /** PostgreSQL statement timeout in ms (bounded work per query). */
  statementTimeoutMs?: number;
  /**
   * SQLite: how long a write waits for another process's write lock (several `--workers`, the CLI
   * beside a server) before giving up with SQLITE_BUSY, which the API answers as a 429 with
   * Retry-After. The wait blocks that process, so it stays short.
   */
  sqliteBusyTimeoutMs?: number;
  /** PostgreSQL streaming replicas for reads that allow them (see replicas.ts). */
  replicaUrls?: string[];
  /** A replica further behind than this is not read (ms). */
  replicaMaxLagMs?: number;
  /** How the PostgreSQL connections are pooled in front of the server (see scopeConnections). */
  poolMode?: PoolMode;
}
export type PoolMode = 'session' | 'transaction';

/**
 * Kysely's SQLite driver prepares every query anew; better-sqlite3 statements are reusable, so we keep
 * the compiled statements of the hot paths (a bounded cache keyed by SQL text).
 */
function withStatementCache(db: Database.Database, max = 1000): SqliteDatabase {
  const cache = new Map<string, Database.Statement>();
  return {
    close: () => db.close(),
    prepare(sql: string): SqliteStatement {
      let stmt = cache.get(sql);
      // a statement still being iterated (a streamed result) cannot start again: use a fresh one
      if (stmt?.busy) return db.prepare(sql) as unknown as SqliteStatement;
      if (!stmt) {
        if (cache.size >= max) cache.clear();
        stmt = db.prepare(sql);
        cache.set(sql, stmt);
      }
      return stmt as unknown as SqliteStatement;
    },
  };
}

/** Prepares (or reuses) a statement on one of SQLite's connections. */
export type Statements = (sql: string) => Database.Statement;
/**
 * The SQLite connection behind a Kysely instance, for the hot statements that skip the query builder:
 * the read connection's instance (reads outside a transaction), and the instance of a transaction
 * (`Store.transaction`), on whose connection a statement runs within that transaction. The root
 * instance is never registered: a statement run through it while another transaction holds the
 * writer would land in that other transaction.
 */
const sqliteConnections = new WeakMap<Db, { prepare: Statements; writer: boolean }>();
/** Prepared statements for reads on db's connection (the read connection or a transaction's). */
export const sqliteStatements = (db: Db): Statements | undefined => sqliteConnections.get(db)?.prepare;
/** Prepared statements for writes: only inside a transaction. */
export const sqliteTxWriter = (db: Db): Statements | undefined => {
  const c = sqliteConnections.get(db);
  return c?.writer ? c.prepare : undefined;
};

/**
 * A multi-row INSERT of rows that share their columns, `perStatement` rows a statement. Inside a SQLite
 * transaction it is a prepared statement on the transaction's connection: the query builder took about
 * as long to build a 500-row INSERT as SQLite took to run it. Elsewhere, Kysely.
 */
export async function insertRows(db: Db, table: string, rows: Record<string, unknown>[], perStatement: number): Promise<void> {
  if (!rows.length) return;
  const writer = sqliteTxWriter(db);
  const columns = Object.keys(rows[0]!);
  const one = `(${columns.map(() => '?').join(', ')})`;
  const head = `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values `;
  for (let i = 0; i < rows.length; i += perStatement) {
    const chunk = rows.slice(i, i + perStatement);
    if (!writer) {
      await db.insertInto(table).values(chunk).execute();
      continue;
    }
    const params: unknown[] = [];
    for (const r of chunk) for (const c of columns) params.push(r[c] ?? null);
    writer(head + new Array(chunk.length).fill(one).join(', ')).run(params);
  }
}

function openSqlite(file: string, busyTimeoutMs = 5000): Store {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const raw = new Database(file);
  // WAL lets readers run beside the writer. synchronous=NORMAL in WAL mode is durable against a crash
  // of this process (SIGKILL): a commit is in the WAL (in the OS) before it is acknowledged; only an
  // OS crash or power loss can lose the last transactions. FULL would fsync on every commit.
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
  raw.pragma('foreign_keys = ON');
  const cached = withStatementCache(raw);
  const writer = { prepare: cached.prepare as unknown as Statements, writer: true };
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: cached }), log });
  let read = db;
  let checkpointer: Checkpointer | undefined;
  if (file !== ':memory:') {
    raw.pragma(`wal_autocheckpoint = ${WRITER_AUTOCHECKPOINT_PAGES}`);
    // after a checkpoint lets the WAL restart, its file is cut back to this size
    raw.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    checkpointer = startCheckpointer(file);
    const reader = new Database(file);
    reader.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
    reader.pragma('query_only = 1');
    const readerCache = withStatementCache(reader);
    read = new Kysely<any>({ dialect: new SqliteDialect({ database: readerCache }), log });
    sqliteConnections.set(read, { prepare: readerCache.prepare as unknown as Statements, writer: false });
  }
  return {
    dialect: 'sqlite',
    db,
    read,
    reading: (_pref, fn) => fn(read),
    description: `sqlite:${file}`,
    backup: async (to) => {
      fs.mkdirSync(path.dirname(path.resolve(to)), { recursive: true });
      const { totalPages } = await raw.backup(to);
      return { pages: totalPages };
    },
    // BEGIN IMMEDIATE takes the write lock at the start: a second process on the same file (the CLI in
    // direct mode beside a server) then waits for it (busy_timeout) instead of failing with "database
    // is locked" when a read transaction tries to become a write one.
    transaction: (fn) =>
      db.connection().execute(async (conn) => {
        // the connection is held from here to the end: begin and commit run on it directly
        sqliteConnections.set(conn, writer);
        writer.prepare('begin immediate').run();
        try {
          const out = await fn(conn);
          writer.prepare('commit').run();
          return out;
        } catch (e) {
          try {
            if (raw.inTransaction) writer.prepare('rollback').run();
          } catch {}
          throw e;
        }
      }),
    close: async () => {
      await checkpointer?.stop();
      if (read !== db) await read.destroy();
      await db.destroy();
    },
  };
}

async function openPostgres(url: string, opts: StoreOptions): Promise<Store> {
  // Loaded here, not at the top: a server on SQLite does not spend 45 ms of start-up loading pg.
  const [{ default: pgModule }, { default: Cursor }] = await Promise.all([import('pg'), import('pg-cursor')]);
  const pool = new pgModule.Pool({
    connectionString: url,
    max: opts.pgPoolMax ?? 10,
    // behind a pooler in transaction mode the timeout goes with each transaction (a startup
    // parameter would reach only the pooler, which refuses unknown ones)
    ...(opts.statementTimeoutMs && opts.poolMode !== 'transaction' ? { statement_timeout: opts.statementTimeoutMs } : {}),
  });
  // An idle client that loses its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  enableTenantScopes();
  scopeConnections(pool, opts.poolMode ?? 'session', opts.statementTimeoutMs);
  // pg-cursor lets Kysely stream large results (query results, exports) a batch of rows at a time
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool, cursor: Cursor }), log });
  const u = new URL(url);
  const replicaPools = (opts.replicaUrls ?? []).map((r) => {
    const p = new pgModule.Pool({
      connectionString: r,
      max: opts.pgPoolMax ?? 10,
      connectionTimeoutMillis: 2000,
      ...(opts.statementTimeoutMs && opts.poolMode !== 'transaction' ? { statement_timeout: opts.statementTimeoutMs } : {}),
    });
    p.on('error', () => {});
    scopeConnections(p, opts.poolMode ?? 'session', opts.statementTimeoutMs);
    const ru = new URL(r);
    return { name: `${ru.host}${ru.pathname}`, db: new Kysely<any>({ dialect: new PostgresDialect({ pool: p, cursor: Cursor }), log }) };
  });
  const replicas = replicaPools.length
    ? new Replicas(db, replicaPools, { maxLagMs: opts.replicaMaxLagMs ?? 5000, checkMs: 200 })
    : undefined;
  replicas?.start();
  return {
    dialect: 'postgres',
    db,
    read: db,
    reading: (pref, fn) => (replicas ? replicas.read(pref, fn) : fn(db)),
    ...(replicas
      ? {
          replicas,
          writePosition: async () => (await sql<{ lsn: string }>`select pg_current_wal_lsn()::text as lsn`.execute(db)).rows[0]!.lsn,
        }
      : {}),
    description: `postgres://${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}${u.pathname}`,
    transaction: (fn) => db.transaction().execute(fn),
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    close: async () => {
      replicas?.stop();
      await Promise.all(replicaPools.map((r) => r.db.destroy()));
      await db.destroy();
    },
  };
}

/**
 * Before a pooled connection runs a statement, it is told the current tenant scope (see
 * tenant-scope.ts): the row-level security policies read it.
 *
 * - `session` (a direct connection, or PgBouncer in session mode): once per change of tenant on that
 *   connection, as a session setting. A connection that serves one tenant after another pays one
 *   extra round trip per switch.
 * - `transaction` (PgBouncer in transaction mode, where consecutive statements of one connection may
 *   reach different server connections): no session state at all. The scope (and the statement
 *   timeout) is set with `set_config(…, true)` right after each BEGIN, so it ends with the
 *   transaction; a statement outside a transaction runs in one of its own (BEGIN, scope, statement,
 *   COMMIT). Unnamed prepared statements only (pg's default), which poolers pass through.
 */
function scopeConnections(pool: pg.Pool, mode: PoolMode, statementTimeoutMs?: number) {
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
  (pool as unknown as { connect: () => Promise<pg.PoolClient> }).connect = async () => {
    const client = (await connect()) as ScopedClient;
    if (!client.accreditScoped) {
      client.accreditScoped = true;
      // a server that goes away under a checked-out client fails its query; without a listener the
      // client's 'error' event would also end the process
      client.on('error', () => {});
      const query = client.query.bind(client) as Query;
      (client as any).query = mode === 'transaction' ? perTransaction(client, query, statementTimeoutMs) : perSession(client, query);
    }
    return client;
  };
}

type Query = (...args: unknown[]) => any;
type ScopedClient = pg.PoolClient & { accreditScoped?: boolean; accreditTenant?: string; accreditTx?: string };
const isCursor = (first: unknown) => typeof (first as { submit?: unknown } | undefined)?.submit === 'function';

function perSession(client: ScopedClient, query: Query): Query {
  return (...args: unknown[]) => {
    const tenant = currentTenant();
    if (client.accreditTenant === tenant) return query(...args);
    const set = query("select set_config('accredit.tenant_id', $1, false)", [tenant]) as Promise<unknown>;
    client.accreditTenant = tenant;
    if (isCursor(args[0])) {
      // a cursor (streamed query) must be returned synchronously; pg runs queued queries in order,
      // so the scope is set before the cursor's query runs
      set.catch(() => (client.accreditTenant = undefined));
      return query(...args);
    }
    return set.then(
      () => query(...args),
      (e) => {
        client.accreditTenant = undefined;
        throw e;
      },
    );
  };
}

function perTransaction(client: ScopedClient, query: Query, statementTimeoutMs?: number): Query {
  const timeout = statementTimeoutMs ? String(statementTimeoutMs) : '0';
  const setLocal = (tenant: string) =>
    query("select set_config('accredit.tenant_id', $1, true), set_config('statement_timeout', $2, true)", [
      tenant,
      timeout,
    ]) as Promise<unknown>;
  return (...args: unknown[]) => {
    const first = args[0];
    const text = typeof first === 'string' ? first.trim().toLowerCase() : '';
    const tenant = currentTenant();
    if (text === 'begin' || text.startsWith('start transaction')) {
      client.accreditTx = tenant;
      return (query(...args) as Promise<unknown>).then((r) => setLocal(tenant).then(() => r));
    }
    if (text === 'commit' || text === 'rollback') {
      client.accreditTx = undefined;
      return query(...args);
    }
    if (client.accreditTx !== undefined) {
      if (client.accreditTx === tenant || isCursor(first)) return query(...args);
      client.accreditTx = tenant;
      return setLocal(tenant).then(() => query(...args));
    }
    // outside a transaction: one of its own around the statement
    if (isCursor(first)) {
      // returned synchronously (pg runs queued queries in order); committed when the cursor closes
      void query('begin').catch(() => {});
      void setLocal(tenant).catch(() => {});
      const cursor = query(...args) as { close: (cb?: (e?: Error) => void) => Promise<void> | void };
      const close = cursor.close.bind(cursor);
      cursor.close = (cb?: (e?: Error) => void) => {
        const done = Promise.resolve(close()).then(
          () => query('commit') as Promise<unknown>,
          (e) => (query('rollback') as Promise<unknown>).then(() => Promise.reject(e)),
        );
        if (!cb) return done.then(() => undefined);
        done.then(() => cb(), cb);
      };
      return cursor;
    }
    return (query('begin') as Promise<unknown>)
      .then(() => setLocal(tenant))
      .then(() => query(...args) as Promise<unknown>)
      .then(
        (r) => (query('commit') as Promise<unknown>).then(() => r),
        (e) => (query('rollback') as Promise<unknown>).catch(() => {}).then(() => Promise.reject(e)),
      );
  };
}

export async function openStore(databaseUrl: string, opts: StoreOptions = {}): Promise<Store> {
  if (databaseUrl.startsWith('sqlite:')) return openSqlite(databaseUrl.slice('sqlite:'.length), opts.sqliteBusyTimeoutMs);
  return openPostgres(databaseUrl, opts);
}

/**
 * The server's store, migrated: what `serve`, `migrate` and the tests open. Behind a transaction
 * pooler the migration runs on the direct URL first (its advisory lock is a session lock).
 */
export async function openMigrated(
  c: {
    databaseUrl: string;
    databaseDirectUrl?: string;
    databasePoolMode: PoolMode;
    pgPoolMax: number;
    statementTimeoutMs: number;
    sqliteBusyTimeoutMs?: number;
    databaseReplicaUrls?: string[];
    replicaMaxLagMs?: number;
  },
  run: (store: Store) => Promise<unknown>,
): Promise<Store> {
  if (c.databasePoolMode === 'transaction' && c.databaseDirectUrl) {
    const direct = await openStore(c.databaseDirectUrl, { pgPoolMax: 1, statementTimeoutMs: c.statementTimeoutMs });
    try {
      await run(direct);
    } finally {
      await direct.close();
    }
  }
  const store = await openStore(c.databaseUrl, {
    pgPoolMax: c.pgPoolMax,
    statementTimeoutMs: c.statementTimeoutMs,
    sqliteBusyTimeoutMs: c.sqliteBusyTimeoutMs,
    poolMode: c.databasePoolMode,
    replicaUrls: c.databaseReplicaUrls,
    replicaMaxLagMs: c.replicaMaxLagMs,
  });
  if (c.databasePoolMode === 'transaction' && c.databaseDirectUrl) return store;
  try {
    await run(store);
  } catch (e) {
    await store.close();
    throw e;
  }
  return store;
}
