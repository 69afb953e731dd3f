import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RELATIVE_TO } from '../../resources/blocks.js';
import {
  formatDay,
  parseDay,
  RelativeDateError,
  resolveRelativeDate,
  resolveTemplateOptions,
  type RelativeDateLike,
} from './relative-dates.js';

const rel = (o: Partial<RelativeDateLike> = {}): RelativeDateLike => ({ position: 'on', relative_to: 'the reference date', ...o });
const on = (relative_to: RelativeDateLike['relative_to'], runDate: string) => resolveRelativeDate(rel({ relative_to }), runDate);
const shift = (
  position: 'after' | 'before',
  number: number,
  unit_of_time: RelativeDateLike['unit_of_time'],
  runDate: string,
  relative_to: RelativeDateLike['relative_to'] = 'the reference date',
) => resolveRelativeDate({ position, number, unit_of_time, relative_to }, runDate);
const fieldError = (field: string, reason?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof RelativeDateError, `expected RelativeDateError, got ${String(e)}`);
  assert.equal(e.field, field);
  if (reason) assert.match(e.reason, reason);
  assert.equal(e.message, `${e.field}: ${e.reason}`);
  return true;
};

test('days parse and format as UTC calendar days', () => {
  assert.equal(formatDay(parseDay('2024-02-29')), '2024-02-29');
  assert.equal(parseDay('2026-03-29').getTime(), Date.UTC(2026, 2, 29), 'UTC midnight, whatever the server zone');
  assert.equal(formatDay(parseDay('0050-06-01')), '0050-06-01', 'two-digit years are not taken as 19xx');
  assert.equal(formatDay(parseDay('2026-03-01T01:00:00+05:00')), '2026-02-28', 'a date-time counts as its UTC day');
  assert.equal(formatDay(parseDay('2026-03-01T23:59:59Z')), '2026-03-01');
  for (const bad of ['2026-02-29', '2026-02-30', '2026-13-01', '2026-1-5', '20260105', '', 'tomorrow', '2026-01-01T99:00:00Z'])
    assert.throws(() => parseDay(bad), RangeError, bad);
});

test('the reference date anchors on the run date itself', () => {
  assert.equal(on('the reference date', '2026-05-13'), '2026-05-13');
  assert.equal(shift('after', 30, 'days', '2026-01-15'), '2026-02-14');
  assert.equal(shift('before', 30, 'days', '2026-03-01'), '2026-01-30');
  assert.equal(shift('after', 0, 'days', '2026-03-01'), '2026-03-01');
  assert.equal(shift('after', -1, 'days', '2026-03-01'), '2026-02-28', 'a negative number counts the other way');
});

test('month anchors: first and last day, February in leap and common years', () => {
  assert.equal(on('the beginning of the month', '2026-05-13'), '2026-05-01');
  assert.equal(on('the beginning of the month', '2026-05-01'), '2026-05-01');
  assert.equal(on('the end of the month', '2026-05-13'), '2026-05-31');
  assert.equal(on('the end of the month', '2026-04-30'), '2026-04-30');
  assert.equal(on('the end of the month', '2026-02-10'), '2026-02-28');
  assert.equal(on('the end of the month', '2024-02-10'), '2024-02-29');
  assert.equal(on('the end of the month', '2000-02-01'), '2000-02-29', '2000 is a leap year (divisible by 400)');
  assert.equal(on('the end of the month', '2100-02-01'), '2100-02-28', '2100 is not (divisible by 100)');
  assert.equal(on('the end of the month', '2026-12-31'), '2026-12-31');
});

