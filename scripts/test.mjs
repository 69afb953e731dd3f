#!/usr/bin/env node
// Runs every *.test.ts under test/ and src/ (the stress suites aside: scripts/stress.mjs) with Node's
// test runner (TypeScript through tsx); arguments select files whose path contains one of them.
// TEST_DATABASE_URL=postgres://… runs the same suites on PostgreSQL; unset, on SQLite files.
import path from 'node:path';
import { ensureChromium } from './lib/chromium.mjs';
import { backendName, runTests, testFiles } from './lib/tests.mjs';

const stress = `${path.sep}stress${path.sep}`;
const selected = testFiles(['test', 'src'], process.argv.slice(2), (f) => !f.includes(stress));
// (node --test without files would run whatever its default patterns find, this script included)
if (!selected.length) {
  process.stderr.write(`no test file under test/ or src/ matches ${process.argv.slice(2).join(' ')}\n`);
  process.exit(1);
}

// The browser tests need Debian's Chromium: installed here when missing if we can, else we stop now.
if (selected.some((f) => f.includes(`${path.sep}browser${path.sep}`))) {
  const problem = ensureChromium();
  if (problem) {
    process.stderr.write(`${problem}\n`);
    process.exit(1);
  }
}
process.stdout.write(`accredit tests on ${backendName()}: ${selected.length} files\n`);
process.exit(runTests(selected, 2));
