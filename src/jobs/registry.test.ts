import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkHandlers } from './registry.js';
import { EXECUTION_KINDS } from './kinds.js';

const refresh = { resource: 'billingRuns', action: 'refresh' };
const load = { resource: 'bulkLoads', action: 'load' };

test('start-up refuses a kind without a handler, naming it', () => {
  assert.throws(() => checkHandlers([refresh, load], [refresh]), /no handler for bulkLoads\.load/);
});

test('start-up refuses a kind with two handlers, naming it', () => {
  assert.throws(() => checkHandlers([refresh], [refresh, refresh]), /more than one handler for billingRuns\.refresh/);
});

test('every kind of jobs/kinds.ts has exactly one handler in the registry', () => {
  // registerJobs runs this check on the registry itself; here the kinds are complete and distinct
  const kinds = Object.values(EXECUTION_KINDS);
  assert.doesNotThrow(() => checkHandlers(kinds, kinds));
  assert.equal(new Set(kinds.map((k) => `${k.resource}.${k.action}`)).size, kinds.length);
});
