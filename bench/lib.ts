/**
 * Shared pieces of the benchmark: building the server, starting child processes on 127.0.0.1, waiting
 * for them, sampling their memory, driving load with autocannon. Every wait is bounded and every child
 * is killed by its owner in `finally` (and, as a last resort, when this process exits).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import {
  freePort,
  procStatusKb,
  signToken as sign,
  sleep,
  spawnNode,
  waitFor200,
  type Child as Process,
} from '../scripts/lib/processes.js';

export { freePort, procStatusKb, sleep, waitFor200 };

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const WORK = process.env.BENCH_WORK_DIR ?? path.join(os.tmpdir(), 'accredit-bench');

export const signToken = (secret: string, tenant: string, scope = 'certifications:admin') =>
  sign(secret, { tenants: [tenant], sub: 'bench', scope, expiresIn: '6h', jti: 'bench-token' });

/**
 * How the accredit server is started. 'bundle' (default): the current src/ bundled by
 * scripts/bundle.mjs into the work folder, run with plain node — what production (`npm start`) runs.
 * 'dist': src/ compiled module by module with tsc (readable profiles). 'tsx': node --import tsx
 * src/main.ts (no build step). Builds go to the work folder, never the repository's dist/ (may be stale).
 */
export type ServerMode = 'bundle' | 'dist' | 'tsx';
export interface ServerCommand {
  mode: ServerMode;
  args: string[];
}

export const serverMode = (v: string | undefined): ServerMode => (v === 'tsx' || v === 'dist' ? v : 'bundle');

export function buildServer(mode: ServerMode, log: (s: string) => void): ServerCommand {
  if (mode === 'tsx') return { mode, args: ['--import', 'tsx', path.join(ROOT, 'src/main.ts')] };
  if (mode === 'bundle') {
    const out = path.join(WORK, 'bundle');
    const file = path.join(out, 'dist/accredit.mjs');
    if (process.env.BENCH_REUSE_BUILD === '1' && fs.existsSync(file)) return { mode, args: [file] };
    fs.rmSync(out, { recursive: true, force: true });
    fs.mkdirSync(path.join(out, 'dist'), { recursive: true });
    const t0 = performance.now();
    const b = spawnSync(process.execPath, [path.join(ROOT, 'scripts/bundle.mjs'), file], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    if (b.status !== 0 || !fs.existsSync(file)) throw new Error(`bundling failed: ${b.stdout}${b.stderr}`);
    // the bundle reads ../package.json; the modules left outside it resolve through a link
    fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(out, 'package.json'));
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(out, 'node_modules'), 'dir');
    log(`  bundled src/ in ${((performance.now() - t0) / 1000).toFixed(1)} s -> ${file}`);
    return { mode, args: [file] };
  }
  const out = path.join(WORK, 'build');
  if (process.env.BENCH_REUSE_BUILD === '1' && fs.existsSync(path.join(out, 'dist/main.js'))) {
    log(`  reusing the build in ${out} (BENCH_REUSE_BUILD=1)`);
    return { mode, args: [path.join(out, 'dist/main.js')] };
  }
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const t0 = performance.now();
  const tsc = spawnSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', path.join(out, 'dist')],
    {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 180_000,
    },
  );
  const main = path.join(out, 'dist/main.js');
  if (!fs.existsSync(main)) throw new Error(`tsc produced no ${main}: ${tsc.stdout}${tsc.stderr}`);
  if (tsc.status !== 0)
    log(
      `  warning: tsc reported errors (src/ is being edited?); running what it emitted:\n${(tsc.stdout + tsc.stderr).split('\n').slice(0, 5).join('\n')}`,
    );
  // main.js reads ../package.json; packages resolve through a link to the repository's node_modules.
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(out, 'package.json'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(out, 'node_modules'), 'dir');
  log(`  compiled src/ with tsc in ${((performance.now() - t0) / 1000).toFixed(1)} s -> ${out}/dist`);
  return { mode, args: [main] };
}

export interface Child extends Process {
  port: number;
}