test('quarter anchors: each quarter, on and around its boundaries', () => {
  const cases: [string, string, string][] = [
    ['2026-01-01', '2026-01-01', '2026-03-31'],
    ['2026-02-14', '2026-01-01', '2026-03-31'],
    ['2026-03-31', '2026-01-01', '2026-03-31'],
    ['2026-04-01', '2026-04-01', '2026-06-30'],
    ['2026-05-03', '2026-04-01', '2026-06-30'],
    ['2026-06-30', '2026-04-01', '2026-06-30'],
    ['2026-07-01', '2026-07-01', '2026-09-30'],
    ['2026-09-30', '2026-07-01', '2026-09-30'],
    ['2026-10-01', '2026-10-01', '2026-12-31'],
    ['2026-12-31', '2026-10-01', '2026-12-31'],
  ];
  for (const [day, start, end] of cases) {
    assert.equal(on('the beginning of the quarter', day), start, `start of quarter of ${day}`);
    assert.equal(on('the end of the quarter', day), end, `end of quarter of ${day}`);
  }
});

test('year anchors', () => {
  assert.equal(on('the beginning of the year', '2026-07-04'), '2026-01-01');
  assert.equal(on('the end of the year', '2026-07-04'), '2026-12-31');
  assert.equal(on('the beginning of the year', '2026-01-01'), '2026-01-01');
  assert.equal(on('the end of the year', '2026-12-31'), '2026-12-31');
});

test('week anchors: ISO weeks, Monday to Sunday, across month and year boundaries', () => {
  // 2026-05-03 is a Sunday: the last day of the week that began on Monday 2026-04-27.
  assert.equal(on('the beginning of the week', '2026-05-03'), '2026-04-27');
  assert.equal(on('the end of the week', '2026-05-03'), '2026-05-03');
  assert.equal(on('the beginning of the week', '2026-05-04'), '2026-05-04', 'a Monday starts its own week');
  assert.equal(on('the end of the week', '2026-05-04'), '2026-05-10');
  assert.equal(on('the beginning of the week', '2026-05-06'), '2026-05-04');
  assert.equal(on('the end of the week', '2026-05-09'), '2026-05-10', 'Saturday: the next day ends the week');
  // 2026-01-01 is a Thursday: its week spans the turn of the year.
  assert.equal(on('the beginning of the week', '2026-01-01'), '2025-12-29');
  assert.equal(on('the end of the week', '2025-12-30'), '2026-01-04');
  assert.equal(on('the beginning of the week', '2024-03-01'), '2024-02-26', 'through a leap day');
  assert.equal(on('the end of the week', '2024-02-26'), '2024-03-03');
});

test('every RELATIVE_TO anchor of the resource is known', () => {
  for (const r of RELATIVE_TO) assert.match(on(r, '2026-05-13'), /^\d{4}-\d{2}-\d{2}$/, r);
});

test('months and years clamp to the last day of the target month', () => {
  assert.equal(shift('after', 1, 'months', '2026-01-31'), '2026-02-28');
  assert.equal(shift('after', 1, 'months', '2024-01-31'), '2024-02-29');
  assert.equal(shift('after', 3, 'months', '2026-01-31'), '2026-04-30');
  assert.equal(shift('before', 1, 'months', '2026-03-31'), '2026-02-28');
  assert.equal(shift('before', 1, 'months', '2026-03-30'), '2026-02-28');
  assert.equal(shift('after', 1, 'months', '2026-02-28'), '2026-03-28', 'the day is kept, not moved to the month end');
  assert.equal(shift('after', 11, 'months', '2026-12-15'), '2027-11-15', 'across the year');
  assert.equal(shift('before', 13, 'months', '2026-01-15'), '2024-12-15');
  assert.equal(shift('after', 1, 'years', '2024-02-29'), '2025-02-28');
  assert.equal(shift('after', 4, 'years', '2024-02-29'), '2028-02-29');
  assert.equal(shift('before', 1, 'years', '2024-02-29'), '2023-02-28');
  assert.equal(shift('after', 2, 'weeks', '2026-12-25'), '2027-01-08');
  assert.equal(shift('after', 1, 'days', '2024-02-28'), '2024-02-29');
  assert.equal(shift('after', 1, 'days', '2026-02-28'), '2026-03-01');
  assert.equal(shift('after', 366, 'days', '2024-01-01'), '2025-01-01');
});

