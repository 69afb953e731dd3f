import os from 'node:os';
import path from 'node:path';
import { validateSchedule } from './domain/billing/schedule.js';

/**
 * Environment -> typed Config. Every setting is validated here, at start; a bad one stops start-up
 * with a ConfigError that names the variable and what it expects.
 */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** `sqlite:<file>` or `postgres://…`; always set after loading (defaults to the data folder's file). */
  databaseUrl: string;
  logLevel: string;
  bodyLimit: number;
  pageSizeDefault: number;
  pageSizeMax: number;
  pgPoolMax: number;
  /**
   * `transaction` when DATABASE_URL reaches PostgreSQL through a pooler in transaction mode
   * (PgBouncer `pool_mode = transaction`): no session state is relied on.
   */
  databasePoolMode: 'session' | 'transaction';
  /** A direct connection to the primary for migrations (their lock lives in a session); required in transaction mode. */
  databaseDirectUrl?: string;
  /** Streaming replicas for reads that allow them (GET, list, search, lookups). */
  databaseReplicaUrls: string[];
  /** A replica further behind the primary than this is not read (ms). */
  replicaMaxLagMs: number;
  /** Requests per token (or per client address without one) per minute; 0 turns the limit off. */
  rateLimitPerMinute: number;
  /** Requests per client address per minute to the public (token-less) registry routes; 0 turns the limit off. */
  publicRateLimitPerMinute: number;
  /** STRIPE_WEBHOOK_SECRET (whsec_…): Stripe's signing secret of the webhook endpoint; without it the Stripe webhook route is off. */
  stripeWebhookSecret?: string;
  /** Longest time to receive a whole request (ms). */
  requestTimeoutMs: number;
  /** Longest time one SQL statement may run on PostgreSQL (ms). */
  statementTimeoutMs: number;
  /** SQLITE_BUSY_TIMEOUT_MS: how long a SQLite write waits for another process's write lock. */
  sqliteBusyTimeoutMs: number;
  jwt: {
    secret?: string;
    jwksUrl?: string;
    issuer?: string;
    audience?: string;
    defaultScope: string;
    /** JWT_ALLOW_NO_EXP: accept tokens without `exp` (off by default: such a token would be a key forever). */
    allowNoExp: boolean;
    /** JWT_MAX_AGE in seconds (0 = no cap): the longest life of a token, counted from its `iat`. */
    maxAgeS: number;
  };
  corsOrigins: string[] | '*';
  mail: {
    /** smtp:// or smtps:// URL; without it messages are written as .eml files under <dataDir>/mail. */
    smtpUrl?: string;
    /** The From of notices that name no sender. */
    from: string;
  };
  /** How often an idle worker looks for background work left by a stopped process (ms). */
  workerPollMs: number;
  /** How long a worker's claim on an execution lasts without renewal; a crashed worker's runs resume after it (ms). */
  workerLeaseMs: number;
  /** How often the scheduler looks for recurring billing runs that are due (ms); 0 turns it off. */
  schedulerPollMs: number;
  /**
   * What this process does: `api` serves HTTP only, `worker` runs the background work only
   * (executions, the scheduler, the mail sender) and answers only health and metrics, `all` both.
   */
  role: 'all' | 'api' | 'worker';
  /** HTTP worker processes of `serve` on this machine (node:cluster); 1 = this process alone. */
  workers: number;
  /** When the lifecycle sweep runs (cron, UTC); undefined = off in this process (LIFECYCLE_SWEEP_CRON=0). */
  lifecycleSweepCron?: string;
  /** PUBLIC_BASE_URL: where clients reach the API (OpenAPI `servers`), without a trailing slash. */
  publicBaseUrl?: string;
  /**
   * CREDENTIAL_KEY_SECRET: encrypts the tenants' credential signing keys at rest (at least 32
   * characters). Without it, a secret created in the data folder (development mode).
   */
  credentialKeySecret?: string;
  metrics: {
    /** A port of its own for GET /metrics (no token), on HOST. */
    port?: number;
    /** Serves GET /metrics on the API port to `Authorization: Bearer <token>`. */
    token?: string;
  };
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`Invalid setting ${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, dflt: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `expected a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `expected a number from ${min} to ${max}, got ${n}`);
  return n;
}

/** `10mb`, `512kb`, `1048576` -> bytes. */
function bytes(env: Env, name: string, dflt: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const m = /^\s*(\d+)\s*(b|kb|mb|gb)?\s*$/i.exec(raw);
  if (!m) throw new ConfigError(name, `expected a size such as 10mb or 1048576, got "${raw}"`);
  const mult = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(m[2] ?? 'b').toLowerCase() as 'b'];
  const n = Number(m[1]) * mult;
  if (n < 1024) throw new ConfigError(name, 'must be at least 1kb');
  return n;
}

