#!/usr/bin/env node
// Runs every *.test.ts under test/ and src/ with Node's test runner (TypeScript through tsx).
// TEST_DATABASE_URL=postgres://… runs the same suites on PostgreSQL; unset, on SQLite files.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
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
process.stdout.write(`accredit tests on ${process.env.TEST_DATABASE_URL ? 'PostgreSQL' : 'SQLite'}: ${selected.length} files\n`);
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...selected.sort()], {
  stdio: 'inherit',
  env: process.env,
});
process.exit(r.status ?? 1);
