import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  computeExpiration,
  DomainError,
  evaluateConditions,
  selectOptions,
  type AnniversaryExpirationOptionsLike,
  type CalendarExpirationOptionsLike,
  type ConditionValue,
  type ExpirationOptionsLike,
  type ExpirationRuleSetLike,
  type Facts,
} from './expiration.js';

// ---- helpers ---------------------------------------------------------------------------------------

const set = (options: ExpirationOptionsLike, rules: ExpirationRuleSetLike['rules'] = []): ExpirationRuleSetLike => ({
  name: 'test set',
  rules,
  default_expiration_options: options,
});
const calendar = (o: CalendarExpirationOptionsLike = {}, extra: ExpirationOptionsLike = {}): ExpirationRuleSetLike =>
  set({ expiration_type: 'calendar', calendar_expiration_options: o, ...extra });
const anniversary = (o: AnniversaryExpirationOptionsLike = {}, extra: ExpirationOptionsLike = {}): ExpirationRuleSetLike =>
  set({ expiration_type: 'anniversary', anniversary_expiration_options: o, ...extra });
const expOf = (rs: ExpirationRuleSetLike, start: string, facts: Facts = {}) => computeExpiration(rs, start, facts).expiration_date;
/** mid-month anniversary: expiration = term start + term − 1 day */
const mid = (o: AnniversaryExpirationOptionsLike) => anniversary({ allow_mid_month_expirations: true, ...o });

const throwsDomain = (fn: () => unknown, field?: string | RegExp) =>
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DomainError, `expected DomainError, got ${String(e)}`);
    assert.ok(e instanceof Error);
    assert.equal(typeof e.reason, 'string');
    assert.ok(e.reason.length > 0);
    if (typeof field === 'string') assert.equal(e.field, field);
    else if (field) assert.match(e.field, field);
    return true;
  });

const cond = (fact: string, operator: string, value: ConditionValue, path?: string) => ({
  fact,
  operator,
  value,
  ...(path ? { path } : {}),
});
const holds = (c: object, facts: Facts) => evaluateConditions({ all: [c] }, facts);

// ---- calendar ---------------------------------------------------------------------------------------

test('calendar: default January year, one year, mid-year start', () => {
  assert.equal(expOf(calendar(), '2024-03-15'), '2024-12-31');
});
test('calendar: first and last day of the calendar year', () => {
  assert.equal(expOf(calendar(), '2024-01-01'), '2024-12-31');
  assert.equal(expOf(calendar(), '2024-12-31'), '2024-12-31');
});
test('calendar: no calendar_expiration_options block uses the defaults', () => {
  assert.equal(expOf(set({ expiration_type: 'calendar' }), '2023-06-01'), '2023-12-31');
});
test('calendar: multi-year term counts the current calendar year as the first', () => {
  assert.equal(expOf(calendar({ number_of_years: 3 }), '2024-03-15'), '2026-12-31');
  assert.equal(expOf(calendar({ number_of_years: 2 }), '2024-12-31'), '2025-12-31');
});
test('calendar: Feb 29 start in a January year', () => {
  assert.equal(expOf(calendar(), '2024-02-29'), '2024-12-31');
});
test('calendar: July year, start in the first civil year of the calendar year', () => {
  assert.equal(expOf(calendar({ start_of_calendar_year: 7 }), '2024-08-10'), '2025-06-30');
});
test('calendar: July year, start in the second civil year of the calendar year', () => {
  assert.equal(expOf(calendar({ start_of_calendar_year: 7 }), '2025-03-10'), '2025-06-30');
});
test('calendar: July year, boundary days', () => {
  assert.equal(expOf(calendar({ start_of_calendar_year: 7 }), '2025-06-30'), '2025-06-30');
  assert.equal(expOf(calendar({ start_of_calendar_year: 7 }), '2025-07-01'), '2026-06-30');
});
test('calendar: July year, multi-year term', () => {
  assert.equal(expOf(calendar({ start_of_calendar_year: 7, number_of_years: 2 }), '2025-03-10'), '2026-06-30');
});
test('calendar: December year start', () => {
  assert.equal(expOf(calendar({ start_of_calendar_year: 12 }), '2024-12-01'), '2025-11-30');
  assert.equal(expOf(calendar({ start_of_calendar_year: 12 }), '2024-11-30'), '2024-11-30');
});
test('calendar: March year ends on Feb 29 in a leap year', () => {
  assert.equal(expOf(calendar({ start_of_calendar_year: 3 }), '2023-05-01'), '2024-02-29');
});
test('calendar: March year ends on Feb 28 in 2100 (not a leap year)', () => {
  assert.equal(expOf(calendar({ start_of_calendar_year: 3 }), '2099-05-01'), '2100-02-28');
});
test('calendar: sell_for_next_year_after, start the day before the cut-off', () => {
  assert.equal(expOf(calendar({ sell_for_next_year_after: '10-01' }), '2024-09-30'), '2024-12-31');
});
test('calendar: sell_for_next_year_after, start on the cut-off counts from next year', () => {
  assert.equal(expOf(calendar({ sell_for_next_year_after: '10-01' }), '2024-10-01'), '2025-12-31');
});
test('calendar: sell_for_next_year_after, start after the cut-off', () => {
  assert.equal(expOf(calendar({ sell_for_next_year_after: '10-01' }), '2024-11-15'), '2025-12-31');
});
test('calendar: sell_for_next_year_after as a full date uses only its month and day', () => {
  assert.equal(expOf(calendar({ sell_for_next_year_after: '2019-10-01' }), '2024-09-30'), '2024-12-31');
  assert.equal(expOf(calendar({ sell_for_next_year_after: '2019-10-01' }), '2024-10-01'), '2025-12-31');
});
test('calendar: empty sell_for_next_year_after means no cut-off', () => {
  assert.equal(expOf(calendar({ sell_for_next_year_after: '' }), '2024-12-30'), '2024-12-31');
});
test('calendar: cut-off with a multi-year term', () => {
  assert.equal(expOf(calendar({ sell_for_next_year_after: '10-01', number_of_years: 2 }), '2024-10-05'), '2026-12-31');
  assert.equal(expOf(calendar({ sell_for_next_year_after: '10-01', number_of_years: 2 }), '2024-09-05'), '2025-12-31');
});
test('calendar: July year, cut-off in the second civil year (May)', () => {
  const rs = calendar({ start_of_calendar_year: 7, sell_for_next_year_after: '05-01' });
  assert.equal(expOf(rs, '2024-08-01'), '2025-06-30');
  assert.equal(expOf(rs, '2025-04-30'), '2025-06-30');
  assert.equal(expOf(rs, '2025-05-01'), '2026-06-30');
  assert.equal(expOf(rs, '2025-06-30'), '2026-06-30');
});
test('calendar: July year, cut-off in the first civil year (September)', () => {
  const rs = calendar({ start_of_calendar_year: 7, sell_for_next_year_after: '09-01' });
  assert.equal(expOf(rs, '2024-08-31'), '2025-06-30');
  assert.equal(expOf(rs, '2024-09-01'), '2026-06-30');
  assert.equal(expOf(rs, '2025-01-15'), '2026-06-30');
  assert.equal(expOf(rs, '2025-07-01'), '2026-06-30');
});
test('calendar: a 02-29 cut-off is Feb 28 in common years', () => {
  const rs = calendar({ sell_for_next_year_after: '02-29' });
  assert.equal(expOf(rs, '2025-02-27'), '2025-12-31');
  assert.equal(expOf(rs, '2025-02-28'), '2026-12-31');
  assert.equal(expOf(rs, '2024-02-28'), '2024-12-31');
  assert.equal(expOf(rs, '2024-02-29'), '2025-12-31');
});
test('calendar: invalid start_of_calendar_year throws', () => {
  for (const s of [0, 13, 1.5]) {
    throwsDomain(
      () => expOf(calendar({ start_of_calendar_year: s }), '2024-01-01'),
      'default_expiration_options.calendar_expiration_options.start_of_calendar_year',
    );
  }
});
test('calendar: invalid number_of_years throws', () => {
  for (const n of [0, -1, 1.5]) throwsDomain(() => expOf(calendar({ number_of_years: n }), '2024-01-01'), /number_of_years$/);
});
test('calendar: invalid sell_for_next_year_after throws', () => {
  for (const c of ['13-01', '10/01', '02-30', '2023-02-29', 'October']) {
    throwsDomain(() => expOf(calendar({ sell_for_next_year_after: c }), '2024-01-01'), /sell_for_next_year_after$/);
  }
});

