import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextRunDate, preprocessingDate, ScheduleError, subtractBusinessDays, toStandardCron, validateSchedule } from './schedule.js';

const at = (iso: string) => new Date(iso);
const next = (expr: string, after: string) => nextRunDate(expr, at(after)).toISOString();

test('standard 5-field cron is accepted as is', () => {
  for (const e of ['0 6 1 * *', '*/15 * * * *', '30 2 * * 1-5', '0 0 L * *', '0 6 * * MON', '0 6 ? * 1#1', '0 0 29 2 *', ' 0 6 1 * * '])
    assert.equal(validateSchedule(e), null, e);
  assert.equal(toStandardCron(' 0  6 1 * * '), '0  6 1 * *', 'trimmed only');
});

test('bad expressions are refused with the reason', () => {
  const reason = (e: string) => validateSchedule(e) ?? 'valid';
  assert.match(reason(''), /empty/);
  assert.match(reason('   '), /empty/);
  assert.match(reason('* * * *'), /expected 5 fields .* got 4/);
  assert.match(reason('0 6 1 * * * *'), /expected 5 fields .* got 7/);
  assert.match(reason('0 0 6 1 * *'), /6 fields are ambiguous/);
  assert.match(reason('60 * * * *'), /got value 60 expected range 0-59/);
  assert.match(reason('0 24 * * *'), /expected range 0-23/);
  assert.match(reason('0 6 32 * *'), /expected range 1-31/);
  assert.match(reason('0 6 1 13 *'), /expected range 1-12/);
  assert.match(reason('0 6 * * 8'), /expected range 0-7/);
  assert.match(reason('0 6 30 2 *'), /day of month/i, 'February 30 never comes');
  assert.match(reason('*/0 * * * *'), /every 0/);
  assert.notEqual(reason('a b c d e'), 'valid');
  assert.notEqual(reason('foo bar'), 'valid');
  assert.match(reason('H 6 * * *'), /H \(a random value\)/);
  assert.match(reason('0 H(0-5) * * *'), /H \(a random value\)/);
  assert.equal(reason('0 6 * * THU'), 'valid', 'THU is a day, not a hash');
  assert.match(reason('rate(7 days)'), /rate\(\.\.\.\) expressions are not supported/);
  assert.match(reason('RATE(1 hour)'), /rate/);
  assert.match(reason('@every 5m'), /unknown macro/);
  assert.match(reason('@secondly'), /unknown macro/);
  assert.throws(
    () => toStandardCron('rate(1 day)'),
    (e: unknown) => e instanceof ScheduleError && e.expression === 'rate(1 day)' && /rate/.test(e.reason),
  );
});

test('classic macros map to 5 fields', () => {
  assert.equal(toStandardCron('@monthly'), '0 0 1 * *');
  assert.equal(toStandardCron('@YEARLY'), '0 0 1 1 *');
  assert.equal(toStandardCron('@annually'), '0 0 1 1 *');
  assert.equal(toStandardCron('@weekly'), '0 0 * * 0');
  assert.equal(toStandardCron('@daily'), '0 0 * * *');
  assert.equal(toStandardCron('@midnight'), '0 0 * * *');
  assert.equal(toStandardCron('@hourly'), '0 * * * *');
  assert.equal(next('@monthly', '2026-01-15T00:00:00Z'), '2026-02-01T00:00:00.000Z');
});