test('the anchor comes first, then the move', () => {
  assert.equal(shift('after', 30, 'days', '2026-01-15', 'the end of the month'), '2026-03-02');
  assert.equal(shift('after', 1, 'months', '2026-01-15', 'the end of the month'), '2026-02-28');
  assert.equal(
    shift('after', 1, 'months', '2026-02-15', 'the end of the month'),
    '2026-03-28',
    'date-fns semantics: Feb 28 + 1 month = Mar 28',
  );
  assert.equal(shift('after', 2, 'weeks', '2026-05-03', 'the end of the quarter'), '2026-07-14');
  assert.equal(shift('before', 1, 'days', '2026-05-03', 'the beginning of the quarter'), '2026-03-31');
  assert.equal(shift('after', 1, 'years', '2026-05-03', 'the beginning of the year'), '2027-01-01');
  assert.equal(shift('before', 1, 'weeks', '2026-05-06', 'the beginning of the week'), '2026-04-27');
  assert.equal(shift('after', 3, 'months', '2025-11-20', 'the end of the quarter'), '2026-03-31');
});

test("'on' is the anchor: number and unit are ignored", () => {
  assert.equal(
    resolveRelativeDate(rel({ position: 'on', number: 30, unit_of_time: 'days', relative_to: 'the end of the month' }), '2026-02-10'),
    '2026-02-28',
  );
  assert.equal(resolveRelativeDate(rel({ position: 'on', relative_to: 'the beginning of the year' }), '2026-02-10'), '2026-01-01');
});

test('the run date may be a date-time: its UTC day', () => {
  assert.equal(shift('after', 1, 'days', '2026-01-31T23:30:00Z'), '2026-02-01');
  assert.equal(on('the end of the month', '2026-03-01T02:00:00+03:00'), '2026-02-28');
  assert.throws(() => on('the reference date', 'not a date'), RangeError);
});

test('a missing or malformed part is an error naming its field', () => {
  const base = { relative_to: 'the reference date' as const };
  assert.throws(
    () => resolveRelativeDate({ ...base, position: 'after', unit_of_time: 'days' }, '2026-01-01'),
    fieldError('number', /required when position is after/),
  );
  assert.throws(
    () => resolveRelativeDate({ ...base, position: 'before', number: 3 }, '2026-01-01'),
    fieldError('unit_of_time', /required when position is before/),
  );
  assert.throws(
    () => resolveRelativeDate({ ...base, position: 'after', number: 1.5, unit_of_time: 'days' }, '2026-01-01'),
    fieldError('number', /whole number/),
  );
  assert.throws(
    () => resolveRelativeDate({ ...base, position: 'after', number: '3' as any, unit_of_time: 'days' }, '2026-01-01'),
    fieldError('number'),
  );
  assert.throws(
    () => resolveRelativeDate({ ...base, position: 'after', number: Number.NaN, unit_of_time: 'days' }, '2026-01-01'),
    fieldError('number'),
  );
  assert.throws(
    () => resolveRelativeDate({ ...base, position: 'after', number: 1, unit_of_time: 'fortnights' as any }, '2026-01-01'),
    fieldError('unit_of_time', /days, weeks, months, years/),
  );
  assert.throws(
    () => resolveRelativeDate({ ...base, position: 'around' as any, number: 1, unit_of_time: 'days' }, '2026-01-01'),
    fieldError('position'),
  );
  assert.throws(
    () => resolveRelativeDate({ position: 'on', relative_to: 'the end of the decade' as any }, '2026-01-01'),
    fieldError('relative_to', /the reference date/),
  );
  assert.throws(() => resolveRelativeDate({ position: 'on' } as any, '2026-01-01'), fieldError('relative_to'));
  assert.throws(
    () => resolveRelativeDate({ ...base, position: 'after', number: 1e7, unit_of_time: 'years' }, '2026-01-01'),
    fieldError('number', /9999/),
  );
});

// ---------------------------------------------------------------------------------------------------