// ---- anniversary: term types -----------------------------------------------------------------------

test('anniversary: days (mid-month)', () => {
  assert.equal(expOf(mid({ term_length: 10, term_type: 'days' }), '2024-01-01'), '2024-01-10');
});
test('anniversary: weeks (mid-month)', () => {
  assert.equal(expOf(mid({ term_length: 2, term_type: 'weeks' }), '2024-01-01'), '2024-01-14');
});
test('anniversary: months (mid-month)', () => {
  assert.equal(expOf(mid({ term_length: 6, term_type: 'months' }), '2024-01-15'), '2024-07-14');
});
test('anniversary: quarters are 3 months (mid-month)', () => {
  assert.equal(expOf(mid({ term_length: 1, term_type: 'quarters' }), '2024-01-15'), '2024-04-14');
  assert.equal(expOf(mid({ term_length: 2, term_type: 'quarters' }), '2024-01-15'), '2024-07-14');
});
test('anniversary: years (mid-month)', () => {
  assert.equal(expOf(mid({ term_length: 1, term_type: 'years' }), '2024-01-15'), '2025-01-14');
  assert.equal(expOf(mid({ term_length: 2, term_type: 'years' }), '2024-01-15'), '2026-01-14');
});
test('anniversary: term_length and term_type default to one year', () => {
  assert.equal(expOf(mid({}), '2024-01-15'), '2025-01-14');
  assert.equal(expOf(set({ expiration_type: 'anniversary' }), '2024-01-15'), '2025-01-31');
});

// ---- anniversary: month ends and leap days -----------------------------------------------------------

