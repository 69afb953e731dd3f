import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAmounts, runStatistics } from './statistics.js';

const zero = { total: 0, pending: 0, processing: 0, successful: 0, excluded: 0, error: 0 };

test('no actions, no statistics', () => {
  assert.deepEqual(runStatistics([]), []);
});

test('every status counts in its bucket and in total', () => {
  const statuses = [
    'pending',
    'processing',
    'processing order',
    'completed',
    'payment failure',
    'error',
    'excluded',
    'no longer eligible',
    'expiration date changed',
  ];
  const stats = runStatistics(statuses.map((status) => ({ type: 'drop certification', status })));
  assert.deepEqual(stats, [{ action: 'drop certification', total: 9, pending: 1, processing: 2, successful: 1, excluded: 3, error: 2 }]);
  const one = (status: string) => runStatistics([{ type: 't', status }])[0];
  assert.deepEqual(one('processing order'), { action: 't', ...zero, total: 1, processing: 1 });
  assert.deepEqual(one('completed'), { action: 't', ...zero, total: 1, successful: 1 });
  assert.deepEqual(one('no longer eligible'), { action: 't', ...zero, total: 1, excluded: 1 });
  assert.deepEqual(one('expiration date changed'), { action: 't', ...zero, total: 1, excluded: 1 });
  assert.deepEqual(one('payment failure'), { action: 't', ...zero, total: 1, error: 1 });
  assert.deepEqual(one('pending'), { action: 't', ...zero, total: 1, pending: 1 });
});

test('an unknown status counts in total only', () => {
  assert.deepEqual(runStatistics([{ type: 't', status: 'archived' }]), [{ action: 't', ...zero, total: 1 }]);
  assert.deepEqual(runStatistics([{ type: 't', status: 'toString' }]), [{ action: 't', ...zero, total: 1 }], 'no prototype keys');
});

test('one entry per type present, sorted by type', () => {
  const stats = runStatistics([
    { type: 'send renewal reminder', status: 'completed' },
    { type: 'activate application', status: 'pending' },
    { type: 'send renewal reminder', status: 'completed' },
    { type: 'bill training provider', status: 'error' },
    { type: 'send renewal reminder', status: 'excluded' },
    { type: 'activate application', status: 'processing' },
  ]);
  assert.deepEqual(
    stats.map((s) => s.action),
    ['activate application', 'bill training provider', 'send renewal reminder'],
  );
  assert.deepEqual(stats[0], { action: 'activate application', ...zero, total: 2, pending: 1, processing: 1 });
  assert.deepEqual(stats[1], { action: 'bill training provider', ...zero, total: 1, error: 1 });
  assert.deepEqual(stats[2], { action: 'send renewal reminder', ...zero, total: 3, successful: 2, excluded: 1 });
  for (const s of stats) assert.equal(s.total >= s.pending + s.processing + s.successful + s.excluded + s.error, true);
});

test('amounts: per type and currency, pending or performed actions with an amount', () => {
  const f = (type: string, status: string, amount?: unknown, currency_code?: unknown) => ({ type, status, amount, currency_code });
  assert.deepEqual(
    runAmounts([
      f('forecast renewal', 'pending', 12000, 'USD'),
      f('forecast renewal', 'completed', 17000, 'USD'),
      f('forecast renewal', 'processing', 1, 'USD'),
      f('forecast renewal', 'pending', 9000, 'EUR'),
      f('forecast renewal', 'excluded', 12000, 'USD'),
      f('forecast renewal', 'no longer eligible', 12000, 'USD'),
      f('forecast renewal', 'error', 12000, 'USD'),
      f('forecast renewal', 'pending'),
      f('forecast renewal', 'pending', 12.5, 'USD'),
      f('bill training provider', 'pending', 25050, 'USD'),
      f('drop certification', 'pending'),
    ]),
    [
      { type: 'bill training provider', currency: 'USD', total: 25050, count: 1 },
      { type: 'forecast renewal', currency: 'EUR', total: 9000, count: 1 },
      { type: 'forecast renewal', currency: 'USD', total: 29001, count: 3 },
    ],
  );
  assert.deepEqual(runAmounts([]), []);
});
