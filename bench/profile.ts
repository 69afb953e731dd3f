/**
 * Where the server's time goes in one or more load phases: the accredit server runs under
 * `node --cpu-prof`, the phase's load is applied (warm-up + BENCH_DURATION seconds), the server is
 * stopped (SIGTERM: it exits and V8 writes the profile) and the .cpuprofile is summarised: top
 * self-time functions and self time per module (src file, package, node internals, GC).
 *
 *   node --import tsx bench/profile.ts get patch search     (phase names as in bench/phases.ts)
 *   node --import tsx bench/profile.ts --summarise file.cpuprofile
 *
 * Uses the same database as `npm run bench` (BENCH_DATABASE_URL / BENCH_SCALE), generating it when
 * it is missing. Profiles stay in $TMPDIR/accredit-bench/profiles/<phase>/ (open them in Chrome
 * DevTools or speedscope for flame graphs). Profiling slows the server: its req/s are not figures.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeTenant, generate } from './generate.js';
import { PHASE_ORDER, phases, prepareData, type PhaseName } from './phases.js';
import { buildServer, fmtInt, ROOT, fmtMs, freePort, load, startChild, signToken, waitFor200, WORK } from './lib.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A readable location: src/… for the server's code (compiled or not), pkg/… for dependencies. */
function where(url: string): string {
  if (!url) return '(native)';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) return u.slice(nm + '/node_modules/'.length);
  const dist = u.indexOf('/build/dist/');
  if (dist >= 0) return `src/${u.slice(dist + '/build/dist/'.length).replace(/\.js$/, '.ts')}`;
  const src = u.indexOf('/src/');
  if (src >= 0) return u.slice(src + 1);
  if (u.startsWith('node:')) return u;
  return u.split('/').slice(-2).join('/');
}

/** Groups: a src file, a package (scoped packages keep their scope), node internals, or V8's pseudo-frames. */
function moduleOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const w = where(url);
  if (w.startsWith('src/') || w.startsWith('node:')) return w;
  const parts = w.split('/');
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

