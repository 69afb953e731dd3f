import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import { TEST_SECRET } from './helpers.js';

/**
 * The real server as a child process (`node --import tsx src/main.ts serve`), for the reliability and
 * stress suites: start it on a database, wait for /health, talk to it over real sockets, kill it.
 * Every wait here is bounded; callers kill the child in `finally` (kill() is idempotent).
 */
const MAIN = path.resolve('src/main.ts');

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

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
  new SignJWT({ tenants: [tenant], scope })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(TEST_SECRET));

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  /** The last 256 KB of stdout + stderr (for failure messages). */
  output(): string;
  /** Resolves when the process has exited: its exit code, or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends a signal if the process still runs (safe to call twice, and in finally). */
  kill(signal?: NodeJS.Signals): void;
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
  const child = spawn(process.execPath, [...entry, 'serve'], {
    env: {
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
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (s: string) => {
    out += s;
    if (out.length > 512 * 1024) out = out.slice(-256 * 1024);
  };
  for (const stream of [child.stdout!, child.stderr!]) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => {
      keep(d);
      if (!o.onLine) return;
      const lines = (partial + d).split('\n');
      partial = lines.pop()!;
      for (const l of lines) o.onLine(l);
    });
  }
  // 'close' rather than 'exit': it comes after the output pipes are drained, so every line is read.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  let done = false;
  void exited.then(() => (done = true));
  const proc: ServerProcess = {
    child,
    pid: child.pid!,
    port,
    output: () => out.slice(-256 * 1024),
    exited,
    kill(signal = 'SIGKILL') {
      if (!done && child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
  const deadline = Date.now() + (o.readyTimeoutMs ?? 60_000);
  try {
    while (true) {
      if (done) throw new Error(`the server exited before it was ready:\n${out.slice(-4000)}`);
      if (Date.now() > deadline) throw new Error(`the server was not ready in time:\n${out.slice(-4000)}`);
      const r = await call(port, 'GET', '/health', undefined, {}, 1000);
      if (r.status === 200) return proc;
      await sleep(100);
    }
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
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
