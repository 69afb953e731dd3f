import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import pg from 'pg';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApp } from '../src/app.js';
import { loadConfig, type Config } from '../src/config.js';
import type { Clock } from '../src/core/clock.js';
import { createVerifier } from '../src/http/auth.js';
import { migrate } from '../src/store/migrate.js';
import { openMigrated, type Store } from '../src/store/store.js';
import { tableSpecs } from '../src/resources/index.js';

/**
 * Test harness: each test file gets a fresh database — a new SQLite file, or a new PostgreSQL database
 * created from TEST_DATABASE_URL — migrated and served through the real app (app.inject()).
 */
export const PG_URL = process.env.TEST_DATABASE_URL;
export const BACKEND = PG_URL ? 'postgres' : 'sqlite';
/** The ordinary (non-superuser) role the server uses in PostgreSQL tests. */
export const APP_ROLE = 'accredit_app';
export const TEST_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

export interface TestDb {
  url: string;
  drop(): Promise<void>;
}

export async function freshDatabase(): Promise<TestDb> {
  const name = `accredit_t_${crypto.randomBytes(6).toString('hex')}`;
  if (!PG_URL) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'accredit-test-'));
    return { url: `sqlite:${path.join(dir, 'test.db')}`, drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
  // The server connects as an ordinary role that owns its database (as in production), so that the
  // row-level security policies apply to it: superusers would bypass them.
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  const { rowCount } = await admin.query(`select 1 from pg_roles where rolname = '${APP_ROLE}'`);
  if (!rowCount) {
    try {
      await admin.query(`create role ${APP_ROLE} login password '${APP_ROLE}' nosuperuser nocreatedb nocreaterole`);
    } catch (e) {
      if ((e as { code?: string }).code !== '23505' && (e as { code?: string }).code !== '42710') throw e; // created by a parallel file
    }
  }
  await admin.query(`create database ${name} owner ${APP_ROLE}`);
  await admin.end();
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  u.username = APP_ROLE;
  u.password = APP_ROLE;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/**
 * TEST_POOLER_URL (e.g. postgres://127.0.0.1:6432, PgBouncer in transaction mode): the app reaches
 * each test database through the pooler, in transaction pool mode; migrations go direct.
 */
export const POOLER_URL = process.env.TEST_POOLER_URL;
function throughPooler(direct: string): Record<string, string> {
  if (!POOLER_URL || !direct.startsWith('postgres')) return {};
  const u = new URL(direct);
  const p = new URL(POOLER_URL);
  u.hostname = p.hostname;
  u.port = p.port;
  return { DATABASE_URL: u.toString(), DATABASE_DIRECT_URL: direct, DATABASE_POOL_MODE: 'transaction' };
}

export interface TestApp {
  app: FastifyInstance;
  store: Store;
  config: Config;
  /** A bearer token; by default for tenant `acme` with write scope. */
  token(opts?: { tenants?: string[] | '*'; sub?: string; scope?: string }): Promise<string>;
  /** A token for `acme` with the admin scope (locking, settings). */
  admin: string;
  /** app.inject with a token for `acme` unless `auth` is given (false = no header). */
  call(opts: InjectOptions & { auth?: string | false; tenant?: string }): Promise<import('light-my-request').Response>;
  close(): Promise<void>;
}

/**
 * TEST_REPLICA_URL (e.g. postgres://root:pw@127.0.0.1:5433/postgres): a streaming replica of
 * TEST_DATABASE_URL's cluster; `startApp({ replicas })` reads from it (with the app's role).
 */
export const REPLICA_URL = process.env.TEST_REPLICA_URL;
function replicaOf(direct: string, replica: string): string {
  const u = new URL(direct);
  const r = new URL(replica);
  u.hostname = r.hostname;
  u.port = r.port;
  return u.toString();
}

export async function startApp(
  opts: {
    clock?: Clock;
    env?: Record<string, string>;
    replicas?: string[];
    auditDraw?: (range: number) => number;
    /** pino options (e.g. a stream that captures the lines); no log by default. */
    logger?: import('fastify').FastifyServerOptions['logger'];
  } = {},
): Promise<TestApp> {
  const db = await freshDatabase();
  // each app its own data folder (the .eml files of its mail, when no SMTP_URL), removed on close
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'accredit-test-data-'));
  const config = loadConfig({
    DATABASE_URL: db.url,
    DATA_DIR: dataDir,
    JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: 'silent',
    RATE_LIMIT_PER_MINUTE: '0',
    ...throughPooler(db.url),
    ...(opts.replicas ? { DATABASE_REPLICA_URLS: opts.replicas.map((r) => replicaOf(db.url, r)).join(',') } : {}),
    // no lifecycle sweep at the top of the hour in the middle of a test (test/lifecycle turns it on)
    LIFECYCLE_SWEEP_CRON: '0',
    ...opts.env,
  });
  const store = await openMigrated({ ...config, pgPoolMax: 8 }, (s) => migrate(s, tableSpecs()));
  const verifier = createVerifier(config);
  const app = await buildApp({ config, store, verifier, clock: opts.clock, logger: opts.logger ?? false, auditDraw: opts.auditDraw });
  await app.ready();
  const token = (o: { tenants?: string[] | '*'; sub?: string; scope?: string } = {}) =>
    verifier.sign!({ sub: o.sub ?? 'tester', tenants: o.tenants ?? ['acme'], scope: o.scope });
  const defaultToken = await token();
  const admin = await token({ scope: 'certifications:admin' });
  return {
    admin,
    app,
    store,
    config,
    token,
    call: ({ auth, tenant: _t, ...inject }) => {
      const headers = { ...(inject.headers ?? {}) } as Record<string, string>;
      if (auth !== false) headers.authorization = `Bearer ${auth ?? defaultToken}`;
      return app.inject({ ...inject, headers });
    },
    async close() {
      await app.close();
      await store.close();
      await db.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Rate limits count in fixed windows of a wall-clock minute (store/limits.ts): a test that counts up
 * to a limit first waits, when needed, until at least `needMs` remain in the current minute.
 */
export async function awayFromMinuteEnd(needMs = 15_000): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < needMs) await new Promise((r) => setTimeout(r, left + 50));
}

/** A valid billing run body with every job off. */
export const minimalRun = (over: Record<string, unknown> = {}) => ({ name: 'November run', status: 'draft', ...over });
