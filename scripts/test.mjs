#!/usr/bin/env node
// Runs every *.test.ts under test/ and src/ with Node's test runner (TypeScript through tsx).
// TEST_DATABASE_URL=postgres://… runs the same suites on PostgreSQL; unset, on SQLite files.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const roots = ['test', 'src'];
const only = process.argv.slice(2);
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts') && !p.includes(`${path.sep}stress${path.sep}`)) files.push(p);
  }
};
for (const r of roots) walk(r);
const selected = only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files;

// The browser tests drive Debian's Chromium (never a downloaded browser). Provide it where we can
// (Debian, as root: apt-get), otherwise stop at once with the one command to run.
if (selected.some((f) => f.includes(`${path.sep}browser${path.sep}`))) {
  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(chromium)) {
    const canInstall = !process.env.CHROMIUM_PATH && process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
    if (canInstall) {
      process.stdout.write('Chromium is missing: installing Debian\'s chromium (apt-get) for the browser tests\n');
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      const ok = [['update', '-qq'], ['install', '-y', '-qq', 'chromium']].every(
        (args) => spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env }).status === 0,
      );
      if (!ok || !existsSync(chromium)) {
        process.stderr.write('Installing chromium failed; run: apt-get update && apt-get install -y chromium\n');
        process.exit(1);
      }
    } else {
      process.stderr.write(
        `The browser tests need Chromium at ${chromium}. Run: sudo apt-get install -y chromium` +
          ' (or set CHROMIUM_PATH to a Chromium binary), then npm test again.\n',
      );
      process.exit(1);
    }
  }
}
process.stdout.write(`accredit tests on ${process.env.TEST_DATABASE_URL ? 'PostgreSQL' : 'SQLite'}: ${selected.length} files\n`);
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...selected.sort()], {
  stdio: 'inherit',
  env: process.env,
});
process.exit(r.status ?? 1);