/** A server child on 127.0.0.1:port with a minimal environment (PATH, HOME, NODE_ENV=production and `env`). */
export function startChild(nodeArgs: string[], env: Record<string, string>, port: number, cwd = ROOT): Child {
  const full = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NODE_ENV: 'production',
    ...env,
    PORT: String(port),
    HOST: '127.0.0.1',
  };
  return { ...spawnNode(nodeArgs, { env: full, cwd }), port };
}

/** Samples VmRSS every `everyMs`; peak() also folds in VmHWM (the kernel's own high-water mark). */
export function rssSampler(pid: number, everyMs = 200) {
  let peakKb = 0;
  const sample = () => {
    const kb = procStatusKb(pid, 'VmRSS');
    if (kb && kb > peakKb) peakKb = kb;
  };
  sample();
  const timer = setInterval(sample, everyMs);
  timer.unref();
  return {
    peakKb() {
      sample();
      const hwm = procStatusKb(pid, 'VmHWM');
      return Math.max(peakKb, hwm ?? 0);
    },
    stop: () => clearInterval(timer),
  };
}

export interface LoadSpec {
  title: string;
  url: string;
  connections: number;
  /** Seconds of measured load (a bounded warm-up at the same settings runs first). */
  duration?: number;
  /** Instead of a duration: exactly this many requests (still bounded by maxSeconds). */
  amount?: number;
  maxSeconds?: number;
  warmupSeconds?: number;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  /** The path (and query) and body of each request; called once per request. */
  next(i: number): { path: string; body?: string };
}

export interface LoadResult {
  title: string;
  connections: number;
  seconds: number;
  /** 2xx answers per second. */
  rps: number;
  ok: number;
  non2xx: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** The first unexpected status and body, for the report. */
  sampleError?: string;
}

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN;

async function cannon(
  spec: LoadSpec,
  seconds: number | undefined,
  amount: number | undefined,
  counter: { i: number },
): Promise<LoadResult> {
  const latencies: number[] = [];
  let ok = 0;
  let non2xx = 0;
  const maxSeconds = spec.maxSeconds ?? 120;
  const instance: any = autocannon({
    url: spec.url,
    connections: spec.connections,
    ...(amount ? { amount } : { duration: seconds }),
    timeout: 30,
    headers: spec.headers ?? {},
    requests: [
      {
        method: spec.method ?? 'GET',
        setupRequest: (req: any) => {
          const r = spec.next(counter.i++);
          return { ...req, path: r.path, ...(r.body !== undefined ? { body: r.body } : {}) };
        },
      },
    ],
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (latencies.length < 2_000_000) latencies.push(ms);
    if (status >= 200 && status < 300) ok++;
    else non2xx++;
  });
  const guard = setTimeout(() => instance.stop(), maxSeconds * 1000);
  const t0 = performance.now();
  const res: any = await instance; // resolves with the result when no callback is given
  clearTimeout(guard);
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    title: spec.title,
    connections: spec.connections,
    seconds: res.duration ?? elapsed,
    rps: ok / (res.duration || elapsed),
    ok,
    non2xx,
    errors: (res.errors ?? 0) + (res.timeouts ?? 0),
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? NaN,
  };
}

/** A warm-up, then the measured run. If anything failed, one request is replayed to show why. */
export async function load(spec: LoadSpec): Promise<LoadResult> {
  const counter = { i: 0 };
  const warm = spec.warmupSeconds ?? 2;
  if (warm > 0) await cannon({ ...spec, maxSeconds: warm + 10 }, warm, undefined, counter);
  const r = await cannon(spec, spec.amount ? undefined : (spec.duration ?? 8), spec.amount, counter);
  if (r.non2xx || r.errors) {
    const probe = spec.next(counter.i++);
    try {
      const res = await fetch(spec.url + probe.path, {
        method: spec.method ?? 'GET',
        headers: spec.headers,
        body: probe.body,
        signal: AbortSignal.timeout(10_000),
      });
      r.sampleError = `${res.status} ${(await res.text()).slice(0, 300)}`;
    } catch (e) {
      r.sampleError = String(e);
    }
  }
  return r;
}

export const fmtMs = (ms: number) => (Number.isNaN(ms) ? '–' : ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0));
export const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
