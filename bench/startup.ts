/**
 * Where start-up goes: the steps of `accredit serve` (src/main.ts) timed one by one in a fresh
 * process, on the compiled server (the work folder's build from `npm run bench`, or dist/ with
 * --dist) and an existing database. Run it a few times: the first run also warms the OS file cache.
 *
 *   node --import tsx bench/startup.ts [--runs 3] [--dist]
 *
 * Each run is a fresh plain-node process (bench/startup-child.mjs), so module loading is measured cold
 * and without a TypeScript loader.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, WORK } from './lib.js';

async function main() {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, dist: { type: 'boolean' } } });
  const distDir = values.dist ? path.join(ROOT, 'dist') : path.join(WORK, 'build/dist');
  if (!fs.existsSync(path.join(distDir, 'main.js')))
    throw new Error(`no compiled server in ${distDir}: run npm run bench once (or npm run build and pass --dist)`);
  const scale = Number(process.env.BENCH_SCALE ?? 200_000);
  const databaseUrl = process.env.BENCH_DATABASE_URL || `sqlite:${path.join(WORK, `bench-${scale}.db`)}`;
  const runs: { processUptimeAtStartMs: number; rows: { label: string; ms: number }[]; totalMs: number }[] = [];
  for (let i = 0; i < Number(values.runs); i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bench/startup-child.mjs'), distDir], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        JWT_SECRET: 'x'.repeat(40),
        LOG_LEVEL: 'warn',
        RATE_LIMIT_PER_MINUTE: '0',
        DATA_DIR: path.join(WORK, 'data'),
      },
    });
    if (r.status !== 0) throw new Error(`start-up probe failed: ${r.stdout}${r.stderr}`);
    const line = r.stdout.trim().split('\n').at(-1)!;
    runs.push(JSON.parse(line));
    process.stderr.write(`  run ${i + 1}: ${(performance.now() - t0).toFixed(0)} ms wall\n`);
  }
  const labels = runs[0]!.rows.map((r) => r.label);
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  process.stdout.write(
    `| step (median of ${runs.length}, ${databaseUrl.startsWith('sqlite:') ? 'SQLite' : 'PostgreSQL'}) | ms |\n|---|---:|\n`,
  );
  process.stdout.write(
    `| node boot until the probe's first line (process uptime) | ${med(runs.map((r) => r.processUptimeAtStartMs)).toFixed(0)} |\n`,
  );
  for (const l of labels) process.stdout.write(`| ${l} | ${med(runs.map((r) => r.rows.find((x) => x.label === l)!.ms)).toFixed(0)} |\n`);
  process.stdout.write(`| total after boot | ${med(runs.map((r) => r.totalMs)).toFixed(0)} |\n`);
}

main().catch((e) => {
  process.stderr.write(`startup: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
