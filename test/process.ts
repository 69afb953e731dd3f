import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { freePort, procStatusKb, signToken, sleep, spawnNode, waitFor200, type Child } from '../scripts/lib/processes.js';
import { TEST_SECRET } from './helpers.js';

export { freePort, sleep };

/**
 * The real server as a child process (`node --import tsx src/main.ts serve`), for the reliability and
 * stress suites: start it on a database, wait for /health, talk to it over real sockets, kill it.
 * Every wait here is bounded; callers kill the child in `finally` (kill() is idempotent).
 */
const MAIN = path.resolve('src/main.ts');

/** The promise's value, or `undefined` after ms (the timer is cleared, so nothing lingers). */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Polls fn until it answers something other than undefined (bounded: throws naming `what` after ms).
 */
export async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 30_000, every = 50): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(every);
  }
}

/** An HS256 token the server accepts when it runs with JWT_SECRET=TEST_SECRET. */
export const tokenFor = (tenant: string, sub = 'reliability', scope = 'certifications:write') =>
  signToken(TEST_SECRET, { tenants: [tenant], sub, scope, expiresIn: '1h' });

export interface ServerProcess extends Child {
  port: number;
}

export interface StartOptions {
  databaseUrl: string;
  dataDir?: string;
  port?: number;
  logLevel?: string;
  env?: Record<string, string>;
  /** Called with every complete line the server writes to stdout or stderr. */
  onLine?: (line: string) => void;
  /** Extra Node.js options before the script (e.g. ['--import', file] to preload a tracer). */
  nodeArgs?: string[];
  /** How long to wait for /health (default 60 s: a start costs seconds, more on a loaded machine). */
  readyTimeoutMs?: number;
  /** The script to run instead of `--import tsx src/main.ts` (e.g. the bundled build). */
  script?: string;
}

export async function startServer(o: StartOptions): Promise<ServerProcess> {
  const port = o.port ?? (await freePort());
  const dataDir = o.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'accredit-proc-'));
  const entry = o.script ? [...(o.nodeArgs ?? []), o.script] : ['--import', 'tsx', ...(o.nodeArgs ?? []), MAIN];
  const env = {
    ...process.env,
    DATA_DIR: dataDir,
    DATABASE_URL: o.databaseUrl,
    PORT: String(port),
    HOST: '127.0.0.1',
    JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: o.logLevel ?? 'warn',
    // no lifecycle sweep at the top of the hour in the middle of a test that counts drops
    LIFECYCLE_SWEEP_CRON: '0',
    ...o.env,
  };
  const proc: ServerProcess = { ...spawnNode([...entry, 'serve'], { env, onLine: o.onLine }), port };
  try {
    await waitFor200(`http://127.0.0.1:${port}/health`, proc, performance.now(), o.readyTimeoutMs ?? 60_000, 100);
    return proc;
  } catch (e) {
    proc.kill('SIGKILL');
    throw e;
  }
}

/** Kills (SIGKILL) the process if it still runs and waits, bounded, for it to be gone. */
export async function killServer(p: ServerProcess | undefined, waitMs = 5000) {
  if (!p) return;
  p.kill('SIGKILL');
  await within(p.exited, waitMs);
}

export interface Answer {
  /** HTTP status, or 0 when no answer came (see error). */
  status: number;
  body: any;
  /** The socket error code when no answer came (ECONNREFUSED, ECONNRESET, timeout …). */
  error?: string;
  /** True once the request (headers and body) was fully written to a connected socket. */
  sent: boolean;
}

/**
 * One HTTP request on its own connection (no keep-alive pool, so one request = one connection and a
 * failure cannot be a stale pooled socket). Never rejects: a failure is { status: 0, error }.
 */
export function call(
  port: number,
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
  timeoutMs = 15_000,
  /** Sends the headers at once but holds the body back until this settles (a slow upload). */
  holdBody?: Promise<unknown>,
): Promise<Answer> {
  return new Promise((resolve) => {
    let sent = false;
    let settled = false;
    const finish = (a: Omit<Answer, 'sent'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...a, sent });
    };
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: url,
        agent: false,
        headers: { ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e: NodeJS.ErrnoException) => finish({ status: 0, body: undefined, error: e.code ?? e.message }));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            /* not JSON: keep the text */
          }
          if (!res.complete) return finish({ status: 0, body: parsed, error: 'INCOMPLETE' });
          finish({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.setTimeout(timeoutMs, () => {
      req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => finish({ status: 0, body: undefined, error: e.code ?? e.message }));
    req.on('finish', () => (sent = true));
    if (!holdBody) return void req.end(payload);
    req.flushHeaders();
    void holdBody.finally(() => {
      if (!settled) req.end(payload);
    });
  });
}

/**
 * VmRSS of a process and its child processes (the workers of `serve --workers`) in bytes, or
 * undefined once the process is gone.
 */
export function treeRssBytes(pid: number): number | undefined {
  const own = rssBytes(pid);
  if (own === undefined) return undefined;
  let kids: number[] = [];
  try {
    kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    /* no children file: the process alone */
  }
  return kids.reduce((sum, k) => sum + (rssBytes(k) ?? 0), own);
}

/** VmRSS of a process in bytes, or undefined once it is gone. */
export function rssBytes(pid: number): number | undefined {
  const kb = procStatusKb(pid, 'VmRSS');
  return kb === undefined ? undefined : kb * 1024;
}