test('AWS cron(...) converts to 5 fields: year dropped, ? to *, days of week renumbered', () => {
  assert.equal(toStandardCron('cron(0 6 1 * ? *)'), '0 6 1 * *');
  assert.equal(toStandardCron('CRON( 0 6 1 * ? * )'), '0 6 1 * *');
  assert.equal(toStandardCron('cron(0 6 ? * 2 *)'), '0 6 * * 1', 'AWS 2 = Monday');
  assert.equal(toStandardCron('cron(0 6 ? * 1,7 *)'), '0 6 * * 0,6', 'AWS 1 = Sunday, 7 = Saturday');
  assert.equal(toStandardCron('cron(0 6 ? * 2-6 *)'), '0 6 * * 1-5');
  assert.equal(toStandardCron('cron(0 6 ? * MON-FRI *)'), '0 6 * * MON-FRI');
  assert.equal(toStandardCron('cron(0 6 ? * mon *)'), '0 6 * * MON');
  assert.equal(toStandardCron('cron(0 6 ? * 6#3 *)'), '0 6 * * 5#3', 'third Friday');
  assert.equal(toStandardCron('cron(0 6 ? * 6L *)'), '0 6 * * 5L', 'last Friday');
  assert.equal(toStandardCron('cron(0 6 ? * L *)'), '0 6 * * 6', 'L alone: Saturday, the last day of the AWS week');
  assert.equal(toStandardCron('cron(0 6 ? * * *)'), '0 6 * * *');
  assert.equal(toStandardCron('cron(0 6 ? * 2/2 *)'), '0 6 * * 1-6/2', 'a step stops at Saturday');
  assert.equal(toStandardCron('cron(0 6 ? * */2 *)'), '0 6 * * 0-6/2');
  assert.equal(toStandardCron('cron(0 6 ? * 1-5/2 *)'), '0 6 * * 0-4/2');
  assert.equal(toStandardCron('cron(0 6 L * ? *)'), '0 6 L * *');
  assert.equal(toStandardCron('cron(0/30 8-17 ? * 2-6 *)'), '0/30 8-17 * * 1-5');
  // Occurrences: Mondays, Wednesdays and Fridays only (a step must not wrap to Sunday = 7).
  const days = new Set<number>();
  let t = at('2026-01-01T00:00:00Z');
  for (let i = 0; i < 12; i++) days.add((t = nextRunDate('cron(0 6 ? * 2/2 *)', t)).getUTCDay());
  assert.deepEqual([...days].sort(), [1, 3, 5]);
  assert.equal(next('cron(0 6 1 * ? *)', '2026-01-01T06:00:00Z'), '2026-02-01T06:00:00.000Z');
  assert.equal(next('cron(0 6 ? * 6L *)', '2026-01-01T00:00:00Z'), '2026-01-30T06:00:00.000Z', 'last Friday of January 2026');
});

test('AWS cron(...) refusals', () => {
  const reason = (e: string) => validateSchedule(e) ?? 'valid';
  assert.match(reason('cron(0 6 1 * ?)'), /needs 6 fields .* got 5/);
  assert.match(reason('cron()'), /needs 6 fields .* got 0/);
  assert.match(reason('cron(0 6 1 * ? 2027)'), /year field must be \*/);
  assert.match(reason('cron(0 6 1 * * *)'), /exactly one of day-of-month and day-of-week must be \?/);
  assert.match(reason('cron(0 6 ? * ? *)'), /exactly one/);
  assert.match(reason('cron(0 6 ? * 0 *)'), /1-7 \(1 = Sunday\), got 0/);
  assert.match(reason('cron(0 6 ? * 8 *)'), /got 8/);
  assert.match(reason('cron(0 6 15W * ? *)'), /W \(nearest weekday\)/);
  assert.match(reason('cron(0 6 LW * ? *)'), /W/);
  assert.match(reason('cron(61 6 1 * ? *)'), /expected range 0-59/);
});

test('next run date: strictly after, in UTC', () => {
  assert.equal(next('0 6 1 * *', '2026-01-01T05:59:59.999Z'), '2026-01-01T06:00:00.000Z');
  assert.equal(next('0 6 1 * *', '2026-01-01T06:00:00.000Z'), '2026-02-01T06:00:00.000Z', 'an occurrence equal to after is not next');
  assert.equal(next('0 6 1 * *', '2026-01-01T06:00:30.000Z'), '2026-02-01T06:00:00.000Z');
  assert.equal(next('0 6 31 * *', '2026-01-31T07:00:00Z'), '2026-03-31T06:00:00.000Z', 'months without a 31st are skipped');
  assert.equal(next('0 0 L * *', '2024-02-01T00:00:00Z'), '2024-02-29T00:00:00.000Z');
  assert.equal(next('0 0 29 2 *', '2024-03-01T00:00:00Z'), '2028-02-29T00:00:00.000Z');
  assert.equal(
    next('0 23 * * 5', '2026-03-06T23:00:00+01:00'),
    '2026-03-06T23:00:00.000Z',
    'the offset of after is an instant, hours are UTC',
  );
  assert.equal(next('30 1 * * *', '2026-03-29T00:00:00Z'), '2026-03-29T01:30:00.000Z', 'no DST gap in UTC');
  assert.throws(() => nextRunDate('rate(1 day)', new Date()), ScheduleError);
});

