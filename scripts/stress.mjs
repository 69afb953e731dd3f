#!/usr/bin/env node
// Runs the stress suites, test/stress/*.test.ts (excluded from `npm test`: they take minutes), one file
// at a time with Node's test runner (TypeScript through tsx). Like scripts/test.mjs:
// TEST_DATABASE_URL=postgres://… runs them on PostgreSQL, unset on SQLite files; arguments select files
// whose path contains one of them (`node scripts/stress.mjs overload`).
import path from 'node:path';
import { backendName, runTests, testFiles } from './lib/tests.mjs';

const selected = testFiles([path.join('test', 'stress')], process.argv.slice(2));
process.stdout.write(`accredit stress tests on ${backendName()}: ${selected.length} files\n`);
if (!selected.length) process.exit(1);
// One file at a time: each one loads the machine on purpose, and two would measure each other.
process.exit(runTests(selected, 1));
