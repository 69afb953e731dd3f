// A small `npm run bench` (2,000 certifications, 1 s a phase, billing over 500) that fails unless
// every figure of the table is there: every phase ran, answered only 2xx, and has its baseline.
// CI runs it so that the benchmark keeps working on a fresh clone; its figures mean nothing.
//   node bench/smoke.mjs
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'accredit-bench-smoke-'));
const r = spawnSync('npm', ['run', '--silent', 'bench'], {
  encoding: 'utf8',
  env: {
    ...process.env,
    BENCH_WORK_DIR: work,
    BENCH_SCALE: '2000',
    BENCH_BILLING_SCALE: '500',
    BENCH_DURATION: '1',
    BENCH_WARMUP: '0',
    BENCH_DATABASE_URL: '',
  },
  timeout: 10 * 60_000,
});
const fail = (why) => {
  process.stderr.write(`${r.stderr ?? ''}\n${r.stdout ?? ''}\nbench smoke: ${why}\n`);
  process.exit(1);
};
if (r.status !== 0) fail(`npm run bench exited with ${r.status ?? r.signal}`);
const last = JSON.parse(fs.readFileSync(path.join(work, 'last-run.json'), 'utf8'));
const phases = [
  'hello',
  'min',
  'get',
  'list',
  'search',
  'lookup',
  'searchLatency',
  'lookupLatency',
  'page1',
  'pageDeep',
  'put',
  'patch',
  'create',
  'batch',
];
for (const p of phases) {
  const res = last.results[p];
  if (!res) fail(`phase ${p} did not run`);
  if (!(res.ok > 0) || res.non2xx || res.errors) fail(`phase ${p}: ${res.ok} ok, ${res.non2xx} non-2xx, ${res.errors} errors`);
}
// the ratio phases ran once per round (BENCH_ROUNDS, default 3), each round with only 2xx answers
for (const p of ['hello', 'min', 'get', 'put', 'patch']) {
  const rs = last.rounds?.[p] ?? [];
  if (rs.length !== last.cfg.rounds) fail(`phase ${p}: ${rs.length} rounds of ${last.cfg.rounds}`);
  if (rs.some((x) => !(x.ok > 0) || x.non2xx || x.errors)) fail(`phase ${p}: a round with failures`);
}
// the scale-out figures: the raw-SQL floor, GET with --workers 1 and N (N = cores, 2 here), only 2xx
if (!(last.floor?.records > 0)) fail('the batch floor wrote no records');
const workers = last.workerRuns ?? [];
if (!workers.some((w) => w.workers === 1) || (os.availableParallelism() > 1 && workers.length !== 2))
  fail(`--workers runs: ${JSON.stringify(workers.map((w) => w.workers))}`);
for (const w of workers)
  if (!(w.r.ok > 0) || w.r.non2xx || w.r.errors || !(w.r.serverCpuMs > 0))
    fail(`--workers ${w.workers}: ${w.r.ok} ok, ${w.r.non2xx} non-2xx, ${w.r.errors} errors, ${w.r.serverCpuMs} ms CPU/req`);
const rows = r.stdout.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| figure'));
const bad = rows.filter((l) => /not run|\*\*failed|not measured/.test(l));
if (bad.length) fail(`rows without a figure:\n${bad.join('\n')}`);
for (const figure of [
  'B_hello',
  'B_min',
  'GET by id vs B_min',
  'PATCH',
  'batch of 100 creates',
  'raw-SQL floor',
  'serve --workers 1',
  'keyset page 1',
  'peak RSS',
  'start-up',
  'billing run: refresh + execute',
]) {
  if (!rows.some((l) => l.includes(figure))) fail(`no row for ${figure}`);
}
// every ratio row names its same-run baseline and has a ratio
for (const l of rows.filter((x) => / ≥ |≤ 1.5×/.test(x))) {
  const cells = l.split('|').map((c) => c.trim());
  if (!cells[3] || !/×\)?$/.test(cells[4] ?? '')) fail(`a ratio row without its baseline or ratio: ${l}`);
}
fs.rmSync(work, { recursive: true, force: true });
process.stdout.write(`bench smoke: ${rows.length} figures, every phase ran with only 2xx answers\n`);