test('anniversary: Jan 31 + 1 month clamps to Feb 29 in a leap year (mid-month → Feb 28)', () => {
  assert.equal(expOf(mid({ term_length: 1, term_type: 'months' }), '2024-01-31'), '2024-02-28');
});
test('anniversary: Jan 31 + 1 month clamps to Feb 28 in a common year (mid-month → Feb 27)', () => {
  assert.equal(expOf(mid({ term_length: 1, term_type: 'months' }), '2023-01-31'), '2023-02-27');
});
test('anniversary: Jan 31 + 1 month, end-of-month', () => {
  assert.equal(expOf(anniversary({ term_length: 1, term_type: 'months' }), '2024-01-31'), '2024-02-29');
  assert.equal(expOf(anniversary({ term_length: 1, term_type: 'months' }), '2023-01-31'), '2023-02-28');
});
test('anniversary: Mar 31 + 1 month clamps to Apr 30', () => {
  assert.equal(expOf(mid({ term_length: 1, term_type: 'months' }), '2024-03-31'), '2024-04-29');
  assert.equal(expOf(anniversary({ term_length: 1, term_type: 'months' }), '2024-03-31'), '2024-04-30');
});
test('anniversary: Mar 31 + 11 months clamps to Feb 28', () => {
  assert.equal(expOf(mid({ term_length: 11, term_type: 'months' }), '2024-03-31'), '2025-02-27');
});
test('anniversary: Mar 31 + 1 quarter lands on Jun 30', () => {
  assert.equal(expOf(mid({ term_length: 1, term_type: 'quarters' }), '2024-03-31'), '2024-06-29');
});
test('anniversary: Feb 29 + 1 year → Feb 28', () => {
  assert.equal(expOf(mid({ term_length: 1, term_type: 'years' }), '2024-02-29'), '2025-02-27');
  assert.equal(expOf(anniversary({ term_length: 1, term_type: 'years' }), '2024-02-29'), '2025-02-28');
});
test('anniversary: Feb 29 + 4 years lands on Feb 29', () => {
  assert.equal(expOf(mid({ term_length: 4, term_type: 'years' }), '2024-02-29'), '2028-02-28');
});
test('anniversary: 2096-02-29 + 4 years → 2100-02-28 (2100 is not a leap year)', () => {
  assert.equal(expOf(mid({ term_length: 4, term_type: 'years' }), '2096-02-29'), '2100-02-27');
  assert.equal(expOf(anniversary({ term_length: 4, term_type: 'years' }), '2096-02-29'), '2100-02-28');
});
test('anniversary: day terms crossing Feb 29 in a leap year', () => {
  assert.equal(expOf(mid({ term_length: 30, term_type: 'days' }), '2024-02-01'), '2024-03-01');
  assert.equal(expOf(mid({ term_length: 30, term_type: 'days' }), '2023-02-01'), '2023-03-02');
});
test('anniversary: day terms in February 2100 (28 days)', () => {
  assert.equal(expOf(mid({ term_length: 28, term_type: 'days' }), '2100-02-01'), '2100-02-28');
  assert.equal(expOf(mid({ term_length: 28, term_type: 'days' }), '2096-02-01'), '2096-02-28');
});
test('anniversary: a 1-year term crossing Feb 29 still ends the day before the anniversary', () => {
  assert.equal(expOf(mid({ term_length: 1, term_type: 'years' }), '2023-06-10'), '2024-06-09');
});

// ---- anniversary: mid-month vs end of month --------------------------------------------------------

test('anniversary: end of month is the default', () => {
  assert.equal(expOf(anniversary({ term_length: 1, term_type: 'years' }), '2024-01-15'), '2025-01-31');
});
test('anniversary: allow_mid_month_expirations false behaves like absent', () => {
  assert.equal(expOf(anniversary({ term_length: 1, term_type: 'years', allow_mid_month_expirations: false }), '2024-01-15'), '2025-01-31');
});
test('anniversary: end of month keeps a term that already ends on a month end', () => {
  assert.equal(expOf(anniversary({ term_length: 1, term_type: 'years' }), '2024-01-01'), '2024-12-31');
  assert.equal(expOf(anniversary({ term_length: 1, term_type: 'months' }), '2024-03-01'), '2024-03-31');
});
test('anniversary: end of month applies to day terms too', () => {
  assert.equal(expOf(anniversary({ term_length: 30, term_type: 'days' }), '2024-01-10'), '2024-02-29');
});
test('anniversary: end of month applies to week terms too', () => {
  assert.equal(expOf(anniversary({ term_length: 1, term_type: 'weeks' }), '2024-01-01'), '2024-01-31');
});

// ---- anniversary: sell_for_next_month_after -------------------------------------------------------

const sell = (d: number | null) => mid({ term_length: 1, term_type: 'months', sell_for_next_month_after: d });

test('anniversary: sell_for_next_month_after, start before the cut-off day', () => {
  assert.equal(expOf(sell(15), '2024-01-14'), '2024-02-13');
});
test('anniversary: sell_for_next_month_after, start on the cut-off day keeps the month', () => {
  assert.equal(expOf(sell(15), '2024-01-15'), '2024-02-14');
});
test('anniversary: sell_for_next_month_after, start after the cut-off day starts on the 1st of next month', () => {
  assert.equal(expOf(sell(15), '2024-01-16'), '2024-02-29');
});
test('anniversary: sell_for_next_month_after in December rolls into January', () => {
  assert.equal(expOf(mid({ term_length: 1, term_type: 'years', sell_for_next_month_after: 15 }), '2024-12-20'), '2025-12-31');
});
test('anniversary: sell_for_next_month_after null never moves the start', () => {
  assert.equal(expOf(sell(null), '2024-01-31'), '2024-02-28');
});
test('anniversary: sell_for_next_month_after 0 always moves the start', () => {
  assert.equal(expOf(sell(0), '2024-01-01'), '2024-02-29');
});
test('anniversary: sell_for_next_month_after with end-of-month', () => {
  assert.equal(expOf(anniversary({ term_length: 1, term_type: 'years', sell_for_next_month_after: 20 }), '2024-03-25'), '2025-03-31');
  assert.equal(expOf(anniversary({ term_length: 1, term_type: 'years', sell_for_next_month_after: 20 }), '2024-03-20'), '2025-03-31');
});
test('anniversary: invalid sell_for_next_month_after throws', () => {
  for (const d of [32, -1, 1.5]) throwsDomain(() => expOf(sell(d), '2024-01-01'), /sell_for_next_month_after$/);
});
test('anniversary: invalid term_type and term_length throw', () => {
  throwsDomain(() => expOf(anniversary({ term_type: 'decades' as never }), '2024-01-01'), /term_type$/);
  throwsDomain(() => expOf(anniversary({ term_length: 0 }), '2024-01-01'), /term_length$/);
  throwsDomain(() => expOf(anniversary({ term_length: 2.5 }), '2024-01-01'), /term_length$/);
});