test('business days: weekends are skipped, n = 0 is the day itself', () => {
  // 2026-05-04 is a Monday.
  assert.equal(subtractBusinessDays('2026-05-06', 0), '2026-05-06');
  assert.equal(subtractBusinessDays('2026-05-09', 0), '2026-05-09', 'a Saturday stays itself at 0');
  assert.equal(subtractBusinessDays('2026-05-06', 1), '2026-05-05');
  assert.equal(subtractBusinessDays('2026-05-06', 2), '2026-05-04');
  assert.equal(subtractBusinessDays('2026-05-06', 3), '2026-05-01', 'Wednesday - 3: the Friday before');
  assert.equal(subtractBusinessDays('2026-05-04', 1), '2026-05-01', 'Monday - 1: Friday');
  assert.equal(subtractBusinessDays('2026-05-09', 1), '2026-05-08', 'Saturday - 1: Friday');
  assert.equal(subtractBusinessDays('2026-05-10', 1), '2026-05-08', 'Sunday - 1: Friday');
  assert.equal(subtractBusinessDays('2026-05-10', 2), '2026-05-07');
  assert.equal(subtractBusinessDays('2026-05-09', 5), '2026-05-04', 'Saturday - 5: Monday of the same week');
  assert.equal(subtractBusinessDays('2026-05-09', 6), '2026-05-01');
  assert.equal(subtractBusinessDays('2026-05-08', 5), '2026-05-01', 'a whole week');
  assert.equal(subtractBusinessDays('2026-05-06', 10), '2026-04-22');
  assert.equal(subtractBusinessDays('2026-05-04', 6), '2026-04-24');
  assert.equal(subtractBusinessDays('2026-01-01', 1), '2025-12-31', 'across the year');
  assert.equal(subtractBusinessDays('2024-03-01', 1), '2024-02-29', 'leap day is a Thursday');
  assert.equal(subtractBusinessDays('2026-05-06', 260), '2025-05-07', '52 weeks');
});

test('business days: fractions round up, negatives and non-numbers are refused', () => {
  assert.equal(subtractBusinessDays('2026-05-06', 0.2), '2026-05-05');
  assert.equal(subtractBusinessDays('2026-05-06', 1.5), '2026-05-04');
  assert.equal(subtractBusinessDays('2026-05-06', 2), subtractBusinessDays('2026-05-06', 1.0001));
  assert.throws(() => subtractBusinessDays('2026-05-06', -1), RangeError);
  assert.throws(() => subtractBusinessDays('2026-05-06', Number.NaN), RangeError);
  assert.throws(() => subtractBusinessDays('2026-05-06', Infinity), RangeError);
  assert.throws(() => subtractBusinessDays('May 6', 1), RangeError);
});

test('business days agree with a day-by-day walk', () => {
  const walk = (date: string, n: number) => {
    const d = new Date(`${date}T00:00:00Z`);
    for (let left = n; left > 0; ) {
      d.setUTCDate(d.getUTCDate() - 1);
      if (d.getUTCDay() % 6 !== 0) left--;
    }
    return d.toISOString().slice(0, 10);
  };
  for (let start = 0; start < 14; start++) {
    const day = new Date(Date.UTC(2026, 4, 1 + start)).toISOString().slice(0, 10);
    for (let n = 0; n <= 23; n++) assert.equal(subtractBusinessDays(day, n), walk(day, n), `${day} - ${n}`);
  }
});

test('pre-processing date: the same UTC time of day, n business days earlier', () => {
  assert.equal(preprocessingDate(at('2026-05-04T06:00:00Z'), 2).toISOString(), '2026-04-30T06:00:00.000Z', 'Monday - 2: Thursday');
  assert.equal(preprocessingDate(at('2026-05-06T23:59:59.500Z'), 1).toISOString(), '2026-05-05T23:59:59.500Z');
  assert.equal(preprocessingDate(at('2026-05-06T00:30:00+02:00'), 1).toISOString(), '2026-05-04T22:30:00.000Z', 'the UTC day counts');
  assert.equal(preprocessingDate(at('2026-05-10T06:00:00Z'), 0).toISOString(), '2026-05-10T06:00:00.000Z');
  assert.equal(preprocessingDate(at('2026-03-31T06:00:00Z'), 3).toISOString(), '2026-03-26T06:00:00.000Z');
});
