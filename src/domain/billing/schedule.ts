import { CronExpressionParser } from 'cron-parser';
import { formatDay, parseDay } from './relative-dates.js';

/**
 * Schedules of recurring billing runs and the business-day lead time of their pre-processing. Pure:
 * the clock is an argument. All times are UTC.
 *
 * Accepted schedule forms (the reference does not document the format; Rhythm's platform runs on AWS,
 * so its editor may hand us EventBridge expressions):
 * - standard 5-field cron: minute hour day-of-month month day-of-week (0 or 7 = Sunday; names, `L`,
 *   `#`, `?` as cron-parser reads them). Day-of-month and day-of-week both restricted means either.
 * - the classic macros @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly.
 * - AWS `cron(min hour dom month dow year)`, converted to 5 fields: the year must be `*` (dropping a
 *   real year would silently run in every year), `?` becomes `*`, and day-of-week is renumbered from
 *   AWS's 1-7 = Sunday-Saturday to cron's 0-6. As AWS, exactly one of the two day fields must be `?`.
 * Refused: a bare 6-field expression (cron-parser would read seconds first, AWS minutes first: the
 * same text means two different schedules), `rate(...)` (a rate has no anchor, so "every 7 days" has
 * no defined run date after a restart), and `H` (cron-parser picks a random value on every parse,
 * which would move the next run date each time it is computed).
 */

export class ScheduleError extends Error {
  constructor(
    readonly expression: string,
    readonly reason: string,
  ) {
    super(`invalid schedule ${JSON.stringify(expression)}: ${reason}`);
    this.name = 'ScheduleError';
  }
}

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** One AWS day-of-week list item in cron's numbering (AWS 1 = Sunday, cron 0 = Sunday). */
function awsDayOfWeekItem(item: string): string {
  const shift = (s: string) => {
    if (!/^\d+$/.test(s)) return s.toUpperCase(); // SUN-SAT mean the same in both
    const n = Number(s);
    if (n < 1 || n > 7) throw new Error(`AWS day-of-week values run 1-7 (1 = Sunday), got ${s}`);
    return String(n - 1);
  };
  if (item === 'L') return '6'; // AWS: the last day of the week, Saturday
  if (item === '*' || item === '?') return '*';
  let m = /^(.+)#(\d+)$/.exec(item); // nth weekday of the month: only the day is renumbered
  if (m) return `${shift(m[1]!)}#${m[2]}`;
  m = /^(.+)L$/.exec(item); // last such weekday of the month
  if (m) return `${shift(m[1]!)}L`;
  m = /^([^/]+)\/(\d+)$/.exec(item);
  if (m) {
    // A step's open end must stop at Saturday: cron-parser's range reaches 7 (Sunday again).
    const base = m[1]!;
    if (base === '*') return `0-6/${m[2]}`;
    const range = base.split('-');
    return `${shift(range[0]!)}-${range.length === 2 ? shift(range[1]!) : '6'}/${m[2]}`;
  }
  return item.split('-').map(shift).join('-');
}

/** The 5-field cron of an AWS cron(...) body, or throws Error with the reason. */
function fromAws(body: string): string {
  const f = body.trim().split(/\s+/);
  if (f.length !== 6)
    throw new Error(`cron(...) needs 6 fields (minutes hours day-of-month month day-of-week year), got ${body.trim() ? f.length : 0}`);
  const [min, hour, dom, month, dow, year] = f as [string, string, string, string, string, string];
  if (year !== '*') throw new Error(`the year field must be * (a schedule limited to some years is not supported), got ${year}`);
  if ((dom === '?') === (dow === '?')) throw new Error('exactly one of day-of-month and day-of-week must be ? (as in AWS cron)');
  if (/W/i.test(dom)) throw new Error('W (nearest weekday) in day-of-month is not supported');
  return [min, hour, dom === '?' ? '*' : dom, month, dow.split(',').map(awsDayOfWeekItem).join(',')].join(' ');
}