// ---- anniversary: fixed expiration dates -------------------------------------------------------------

const fixed = (entries: AnniversaryExpirationOptionsLike['fixed_expiration_dates'], o: AnniversaryExpirationOptionsLike = {}) =>
  anniversary({ term_length: 1, term_type: 'months', enable_fixed_expiration_dates: true, fixed_expiration_dates: entries, ...o });
const lateYear = fixed([{ range_start: '2024-10-01', range_end: '2024-12-31', expiration_date: '2025-12-31' }]);

test('fixed dates: start inside the range', () => {
  assert.equal(expOf(lateYear, '2024-11-15'), '2025-12-31');
});
test('fixed dates: range boundaries are inclusive', () => {
  assert.equal(expOf(lateYear, '2024-10-01'), '2025-12-31');
  assert.equal(expOf(lateYear, '2024-12-31'), '2025-12-31');
});
test('fixed dates: start outside the range uses the term', () => {
  assert.equal(expOf(lateYear, '2024-09-30'), '2024-10-31');
  assert.equal(expOf(lateYear, '2025-01-01'), '2025-01-31');
});
test('fixed dates: ignored unless enabled', () => {
  const rs = fixed([{ range_start: '2024-10-01', range_end: '2024-12-31', expiration_date: '2025-12-31' }], {
    enable_fixed_expiration_dates: false,
  });
  assert.equal(expOf(rs, '2024-11-15'), '2024-12-31');
});
test('fixed dates: MM-DD range in any year, MM-DD expiration later the same year', () => {
  const rs = fixed([{ range_start: '10-01', range_end: '11-30', expiration_date: '12-31' }]);
  assert.equal(expOf(rs, '2024-11-01'), '2024-12-31');
  assert.equal(expOf(rs, '2031-10-01'), '2031-12-31');
  assert.equal(expOf(rs, '2031-09-15'), '2031-10-31');
});
test('fixed dates: MM-DD expiration earlier in the year means next year', () => {
  const rs = fixed([{ range_start: '10-01', range_end: '12-31', expiration_date: '06-30' }]);
  assert.equal(expOf(rs, '2024-11-01'), '2025-06-30');
  assert.equal(expOf(rs, '2024-09-30'), '2024-10-31');
});
test('fixed dates: MM-DD expiration on the start date itself', () => {
  const rs = fixed([{ range_start: '06-30', range_end: '06-30', expiration_date: '06-30' }]);
  assert.equal(expOf(rs, '2024-06-30'), '2024-06-30');
});
test('fixed dates: inverted MM-DD range wraps the year end', () => {
  const rs = fixed([{ range_start: '11-01', range_end: '01-31', expiration_date: '01-31' }]);
  assert.equal(expOf(rs, '2024-12-15'), '2025-01-31');
  assert.equal(expOf(rs, '2025-01-10'), '2025-01-31');
  assert.equal(expOf(rs, '2025-02-01'), '2025-02-28');
  assert.equal(expOf(rs, '2025-10-31'), '2025-11-30');
});
test('fixed dates: a 02-29 bound is Feb 28 in common years', () => {
  const rs = fixed([{ range_start: '02-29', range_end: '03-31', expiration_date: '12-31' }]);
  assert.equal(expOf(rs, '2025-02-28'), '2025-12-31');
  assert.equal(expOf(rs, '2024-02-28'), '2024-03-31');
});
test('fixed dates: the first matching entry wins', () => {
  const rs = fixed([
    { range_start: '2024-01-01', range_end: '2024-06-30', expiration_date: '2024-12-31' },
    { range_start: '2024-03-01', range_end: '2024-12-31', expiration_date: '2025-12-31' },
  ]);
  assert.equal(expOf(rs, '2024-04-01'), '2024-12-31');
  assert.equal(expOf(rs, '2024-07-01'), '2025-12-31');
});
test('fixed dates: matched on the original start, before sell_for_next_month_after', () => {
  const rs = fixed([{ range_start: '10-16', range_end: '10-31', expiration_date: '12-31' }], { sell_for_next_month_after: 15 });
  assert.equal(expOf(rs, '2024-10-20'), '2024-12-31');
});
test('fixed dates: grace and reinstatement apply on top', () => {
  const rs = fixed([{ range_start: '01-01', range_end: '12-31', expiration_date: '12-31' }]);
  const r = computeExpiration(
    {
      ...rs,
      default_expiration_options: {
        ...rs.default_expiration_options,
        grace_period: 10,
        allow_reinstatement: true,
        reinstatement_options: { reinstatement_period: 5 },
      },
    },
    '2024-05-05',
    {},
  );
  assert.deepEqual(r, { expiration_date: '2024-12-31', grace_period_end: '2025-01-10', reinstatement_end: '2025-01-15', rule: 'default' });
});
test('fixed dates: inverted full-date range throws', () => {
  throwsDomain(
    () => expOf(fixed([{ range_start: '2024-12-01', range_end: '2024-01-01', expiration_date: '2024-12-31' }]), '2024-05-01'),
    /fixed_expiration_dates\.0$/,
  );
});
test('fixed dates: malformed entries throw even when another entry matches first', () => {
  const rs = fixed([
    { range_start: '01-01', range_end: '12-31', expiration_date: '12-31' },
    { range_start: '2024-13-01', range_end: '12-31', expiration_date: '12-31' },
  ]);
  throwsDomain(
    () => expOf(rs, '2024-05-01'),
    'default_expiration_options.anniversary_expiration_options.fixed_expiration_dates.1.range_start',
  );
});
test('fixed dates: missing expiration_date throws', () => {
  throwsDomain(
    () => expOf(fixed([{ range_start: '01-01', range_end: '12-31' }]), '2024-05-01'),
    /fixed_expiration_dates\.0\.expiration_date$/,
  );
});
test('fixed dates: a full expiration date before the start throws', () => {
  throwsDomain(
    () => expOf(fixed([{ range_start: '01-01', range_end: '12-31', expiration_date: '2024-01-31' }]), '2024-05-01'),
    /expiration_date$/,
  );
});