const window = (start: Partial<RelativeDateLike>, end: Partial<RelativeDateLike>) => ({
  expiration_date_range_start: { position: 'on', relative_to: 'the reference date', ...start },
  expiration_date_range_end: { position: 'on', relative_to: 'the reference date', ...end },
});

const template = () => ({
  id: 'tpl1',
  name: 'Monthly',
  description: 'the monthly run',
  notification_email: 'billing@example.org',
  sys_version: 3,
  sys_created_at: '2026-01-01T00:00:00Z',
  send_renewal_reminders: true,
  renewal_reminder_options: {
    program_restriction: 'include',
    program_ids: ['p1', 'p2'],
    reminders: [
      {
        id: 1,
        name: '60 days',
        reminder_notice_id: 'n1',
        ...window(
          { position: 'after', number: 60, unit_of_time: 'days' },
          { position: 'after', number: 2, unit_of_time: 'months', relative_to: 'the end of the month' },
        ),
      },
      {
        id: 2,
        name: 'last call',
        reminder_notice_id: 'n2',
        ...window({ relative_to: 'the beginning of the month' }, { relative_to: 'the end of the month' }),
      },
    ],
  },
  perform_drops: false,
  drop_options: {
    drop_notice_id: 'n3',
    restrict_status_reasons: true,
    status_reason_ids: ['sr1'],
    ...window(
      { position: 'before', number: 1, unit_of_time: 'years', relative_to: 'the beginning of the quarter' },
      { position: 'before', number: 1, unit_of_time: 'days', relative_to: 'the beginning of the quarter' },
    ),
  },
  bill_training_providers: true,
  training_provider_billing_options: {
    invoice_template_id: 'it1',
    payment_terms_id: 'pt1',
    email_invoices_to_training_providers: false,
    ...window({ relative_to: 'the beginning of the year' }, { relative_to: 'the end of the year' }),
  },
});

test('a template becomes a run body: windows resolved at every depth, the rest copied, template fields left out', () => {
  const t = template();
  const body = resolveTemplateOptions(t, '2026-02-10');
  assert.deepEqual(body, {
    notification_email: 'billing@example.org',
    send_renewal_reminders: true,
    renewal_reminder_options: {
      program_restriction: 'include',
      program_ids: ['p1', 'p2'],
      reminders: [
        {
          id: 1,
          name: '60 days',
          reminder_notice_id: 'n1',
          expiration_date_range_start: '2026-04-11',
          expiration_date_range_end: '2026-04-28',
        },
        {
          id: 2,
          name: 'last call',
          reminder_notice_id: 'n2',
          expiration_date_range_start: '2026-02-01',
          expiration_date_range_end: '2026-02-28',
        },
      ],
    },
    perform_drops: false,
    drop_options: {
      drop_notice_id: 'n3',
      restrict_status_reasons: true,
      status_reason_ids: ['sr1'],
      expiration_date_range_start: '2025-01-01',
      expiration_date_range_end: '2025-12-31',
    },
    bill_training_providers: true,
    training_provider_billing_options: {
      invoice_template_id: 'it1',
      payment_terms_id: 'pt1',
      email_invoices_to_training_providers: false,
      expiration_date_range_start: '2026-01-01',
      expiration_date_range_end: '2026-12-31',
    },
  });
  // A deep copy: the template is untouched and shares nothing with the body.
  assert.deepEqual(t, template());
  body.renewal_reminder_options.program_ids.push('p3');
  body.renewal_reminder_options.reminders[0].name = 'changed';
  assert.deepEqual(t, template());
});

test('the same template resolves per run date', () => {
  const t = {
    forecast_renewals: true,
    renewal_forecasting_options: window({ relative_to: 'the beginning of the quarter' }, { relative_to: 'the end of the quarter' }),
  };
  assert.deepEqual(resolveTemplateOptions(t, '2026-02-10').renewal_forecasting_options, {
    expiration_date_range_start: '2026-01-01',
    expiration_date_range_end: '2026-03-31',
  });
  assert.deepEqual(resolveTemplateOptions(t, '2026-11-30').renewal_forecasting_options, {
    expiration_date_range_start: '2026-10-01',
    expiration_date_range_end: '2026-12-31',
  });
});

