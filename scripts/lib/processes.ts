/**
 * Server processes for the tests and the benchmark (test/process.ts and bench/lib.ts build on this):
 * a free port, a child process with its output kept and its end awaited, waiting until it answers
 * 200, its memory from /proc, and an HS256 token it accepts. Every wait is bounded; every child still
 * running when this process exits is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { SignJWT } from 'jose';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A port nothing listens on now (on 127.0.0.1). */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });

/** An HS256 token for the tenants, as the server checks them with JWT_SECRET=secret. */
export function signToken(secret: string, o: { tenants: string[]; sub: string; scope: string; expiresIn: string; jti?: string }) {
  const jwt = new SignJWT({ tenants: o.tenants, scope: o.scope })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(o.sub)
    .setIssuedAt();
  if (o.jti) jwt.setJti(o.jti);
  return jwt.setExpirationTime(o.expiresIn).sign(new TextEncoder().encode(secret));
}

export interface Child {
  child: ChildProcess;
  pid: number;
  /** The last 256 KB of stdout + stderr (for failure messages, and lines such as the ready token). */
  output(): string;
  /** Resolves when the process has ended and its output is read: its exit code, or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
  /** Sends a signal if the process still runs (safe to call twice, and in finally). */
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** `node <args>` as a child process with the given environment (complete: nothing is added). */
export function spawnNode(args: string[], o: { env: NodeJS.ProcessEnv; cwd?: string; onLine?: (line: string) => void }): Child {
  const child = spawn(process.execPath, args, { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  for (const stream of [child.stdout!, child.stderr!]) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => {
      out += d;
      if (out.length > 512 * 1024) out = out.slice(-256 * 1024);
      if (!o.onLine) return;
      const lines = (partial + d).split('\n');
      partial = lines.pop()!;
      for (const l of lines) o.onLine(l);
    });
  }
  // 'close' rather than 'exit': it comes after the output pipes are drained, so every line is read.
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      done = true;
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  const hasExited = () => done || child.exitCode !== null || child.signalCode !== null;
  const kill = (signal: NodeJS.Signals = 'SIGKILL') => {
    if (!hasExited()) child.kill(signal);
  };
  return {
    child,
    pid: child.pid!,
    output: () => out.slice(-256 * 1024),
    exited,
    hasExited,
    kill,
    async stop(graceMs = 10_000) {
      kill('SIGTERM');
      const timer = setTimeout(() => kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The status of one GET on its own connection (no keep-alive pool), 0 when none came within timeoutMs. */
function statusOf(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.on('error', () => resolve(0));
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.resume();
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

/**
 * Polls GET url until a 200 (every `everyMs`), at most `timeoutMs` from `since`; returns the ms it
 * took from `since`. Throws, with the child's output, when the child ends first or time runs out.
 */
export async function waitFor200(
  url: string,
  child: Pick<Child, 'hasExited' | 'output'>,
  since = performance.now(),
  timeoutMs = 60_000,
  everyMs = 5,
): Promise<number> {
  const deadline = since + timeoutMs;
  while (performance.now() < deadline) {
    if (child.hasExited()) throw new Error(`the server exited before answering ${url}:\n${child.output().slice(-4000)}`);
    if ((await statusOf(url, 1000)) === 200) return performance.now() - since;
    await sleep(everyMs);
  }
  throw new Error(`no 200 from ${url} within ${timeoutMs} ms:\n${child.output().slice(-4000)}`);
}

/** Kilobytes of a /proc/<pid>/status field (VmRSS, VmHWM), or undefined when the process is gone. */
export function procStatusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