// ---- grace and reinstatement -----------------------------------------------------------------------

test('no grace period: grace_period_end = expiration_date, no reinstatement', () => {
  assert.deepEqual(computeExpiration(calendar(), '2024-03-15', {}), {
    expiration_date: '2024-12-31',
    grace_period_end: '2024-12-31',
    reinstatement_end: null,
    rule: 'default',
  });
});
test('grace period in days, crossing the year end', () => {
  assert.equal(computeExpiration(calendar({}, { grace_period: 30 }), '2024-03-15', {}).grace_period_end, '2025-01-30');
});
test('grace period crossing Feb 29', () => {
  assert.equal(
    computeExpiration(calendar({ start_of_calendar_year: 2 }, { grace_period: 1 }), '2023-05-01', {}).grace_period_end,
    '2024-02-01',
  );
  assert.equal(
    computeExpiration(calendar({ start_of_calendar_year: 2 }, { grace_period: 29 }), '2023-02-01', {}).grace_period_end,
    '2024-02-29',
  );
});
test('reinstatement period counts from the end of the grace period', () => {
  const r = computeExpiration(
    calendar({}, { grace_period: 30, allow_reinstatement: true, reinstatement_options: { reinstatement_period: 90 } }),
    '2024-03-15',
    {},
  );
  assert.equal(r.reinstatement_end, '2025-04-30');
});
test('reinstatement allowed without a period ends with the grace period', () => {
  const r = computeExpiration(calendar({}, { grace_period: 5, allow_reinstatement: true }), '2024-03-15', {});
  assert.equal(r.reinstatement_end, '2025-01-05');
});
test('reinstatement not allowed gives null even with a period', () => {
  const r = computeExpiration(
    calendar({}, { allow_reinstatement: false, reinstatement_options: { reinstatement_period: 90 } }),
    '2024-03-15',
    {},
  );
  assert.equal(r.reinstatement_end, null);
});
test('invalid grace period and reinstatement period throw', () => {
  throwsDomain(() => computeExpiration(calendar({}, { grace_period: -1 }), '2024-03-15', {}), 'default_expiration_options.grace_period');
  throwsDomain(() => computeExpiration(calendar({}, { grace_period: 1.5 }), '2024-03-15', {}), 'default_expiration_options.grace_period');
  throwsDomain(
    () =>
      computeExpiration(calendar({}, { allow_reinstatement: true, reinstatement_options: { reinstatement_period: -3 } }), '2024-03-15', {}),
    'default_expiration_options.reinstatement_options.reinstatement_period',
  );
});

// ---- operators ------------------------------------------------------------------------------------------