function oneOf<T extends string>(env: Env, name: string, dflt: T, values: readonly T[]): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (!(values as readonly string[]).includes(raw)) throw new ConfigError(name, `expected one of ${values.join(', ')}, got "${raw}"`);
  return raw as T;
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(name, `expected a URL, got "${raw}"`);
  }
  if (!protocols.includes(u.protocol)) throw new ConfigError(name, `expected a ${protocols.join(' or ')} URL`);
  return raw;
}

/** LIFECYCLE_SWEEP_CRON: a cron schedule (default hourly), or 0 to turn the sweep off. */
function sweepCron(env: Env): string | undefined {
  const raw = env.LIFECYCLE_SWEEP_CRON?.trim();
  if (raw === undefined || raw === '') return '0 * * * *';
  if (raw === '0') return undefined;
  const bad = validateSchedule(raw);
  if (bad)
    throw new ConfigError(
      'LIFECYCLE_SWEEP_CRON',
      `expected a cron schedule such as "0 * * * *" (hourly) or 0 to turn the sweep off: ${bad}`,
    );
  return raw;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
const UNIT_NAMES: Record<string, string> = {
  sec: 's',
  secs: 's',
  second: 's',
  seconds: 's',
  min: 'm',
  mins: 'm',
  minute: 'm',
  minutes: 'm',
  hr: 'h',
  hrs: 'h',
  hour: 'h',
  hours: 'h',
  day: 'd',
  days: 'd',
  week: 'w',
  weeks: 'w',
};

/** `90`, `15m`, `24h`, `30d`, `2 weeks` -> seconds; undefined when it is not such a span. */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = m[2]!.toLowerCase();
  const per = unit === '' ? 1 : (UNIT_SECONDS[unit] ?? UNIT_SECONDS[UNIT_NAMES[unit] ?? '']);
  return per === undefined ? undefined : Number(m[1]) * per;
}

/** Seconds as the shortest exact span: 86400 -> 24h (hours up to a day's multiple read best). */
export function formatDuration(s: number): string {
  if (s % 86_400 === 0 && s >= 7 * 86_400) return `${s / 86_400}d`;
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}

function duration(env: Env, name: string, dflt: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return dflt;
  const s = parseDuration(raw);
  if (s === undefined)
    throw new ConfigError(name, `expected a span such as 24h, 30m, 7d or a number of seconds (0 = no cap), got "${raw}"`);
  return s;
}

function bool(env: Env, name: string, dflt: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return dflt;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(name, `expected true or false, got "${env[name]}"`);
}

export const SCOPES = ['certifications:read', 'certifications:write', 'certifications:admin'] as const;