test('an already absolute window is kept; other values are copied as they are', () => {
  const body = resolveTemplateOptions(
    { drop_options: { expiration_date_range_start: '2026-01-01', expiration_date_range_end: '2026-01-31', program_ids: [], extra: null } },
    '2026-05-05',
  );
  assert.deepEqual(body, {
    drop_options: { expiration_date_range_start: '2026-01-01', expiration_date_range_end: '2026-01-31', program_ids: [], extra: null },
  });
  assert.deepEqual(resolveTemplateOptions({}, '2026-05-05'), {});
});

test('template errors name the field path', () => {
  const t = template();
  delete (t.renewal_reminder_options.reminders[0]!.expiration_date_range_start as any).number;
  assert.throws(
    () => resolveTemplateOptions(t, '2026-02-10'),
    fieldError('renewal_reminder_options.reminders.0.expiration_date_range_start.number', /required/),
  );

  const t2 = template();
  (t2.drop_options.expiration_date_range_end as any).unit_of_time = undefined;
  assert.throws(
    () => resolveTemplateOptions(t2, '2026-02-10'),
    fieldError('drop_options.expiration_date_range_end.unit_of_time'),
    'an off job is resolved (and checked) too',
  );

  const t3 = template();
  (t3.renewal_reminder_options.reminders[1] as any).expiration_date_range_end = 42;
  assert.throws(
    () => resolveTemplateOptions(t3, '2026-02-10'),
    fieldError('renewal_reminder_options.reminders.1.expiration_date_range_end', /relative date object/),
  );

  const t4 = template();
  (t4.training_provider_billing_options.expiration_date_range_start as any).relative_to = 'the end of time';
  assert.throws(
    () => resolveTemplateOptions(t4, '2026-02-10'),
    fieldError('training_provider_billing_options.expiration_date_range_start.relative_to'),
  );
});

test('agrees with date-fns calendar arithmetic on random days, anchors and moves', async () => {
  const fc = (await import('fast-check')).default;
  const df = await import('date-fns');
  const anchors: Record<string, (d: Date) => Date> = {
    'the beginning of the month': df.startOfMonth,
    'the beginning of the quarter': df.startOfQuarter,
    'the beginning of the week': (d) => df.startOfWeek(d, { weekStartsOn: 1 }),
    'the beginning of the year': df.startOfYear,
    'the end of the month': df.endOfMonth,
    'the end of the quarter': df.endOfQuarter,
    'the end of the week': (d) => df.endOfWeek(d, { weekStartsOn: 1 }),
    'the end of the year': df.endOfYear,
    'the reference date': (d) => d,
  };
  const moves = { days: df.addDays, weeks: df.addWeeks, months: df.addMonths, years: df.addYears };
  fc.assert(
    fc.property(
      fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2090-12-31T00:00:00Z'), noInvalidDate: true }),
      fc.constantFrom(...RELATIVE_TO),
      fc.constantFrom('after' as const, 'before' as const, 'on' as const),
      fc.integer({ min: 0, max: 400 }),
      fc.constantFrom('days' as const, 'weeks' as const, 'months' as const, 'years' as const),
      (d, relative_to, position, number, unit_of_time) => {
        const day = d.toISOString().slice(0, 10);
        // date-fns on a local-midnight Date: calendar-correct in any zone (setDate/setMonth based).
        const anchor = anchors[relative_to]!(df.parseISO(day));
        const n = position === 'on' ? 0 : position === 'before' ? -number : number;
        const expected = df.format(moves[unit_of_time](anchor, n), 'yyyy-MM-dd');
        assert.equal(resolveRelativeDate({ position, number, unit_of_time, relative_to }, day), expected);
      },
    ),
    { numRuns: 2000 },
  );
});