test('equal: true and false', () => {
  assert.equal(holds(cond('level', 'equal', 'gold'), { level: 'gold' }), true);
  assert.equal(holds(cond('level', 'equal', 'gold'), { level: 'silver' }), false);
});
test('equal: numbers and booleans, no coercion', () => {
  assert.equal(holds(cond('n', 'equal', 5), { n: 5 }), true);
  assert.equal(holds(cond('n', 'equal', '5'), { n: 5 }), false);
  assert.equal(holds(cond('b', 'equal', true), { b: true }), true);
  assert.equal(holds(cond('b', 'equal', 'true'), { b: true }), false);
});
test('equal: missing fact is false (absent, undefined, null)', () => {
  assert.equal(holds(cond('level', 'equal', 'gold'), {}), false);
  assert.equal(holds(cond('level', 'equal', 'gold'), { level: undefined }), false);
  assert.equal(holds(cond('level', 'equal', 'gold'), { level: null }), false);
});
test('notEqual: true, false, missing fact true', () => {
  assert.equal(holds(cond('level', 'notEqual', 'gold'), { level: 'silver' }), true);
  assert.equal(holds(cond('level', 'notEqual', 'gold'), { level: 'gold' }), false);
  assert.equal(holds(cond('level', 'notEqual', 'gold'), {}), true);
});
test('lessThan', () => {
  assert.equal(holds(cond('n', 'lessThan', 5), { n: 3 }), true);
  assert.equal(holds(cond('n', 'lessThan', 5), { n: 5 }), false);
  assert.equal(holds(cond('n', 'lessThan', 5), {}), false);
});
test('lessThanInclusive', () => {
  assert.equal(holds(cond('n', 'lessThanInclusive', 5), { n: 5 }), true);
  assert.equal(holds(cond('n', 'lessThanInclusive', 5), { n: 6 }), false);
  assert.equal(holds(cond('n', 'lessThanInclusive', 5), {}), false);
});
test('greaterThan', () => {
  assert.equal(holds(cond('n', 'greaterThan', 5), { n: 6 }), true);
  assert.equal(holds(cond('n', 'greaterThan', 5), { n: 5 }), false);
  assert.equal(holds(cond('n', 'greaterThan', 5), {}), false);
});
test('greaterThanInclusive', () => {
  assert.equal(holds(cond('n', 'greaterThanInclusive', 5), { n: 5 }), true);
  assert.equal(holds(cond('n', 'greaterThanInclusive', 5), { n: 4 }), false);
  assert.equal(holds(cond('n', 'greaterThanInclusive', 5), {}), false);
});
test('numeric comparisons: ISO dates compare as dates', () => {
  assert.equal(holds(cond('d', 'lessThan', '2024-06-01'), { d: '2024-01-01' }), true);
  assert.equal(holds(cond('d', 'greaterThan', '2024-06-01'), { d: '2024-01-01' }), false);
  assert.equal(holds(cond('d', 'greaterThanInclusive', '2024-06-01'), { d: '2024-06-01T10:00:00Z' }), true);
});
test('numeric comparisons: mixed or non-numeric types are false, never coerced', () => {
  assert.equal(holds(cond('n', 'lessThan', 5), { n: '3' }), false);
  assert.equal(holds(cond('n', 'greaterThan', 'b'), { n: 'c' }), false);
  assert.equal(holds(cond('n', 'lessThan', [5]), { n: 3 }), false);
});
test('in: list value', () => {
  assert.equal(holds(cond('t', 'in', ['a', 'b']), { t: 'a' }), true);
  assert.equal(holds(cond('t', 'in', ['a', 'b']), { t: 'c' }), false);
  assert.equal(holds(cond('n', 'in', [1, 2]), { n: 2 }), true);
});
test('in: JSON-array string value keeps types', () => {
  assert.equal(holds(cond('n', 'in', '[1, 2, 3]'), { n: 2 }), true);
  assert.equal(holds(cond('n', 'in', '["1", "2"]'), { n: 2 }), false);
  assert.equal(holds(cond('t', 'in', '["a","b"]'), { t: 'b' }), true);
});
test('in: comma-separated string value, trimmed; numbers match by their text', () => {
  assert.equal(holds(cond('t', 'in', 'new, renewal ,reinstatement'), { t: 'renewal' }), true);
  assert.equal(holds(cond('t', 'in', 'new, renewal'), { t: 'transfer' }), false);
  assert.equal(holds(cond('n', 'in', '1, 2, 3'), { n: 2 }), true);
  assert.equal(holds(cond('t', 'in', 'single'), { t: 'single' }), true);
});
test('in: missing fact is false', () => {
  assert.equal(holds(cond('t', 'in', ['a']), {}), false);
});
test('notIn: true, false, missing fact true', () => {
  assert.equal(holds(cond('t', 'notIn', ['a', 'b']), { t: 'c' }), true);
  assert.equal(holds(cond('t', 'notIn', 'a,b'), { t: 'b' }), false);
  assert.equal(holds(cond('t', 'notIn', ['a']), {}), true);
});
test('in / notIn: invalid values throw', () => {
  throwsDomain(() => holds(cond('t', 'in', 5), { t: 5 }), 'matching_conditions.all.0.value');
  throwsDomain(() => holds(cond('t', 'notIn', '[1, 2'), { t: 1 }), 'matching_conditions.all.0.value');
});
test('contains: list fact', () => {
  assert.equal(holds(cond('tags', 'contains', 'x'), { tags: ['x', 'y'] }), true);
  assert.equal(holds(cond('tags', 'contains', 'z'), { tags: ['x', 'y'] }), false);
});
test('contains: string fact is a substring search', () => {
  assert.equal(holds(cond('s', 'contains', 'urs'), { s: 'nurse' }), true);
  assert.equal(holds(cond('s', 'contains', 'doc'), { s: 'nurse' }), false);
});
test('contains: missing or unsearchable fact is false', () => {
  assert.equal(holds(cond('tags', 'contains', 'x'), {}), false);
  assert.equal(holds(cond('n', 'contains', 1), { n: 1 }), false);
});
test('doesNotContain: true, false, missing fact true, unsearchable false', () => {
  assert.equal(holds(cond('tags', 'doesNotContain', 'z'), { tags: ['x'] }), true);
  assert.equal(holds(cond('tags', 'doesNotContain', 'x'), { tags: ['x'] }), false);
  assert.equal(holds(cond('tags', 'doesNotContain', 'x'), {}), true);
  assert.equal(holds(cond('n', 'doesNotContain', 1), { n: 1 }), false);
});
test('unknown or missing operator throws', () => {
  throwsDomain(() => holds(cond('t', 'startsWith', 'a'), { t: 'a' }), 'matching_conditions.all.0.operator');
  throwsDomain(() => holds({ fact: 't', value: 'a' }, { t: 'a' }), 'matching_conditions.all.0.operator');
});
test('unknown operator throws even when the fact is missing', () => {
  throwsDomain(() => holds(cond('t', 'like', 'a'), {}), /operator$/);
});
test('missing fact name or value throws', () => {
  throwsDomain(() => holds({ operator: 'equal', value: 'a' }, {}), /fact$/);
  throwsDomain(() => holds({ fact: 't', operator: 'equal' }, { t: 'a' }), /value$/);
});

// ---- paths -----------------------------------------------------------------------------------------------

const contact = { contact: { address: { country: 'CA' }, roles: ['nurse', 'admin'], items: [{ id: 'x1' }] } };

test('path: $.a.b selects into the fact', () => {
  assert.equal(holds(cond('contact', 'equal', 'CA', '$.address.country'), contact), true);
  assert.equal(holds(cond('contact', 'equal', 'US', '$.address.country'), contact), false);
});
test('path: a.b without $ works the same', () => {
  assert.equal(holds(cond('contact', 'equal', 'CA', 'address.country'), contact), true);
});
test('path: array indexes', () => {
  assert.equal(holds(cond('contact', 'equal', 'admin', '$.roles[1]'), contact), true);
  assert.equal(holds(cond('contact', 'equal', 'x1', 'items.0.id'), contact), true);
  assert.equal(holds(cond('contact', 'equal', 'x1', "$.items[0]['id']"), contact), true);
});
test('path: selecting nothing is a missing fact', () => {
  assert.equal(holds(cond('contact', 'equal', 'CA', '$.address.province'), contact), false);
  assert.equal(holds(cond('contact', 'notEqual', 'CA', '$.nowhere.deep'), contact), true);
  assert.equal(holds(cond('contact', 'notIn', ['CA'], '$.address.zip'), contact), true);
});
test('path: $ alone is the whole value; contains on a selected list', () => {
  assert.equal(holds(cond('level', 'equal', 'gold', '$'), { level: 'gold' }), true);
  assert.equal(holds(cond('contact', 'contains', 'nurse', '$.roles'), contact), true);
});