/** skipMs: leave out the first samples (the server's start-up, before the load began). */
export function summarise(file: string, top = 25, skipMs = 0): string {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let at = 0;
  for (let i = 0; i < p.samples.length; i++) {
    at += p.timeDeltas[i] ?? 0;
    if (at < skipMs * 1000) continue;
    selfUs.set(p.samples[i]!, (selfUs.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const fns = new Map<string, number>();
  const mods = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const cf = byId.get(id)!.callFrame;
    if (cf.functionName === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    const key = `${cf.functionName || '(anonymous)'} — ${where(cf.url)}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const m = moduleOf(cf.url, cf.functionName);
    mods.set(m, (mods.get(m) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1)} %`;
  const lines = [
    `busy ${(total / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s${skipMs ? ` (after the first ${(skipMs / 1000).toFixed(1)} s: start-up left out)` : ''} — ${path.basename(file)}`,
    '',
    '| self time | share | function — location |',
    '|---:|---:|---|',
    ...[...fns]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => `| ${(us / 1000).toFixed(0)} ms | ${pct(us)} | ${k.replace(/\|/g, '\\|')} |`),
    '',
    '| self time | share | module |',
    '|---:|---:|---|',
    ...[...mods]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 20)
      .map(([k, us]) => `| ${(us / 1000).toFixed(0)} ms | ${pct(us)} | ${k} |`),
  ];
  return lines.join('\n');
}

async function main(argv: string[]) {
  if (argv[0] === '--summarise') {
    for (const f of argv.slice(1)) process.stdout.write(`${summarise(f)}\n\n`);
    return;
  }
  const wantedPhases = argv.filter((a) => !a.startsWith('-')) as (PhaseName | 'startup' | 'min')[];
  for (const p of wantedPhases)
    if (p !== 'startup' && p !== 'min' && !PHASE_ORDER.includes(p))
      throw new Error(`unknown phase ${p} (startup, min or one of ${PHASE_ORDER.join(', ')})`);
  if (!wantedPhases.length) throw new Error(`name the phases to profile: startup ${PHASE_ORDER.join(' ')}`);
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const scale = Number(process.env.BENCH_SCALE ?? 200_000);
  const databaseUrl = process.env.BENCH_DATABASE_URL || `sqlite:${path.join(WORK, `bench-${scale}.db`)}`;
  const tenant = 'bench';
  fs.mkdirSync(WORK, { recursive: true });
  let g = await describeTenant(databaseUrl, tenant);
  if (!g || g.certifications < scale) {
    log(`  generating ${fmtInt(scale)} certifications into ${databaseUrl}`);
    const made = await generate({ databaseUrl, tenant, certifications: scale, log });
    g = { certifications: made.certifications, programIds: made.programIds, statusReasonIds: made.statusReasonIds };
  }
  const data = await prepareData(databaseUrl, tenant, g.programIds, g.statusReasonIds, Math.min(scale, g.certifications));
  const cmd = buildServer(process.env.BENCH_SERVER === 'tsx' ? 'tsx' : 'dist', log) /* module by module: readable profiles */;
  const secret = crypto.randomBytes(36).toString('base64url');
  const token = await signToken(secret, tenant);
  for (const phase of wantedPhases) {
    const dir = path.join(WORK, 'profiles', phase);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const port = await freePort();
    // `min`: the B_min baseline server under the same load as `get`, to compare where its time goes
    const serverArgs = phase === 'min' ? ['--import', 'tsx', path.join(ROOT, 'bench/servers/min.ts')] : [...cmd.args, 'serve'];
    const child = startChild(
      ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...serverArgs],
      {
        DATABASE_URL: databaseUrl,
        DATA_DIR: path.join(WORK, 'data'),
        JWT_SECRET: secret,
        LOG_LEVEL: 'warn',
        RATE_LIMIT_PER_MINUTE: '0',
      },
      port,
    );
    let startupMs = 0;
    try {
      const t0 = performance.now();
      if (phase === 'min')
        startupMs = await waitFor200(`http://127.0.0.1:${port}/certifications/${tenant}/${data.readIds[0]}`, child, t0, 120_000);
      else startupMs = await waitFor200(`http://127.0.0.1:${port}/health`, child, t0, 120_000);
      if (phase === 'startup') {
        log(`  start-up to 200 on /health: ${startupMs.toFixed(0)} ms under the profiler`);
      } else {
        const spec = phases(data, {
          base: `http://127.0.0.1:${port}`,
          token,
          duration: Number(process.env.BENCH_DURATION ?? 10),
          warmup: 1,
          connections: Number(process.env.BENCH_CONNECTIONS ?? 64),
          latencyConnections: Number(process.env.BENCH_LATENCY_CONNECTIONS ?? 4),
        })[phase === 'min' ? 'get' : phase];
        const r = await load(spec);
        log(
          `  ${phase}: ${fmtInt(r.rps)} req/s under the profiler, p50 ${fmtMs(r.p50)} ms, p99 ${fmtMs(r.p99)} ms${r.non2xx ? `, ${r.non2xx} non-2xx: ${r.sampleError}` : ''}`,
        );
      }
    } finally {
      await child.stop(30_000);
    }
    const file = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => path.join(dir, f))[0];
    if (!file) throw new Error(`no profile written in ${dir}`);
    process.stdout.write(
      `## ${phase} (${os.cpus().length} cores, node ${process.version})\n\n${phase === 'startup' ? summarise(file, 30) : summarise(file, 25, startupMs + 200)}\n\n`,
    );
  }
}

if (process.argv[1] && path.resolve(process.argv[1]).endsWith(path.join('bench', 'profile.ts'))) {
  main(process.argv.slice(2))
    .then(() => process.exit(0))
    .catch((e) => {
      process.stderr.write(`profile: ${e instanceof Error ? e.stack : String(e)}\n`);
      process.exit(1);
    });
}