/** The schedule as 5-field cron, or throws ScheduleError with the reason. */
export function toStandardCron(expr: string): string {
  const fail = (reason: string): never => {
    throw new ScheduleError(expr, reason);
  };
  if (typeof expr !== 'string' || !expr.trim()) return fail('the schedule is empty');
  const e = expr.trim();
  let cron: string;
  if (/^rate\s*\(/i.test(e)) return fail('rate(...) expressions are not supported: use cron(...) or a 5-field cron expression');
  const aws = /^cron\s*\((.*)\)$/is.exec(e);
  if (aws) {
    try {
      cron = fromAws(aws[1]!);
    } catch (err) {
      return fail((err as Error).message);
    }
  } else if (e.startsWith('@')) {
    cron = MACROS[e.toLowerCase()] ?? fail(`unknown macro ${e} (known: ${Object.keys(MACROS).join(', ')})`);
  } else {
    const n = e.split(/\s+/).length;
    if (n === 6) fail('6 fields are ambiguous: use 5-field cron (minute hour day-of-month month day-of-week) or AWS cron(...) with a year');
    if (n !== 5) fail(`expected 5 fields (minute hour day-of-month month day-of-week), got ${n}`);
    cron = e;
  }
  // No day or month name starts with H, so an H opening a value is cron-parser's hash.
  if (/(^|[\s,\-/#])H/i.test(cron)) fail('H (a random value) is not supported: the run time must be the same every time');
  try {
    // Parsing catches range errors and impossible days (Feb 30); next() proves there is an occurrence.
    CronExpressionParser.parse(cron, { tz: 'UTC', currentDate: new Date(0) }).next();
  } catch (err) {
    fail((err as Error).message);
  }
  return cron;
}

/** null when the schedule is valid, else the reason. */
export function validateSchedule(expr: string): string | null {
  try {
    toStandardCron(expr);
    return null;
  } catch (err) {
    if (err instanceof ScheduleError) return err.reason;
    throw err;
  }
}

/** The next occurrence strictly after `after` (UTC); throws ScheduleError on an invalid schedule. */
export function nextRunDate(expr: string, after: Date): Date {
  return CronExpressionParser.parse(toStandardCron(expr), { tz: 'UTC', currentDate: after }).next().toDate();
}

/**
 * The day `n` business days (Monday-Friday) before `date` (YYYY-MM-DD). n = 0 is the day itself even
 * on a weekend; otherwise a weekend day counts nothing, so one business day before Saturday, Sunday or
 * Monday is Friday. A fractional lead time rounds up: pre-processing must not start later than asked.
 */
export function subtractBusinessDays(date: string, n: number): string {
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`business days must be a number >= 0, got ${n}`);
  const DAY = 86_400_000;
  const weekend = (t: number) => [0, 6].includes(new Date(t).getUTCDay());
  let left = Math.ceil(n);
  let t = parseDay(date).getTime();
  if (left === 0) return formatDay(new Date(t));
  // From a weekend day, the Friday before is the first business day back.
  if (weekend(t)) {
    while (weekend(t)) t -= DAY;
    left--;
  }
  // From a weekday, 5 business days back is exactly a week back: jump whole weeks, walk the rest.
  t -= Math.floor(left / 5) * 7 * DAY;
  left %= 5;
  while (left > 0) {
    t -= DAY;
    if (!weekend(t)) left--;
  }
  return formatDay(new Date(t));
}

/** The pre-processing instant of a run: the same UTC time of day, `leadTimeBusinessDays` business days earlier. */
export function preprocessingDate(runDate: Date, leadTimeBusinessDays: number): Date {
  const day = formatDay(runDate);
  const timeOfDay = runDate.getTime() - parseDay(day).getTime();
  return new Date(parseDay(subtractBusinessDays(day, leadTimeBusinessDays)).getTime() + timeOfDay);
}