// ---- trees ----------------------------------------------------------------------------------------------

test('empty or missing tree is true', () => {
  assert.equal(evaluateConditions(undefined, {}), true);
  assert.equal(evaluateConditions(null, {}), true);
  assert.equal(evaluateConditions({}, {}), true);
  assert.equal(evaluateConditions({ all: [], any: [] }, {}), true);
  assert.equal(evaluateConditions({ any: [] }, {}), true);
});
test('all is AND', () => {
  const tree = { all: [cond('a', 'equal', 1), cond('b', 'equal', 2)] };
  assert.equal(evaluateConditions(tree, { a: 1, b: 2 }), true);
  assert.equal(evaluateConditions(tree, { a: 1, b: 3 }), false);
});
test('any is OR', () => {
  const tree = { any: [cond('a', 'equal', 1), cond('b', 'equal', 2)] };
  assert.equal(evaluateConditions(tree, { a: 0, b: 2 }), true);
  assert.equal(evaluateConditions(tree, { a: 0, b: 0 }), false);
});
test('all and any on the same node must both hold', () => {
  const tree = { all: [cond('a', 'equal', 1)], any: [cond('b', 'equal', 2), cond('c', 'equal', 3)] };
  assert.equal(evaluateConditions(tree, { a: 1, c: 3 }), true);
  assert.equal(evaluateConditions(tree, { a: 1 }), false);
  assert.equal(evaluateConditions(tree, { a: 2, b: 2 }), false);
});
test('nested: all containing an any group', () => {
  const tree = { all: [cond('owner_type', 'equal', 'contact'), { any: [cond('t', 'equal', 'new'), cond('t', 'equal', 'renewal')] }] };
  assert.equal(evaluateConditions(tree, { owner_type: 'contact', t: 'renewal' }), true);
  assert.equal(evaluateConditions(tree, { owner_type: 'contact', t: 'transfer' }), false);
  assert.equal(evaluateConditions(tree, { owner_type: 'organization', t: 'new' }), false);
});
test('nested: any containing all groups, three levels deep', () => {
  const tree = {
    any: [{ all: [cond('a', 'equal', 1), { any: [cond('b', 'equal', 1), cond('c', 'equal', 1)] }] }, { all: [cond('d', 'equal', 1)] }],
  };
  assert.equal(evaluateConditions(tree, { a: 1, c: 1 }), true);
  assert.equal(evaluateConditions(tree, { d: 1 }), true);
  assert.equal(evaluateConditions(tree, { a: 1 }), false);
});
test('a condition carrying its own all/any needs both', () => {
  const tree = { all: [{ ...cond('a', 'equal', 1), any: [cond('b', 'equal', 2)] }] };
  assert.equal(evaluateConditions(tree, { a: 1, b: 2 }), true);
  assert.equal(evaluateConditions(tree, { a: 1, b: 3 }), false);
  assert.equal(evaluateConditions(tree, { a: 0, b: 2 }), false);
});
test('a bare condition as the tree', () => {
  assert.equal(evaluateConditions(cond('a', 'equal', 1), { a: 1 }), true);
});
test('malformed trees throw', () => {
  throwsDomain(() => evaluateConditions({ all: cond('a', 'equal', 1) }, {}), 'matching_conditions.all');
  throwsDomain(() => evaluateConditions({ all: ['a'] }, {}), 'matching_conditions.all.0');
  throwsDomain(() => evaluateConditions({ not: cond('a', 'equal', 1) }, {}), 'matching_conditions.not');
  throwsDomain(() => evaluateConditions('a == 1', {}), 'matching_conditions');
});
test('a bad condition after a false one still throws (no short-circuit)', () => {
  throwsDomain(
    () => evaluateConditions({ all: [cond('a', 'equal', 1), cond('b', 'bogus', 1)] }, { a: 0 }),
    'matching_conditions.all.1.operator',
  );
});

// ---- rule selection ----------------------------------------------------------------------------------

const opts = (years: number): ExpirationOptionsLike => ({
  expiration_type: 'calendar',
  calendar_expiration_options: { number_of_years: years },
});
const ruleSet = (rules: NonNullable<ExpirationRuleSetLike['rules']>) => set(opts(1), rules);
const byProgram = (program: string) => ({ all: [cond('program_id', 'equal', program)] });

