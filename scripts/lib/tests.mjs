// What scripts/test.mjs and scripts/stress.mjs share: finding the test files and running them with
// Node's test runner (TypeScript through tsx). Plain JavaScript: these scripts run before anything
// is compiled.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** The *.test.ts files under `roots` that `keep` accepts, narrowed to those whose path contains one of `only` (when any). */
export function testFiles(roots, only, keep = () => true) {
  const files = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.test.ts') && keep(p)) files.push(p);
    }
  };
  for (const r of roots) if (existsSync(r)) walk(r);
  return (only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files).sort();
}

export const backendName = () => (process.env.TEST_DATABASE_URL ? 'PostgreSQL' : 'SQLite');

/**
 * Runs the files, `concurrency` at a time; returns the exit status. Bounded: a test that hangs fails
 * after 10 minutes, and a file whose tests are done exits even if something it opened is still open
 * (a failed test's cleanup that did not run once kept CI waiting until its limit).
 */
export function runTests(files, concurrency) {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-reporter=spec',
      `--test-concurrency=${concurrency}`,
      '--test-timeout=600000',
      '--test-force-exit',
      ...files,
    ],
    {
      stdio: 'inherit',
      env: process.env,
    },
  );
  return r.status ?? 1;
}