export function loadConfig(env: Env = process.env): Config {
  const dataDir = path.resolve(env.DATA_DIR || './data');
  let databaseUrl = env.DATABASE_URL?.trim() || '';
  if (!databaseUrl) databaseUrl = `sqlite:${path.join(dataDir, 'accredit.db')}`;
  if (databaseUrl.startsWith('sqlite:')) {
    const file = databaseUrl.slice('sqlite:'.length);
    if (!file) throw new ConfigError('DATABASE_URL', 'sqlite: needs a file path, e.g. sqlite:./data/accredit.db');
  } else if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    url({ DATABASE_URL: databaseUrl }, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  } else {
    throw new ConfigError('DATABASE_URL', 'expected sqlite:<file> or postgres://user@host/db');
  }

  const databasePoolMode = oneOf<'session' | 'transaction'>(env, 'DATABASE_POOL_MODE', 'session', ['session', 'transaction']);
  const databaseDirectUrl = url(env, 'DATABASE_DIRECT_URL', ['postgres:', 'postgresql:']);
  if (databasePoolMode === 'transaction') {
    if (!databaseUrl.startsWith('postgres'))
      throw new ConfigError('DATABASE_POOL_MODE', 'transaction applies to a PostgreSQL DATABASE_URL only');
    if (!databaseDirectUrl)
      throw new ConfigError(
        'DATABASE_DIRECT_URL',
        'required with DATABASE_POOL_MODE=transaction: migrations hold a session lock, which a transaction pooler cannot keep',
      );
  }

  const role = oneOf<'all' | 'api' | 'worker'>(env, 'ACCREDIT_ROLE', 'all', ['all', 'api', 'worker']);
  const rawWorkers = env.WEB_CONCURRENCY?.trim();
  const workers = rawWorkers === 'auto' ? os.availableParallelism() : int(env, 'WEB_CONCURRENCY', 1, 1, 256);

  const databaseReplicaUrls = (env.DATABASE_REPLICA_URLS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const r of databaseReplicaUrls) url({ DATABASE_REPLICA_URLS: r }, 'DATABASE_REPLICA_URLS', ['postgres:', 'postgresql:']);
  if (databaseReplicaUrls.length && !databaseUrl.startsWith('postgres'))
    throw new ConfigError('DATABASE_REPLICA_URLS', 'replicas apply to a PostgreSQL DATABASE_URL only');

  const host = env.HOST || '127.0.0.1';
  const secret = env.JWT_SECRET || undefined;
  if (secret !== undefined && secret.length < 32) {
    throw new ConfigError('JWT_SECRET', 'must be at least 32 characters (HS256 needs 256 bits of key)');
  }
  const jwksUrl = url(env, 'JWT_JWKS_URL', ['https:', 'http:']);
  const defaultScope = oneOf(env, 'JWT_DEFAULT_SCOPE', 'certifications:write', [...SCOPES]);
  const pageSizeMax = int(env, 'PAGE_SIZE_MAX', 1000, 1, 10000);
  const pageSizeDefault = int(env, 'PAGE_SIZE', 100, 1, 10000);
  if (pageSizeDefault > pageSizeMax) throw new ConfigError('PAGE_SIZE', `must not exceed PAGE_SIZE_MAX (${pageSizeMax})`);
  const credentialKeySecret = env.CREDENTIAL_KEY_SECRET || undefined;
  if (credentialKeySecret !== undefined && credentialKeySecret.length < 32)
    throw new ConfigError('CREDENTIAL_KEY_SECRET', 'must be at least 32 characters (it encrypts the issuer keys)');
  const cors = env.CORS_ORIGINS?.trim();
  const metricsToken = env.METRICS_TOKEN || undefined;
  if (metricsToken !== undefined && metricsToken.length < 16) throw new ConfigError('METRICS_TOKEN', 'must be at least 16 characters');
  const metricsPort = env.METRICS_PORT ? int(env, 'METRICS_PORT', 0, 0, 65535) : undefined;

  return {
    port: int(env, 'PORT', 3000, 0, 65535),
    host,
    dataDir,
    databaseUrl,
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    bodyLimit: bytes(env, 'BODY_LIMIT', 10 * 1024 * 1024),
    pageSizeDefault,
    pageSizeMax,
    pgPoolMax: int(env, 'PG_POOL_MAX', 10, 1, 1000),
    databasePoolMode,
    databaseDirectUrl,
    databaseReplicaUrls,
    replicaMaxLagMs: int(env, 'REPLICA_MAX_LAG_MS', 5000, 0, 3_600_000),
    rateLimitPerMinute: int(env, 'RATE_LIMIT_PER_MINUTE', 6000, 0, 10_000_000),
    publicRateLimitPerMinute: int(env, 'PUBLIC_RATE_LIMIT_PER_MINUTE', 60, 0, 10_000_000),
    stripeWebhookSecret: env.STRIPE_WEBHOOK_SECRET || undefined,
    requestTimeoutMs: int(env, 'REQUEST_TIMEOUT_MS', 30_000, 1000, 3_600_000),
    statementTimeoutMs: int(env, 'DB_STATEMENT_TIMEOUT_MS', 15_000, 100, 3_600_000),
    sqliteBusyTimeoutMs: int(env, 'SQLITE_BUSY_TIMEOUT_MS', 5000, 10, 60_000),
    jwt: {
      secret,
      jwksUrl,
      issuer: env.JWT_ISSUER || undefined,
      audience: env.JWT_AUDIENCE || undefined,
      defaultScope,
      allowNoExp: bool(env, 'JWT_ALLOW_NO_EXP', false),
      maxAgeS: duration(env, 'JWT_MAX_AGE', 86_400),
    },
    corsOrigins:
      !cors || cors === '*'
        ? '*'
        : cors
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
    mail: {
      smtpUrl: url(env, 'SMTP_URL', ['smtp:', 'smtps:']),
      from: env.MAIL_FROM || 'accredit <no-reply@localhost>',
    },
    workerPollMs: int(env, 'WORKER_POLL_MS', 5000, 50, 3_600_000),
    workerLeaseMs: int(env, 'WORKER_LEASE_MS', 30_000, 300, 3_600_000),
    schedulerPollMs: int(env, 'SCHEDULER_POLL_MS', 60_000, 0, 86_400_000),
    role,
    workers,
    lifecycleSweepCron: sweepCron(env),
    metrics: { port: metricsPort, token: metricsToken },
    publicBaseUrl: url(env, 'PUBLIC_BASE_URL', ['https:', 'http:'])?.replace(/\/+$/, ''),
    credentialKeySecret,
  };
}