test('rules: the first matching rule wins (array order)', () => {
  const rs = ruleSet([
    { name: 'rn', matching_conditions: byProgram('p1'), expiration_options: opts(2) },
    { name: 'any-contact', matching_conditions: { all: [cond('owner_type', 'equal', 'contact')] }, expiration_options: opts(3) },
  ]);
  assert.equal(selectOptions(rs, { program_id: 'p1', owner_type: 'contact' }).rule, 'rn');
  assert.equal(selectOptions(rs, { program_id: 'p2', owner_type: 'contact' }).rule, 'any-contact');
  assert.deepEqual(computeExpiration(rs, '2024-05-01', { program_id: 'p1', owner_type: 'contact' }), {
    expiration_date: '2025-12-31',
    grace_period_end: '2025-12-31',
    reinstatement_end: null,
    rule: 'rn',
  });
});
test('rules: the chosen options are returned as given', () => {
  const rs = ruleSet([{ name: 'rn', matching_conditions: byProgram('p1'), expiration_options: opts(2) }]);
  assert.deepEqual(selectOptions(rs, { program_id: 'p1' }).options, opts(2));
});
test('rules: disabled rules are skipped, is_enabled absent counts as enabled', () => {
  const rs = ruleSet([
    { name: 'off', is_enabled: false, matching_conditions: byProgram('p1'), expiration_options: opts(2) },
    { name: 'on', matching_conditions: byProgram('p1'), expiration_options: opts(3) },
  ]);
  assert.equal(selectOptions(rs, { program_id: 'p1' }).rule, 'on');
  assert.equal(expOf(rs, '2024-05-01', { program_id: 'p1' }), '2026-12-31');
});
test('rules: is_enabled true matches', () => {
  const rs = ruleSet([{ name: 'on', is_enabled: true, matching_conditions: byProgram('p1'), expiration_options: opts(2) }]);
  assert.equal(selectOptions(rs, { program_id: 'p1' }).rule, 'on');
});
test('rules: conditions of disabled rules are not evaluated', () => {
  const rs = ruleSet([
    { name: 'off', is_enabled: false, matching_conditions: { all: [cond('a', 'bogus', 1)] }, expiration_options: opts(2) },
  ]);
  assert.equal(selectOptions(rs, {}).rule, 'default');
});
test('rules: a rule without matching_conditions always matches', () => {
  const rs = ruleSet([{ name: 'catch-all', expiration_options: opts(2) }]);
  assert.equal(selectOptions(rs, {}).rule, 'catch-all');
});
test('rules: an unnamed rule is reported by its index', () => {
  const rs = ruleSet([
    { matching_conditions: byProgram('x'), expiration_options: opts(2) },
    { matching_conditions: byProgram('p1'), expiration_options: opts(2) },
  ]);
  assert.equal(selectOptions(rs, { program_id: 'p1' }).rule, '1');
});
test('rules: no match falls back to the default', () => {
  const rs = ruleSet([{ name: 'rn', matching_conditions: byProgram('p1'), expiration_options: opts(2) }]);
  assert.equal(selectOptions(rs, { program_id: 'p9' }).rule, 'default');
  assert.equal(expOf(rs, '2024-05-01', { program_id: 'p9' }), '2024-12-31');
});
test('rules: no rules at all uses the default', () => {
  assert.equal(selectOptions({ name: 'x', default_expiration_options: opts(1) }, {}).rule, 'default');
});
test('rules: a matching rule without expiration_options throws', () => {
  const rs = ruleSet([{ name: 'empty', matching_conditions: byProgram('p1') }]);
  throwsDomain(() => selectOptions(rs, { program_id: 'p1' }), 'rules.0.expiration_options');
});
test('rules: errors inside a rule name its position', () => {
  const rs = ruleSet([{ name: 'bad', matching_conditions: byProgram('p1'), expiration_options: { ...opts(1), grace_period: -2 } }]);
  throwsDomain(() => computeExpiration(rs, '2024-01-01', { program_id: 'p1' }), 'rules.0.expiration_options.grace_period');
  const rs2 = ruleSet([{ name: 'bad', matching_conditions: { all: [cond('a', 'nope', 1)] }, expiration_options: opts(1) }]);
  throwsDomain(() => selectOptions(rs2, {}), 'rules.0.matching_conditions.all.0.operator');
});

// ---- DomainError cases ----------------------------------------------------------------------------------

test('DomainError carries field and reason', () => {
  const e = new DomainError('x.y', 'is wrong');
  assert.equal(e.field, 'x.y');
  assert.equal(e.reason, 'is wrong');
  assert.equal(e.name, 'DomainError');
  assert.match(e.message, /x\.y: is wrong/);
});
test('no usable options: no default and no matching rule', () => {
  const rs = { name: 'x', rules: [] } as unknown as ExpirationRuleSetLike;
  throwsDomain(() => selectOptions(rs, {}), 'default_expiration_options');
  throwsDomain(() => computeExpiration(rs, '2024-01-01', {}), 'default_expiration_options');
});
test('no default is fine when a rule matches', () => {
  const rs = { name: 'x', rules: [{ name: 'r', expiration_options: opts(1) }] } as unknown as ExpirationRuleSetLike;
  assert.equal(expOf(rs, '2024-01-01'), '2024-12-31');
});
test('rule set that is not an object, or rules that are not a list, throw', () => {
  throwsDomain(() => selectOptions(null as unknown as ExpirationRuleSetLike, {}), 'expiration_rule_set');
  throwsDomain(
    () => selectOptions({ name: 'x', rules: {}, default_expiration_options: opts(1) } as unknown as ExpirationRuleSetLike, {}),
    'rules',
  );
});
test('unknown expiration_type throws', () => {
  throwsDomain(() => expOf(set({ expiration_type: 'rolling' as never }), '2024-01-01'), 'default_expiration_options.expiration_type');
});
test('missing expiration_type throws', () => {
  throwsDomain(() => expOf(set({ calendar_expiration_options: {} }), '2024-01-01'), 'default_expiration_options.expiration_type');
});
test('non-date start dates throw', () => {
  for (const s of ['', 'abc', '2024-2-1', '2024-02-30', '2023-02-29', '2024-13-01', '2024-01-01T00:00:00Z', '01-15']) {
    throwsDomain(() => expOf(calendar(), s), 'start_date');
  }
  throwsDomain(() => expOf(calendar(), 20240101 as unknown as string), 'start_date');
});
test('2100-02-29 is not a date; 2000-02-29 is', () => {
  throwsDomain(() => expOf(calendar(), '2100-02-29'), 'start_date');
  assert.equal(expOf(calendar(), '2000-02-29'), '2000-12-31');
});
