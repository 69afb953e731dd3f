#!/usr/bin/env node
// Runs the stress suites, test/stress/*.test.ts (excluded from `npm test`: they take minutes), one file
// at a time with Node's test runner (TypeScript through tsx). Like scripts/test.mjs:
// TEST_DATABASE_URL=postgres://… runs them on PostgreSQL, unset on SQLite files; arguments select files
// whose path contains one of them (`node scripts/stress.mjs overload`).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.join('test', 'stress');
const only = process.argv.slice(2);
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(p);
  }
};
if (existsSync(root)) walk(root);
const selected = only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files;
process.stdout.write(`accredit stress tests on ${process.env.TEST_DATABASE_URL ? 'PostgreSQL' : 'SQLite'}: ${selected.length} files\n`);
if (!selected.length) process.exit(1);
// One file at a time: each one loads the machine on purpose, and two would measure each other.
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', ...selected.sort()], {
  stdio: 'inherit',
  env: process.env,
});
process.exit(r.status ?? 1);
