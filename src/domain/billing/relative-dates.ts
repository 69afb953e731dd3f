import type { RELATIVE_TO } from '../../resources/blocks.js';

/**
 * Relative dates of billing templates ("30 days after the end of the month") resolved against a run
 * date, and a template turned into the job flags and option blocks of a run. Pure: no I/O, no clock.
 *
 * Days are plain calendar days computed on UTC Dates (setUTCFullYear/getUTC*), so the server's time
 * zone and DST never shift a day. Input that cannot be resolved throws RelativeDateError naming the
 * field, which the caller answers with a 400.
 */

export type RelativeTo = (typeof RELATIVE_TO)[number];
export type Position = 'after' | 'before' | 'on';
export type UnitOfTime = 'days' | 'weeks' | 'months' | 'years';

export interface RelativeDateLike {
  position: Position;
  number?: number;
  unit_of_time?: UnitOfTime;
  relative_to: RelativeTo;
}

export class RelativeDateError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'RelativeDateError';
  }
}

// ---------------------------------------------------------------------------------------------------
// UTC calendar days

/** A UTC-midnight Date; setUTCFullYear, unlike Date.UTC, keeps years 0-99 and rolls month/day overflow. */
const utc = (y: number, m: number, d: number) => {
  const x = new Date(0);
  x.setUTCFullYear(y, m, d);
  return x;
};

/**
 * The UTC day of a YYYY-MM-DD string (or of an ISO date-time: its UTC calendar day, so a run's
 * date-time can be passed as is). Throws RangeError on anything else, including 2026-02-30.
 */
export function parseDay(s: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]) - 1, Number(m[3])];
    const day = utc(y, mo, d);
    if (day.getUTCFullYear() === y && day.getUTCMonth() === mo && day.getUTCDate() === d) return day;
  } else if (/^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s))) {
    const t = new Date(s);
    return utc(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate());
  }
  throw new RangeError(`not a date (YYYY-MM-DD): ${JSON.stringify(s)}`);
}

/** YYYY-MM-DD of a Date's UTC day. */
export function formatDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

const addDays = (d: Date, n: number) => utc(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + n);

/** Months later, clamped to the target month's last day (Jan 31 + 1 month = Feb 28/29), as date-fns addMonths. */
const addMonths = (d: Date, n: number) => {
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + n;
  const last = utc(y, m + 1, 0).getUTCDate();
  return utc(y, m, Math.min(d.getUTCDate(), last));
};

const SHIFT: Record<UnitOfTime, (d: Date, n: number) => Date> = {
  days: addDays,
  weeks: (d, n) => addDays(d, 7 * n),
  months: addMonths,
  years: (d, n) => addMonths(d, 12 * n),
};

const quarterStart = (d: Date) => utc(d.getUTCFullYear(), d.getUTCMonth() - (d.getUTCMonth() % 3), 1);
/** ISO weeks: Monday first, so Sunday is 6 days after it. */
const weekStart = (d: Date) => addDays(d, -((d.getUTCDay() + 6) % 7));

// Typed against RELATIVE_TO: adding an anchor there without one here fails to compile.
const ANCHORS: Record<RelativeTo, (d: Date) => Date> = {
  'the beginning of the month': (d) => utc(d.getUTCFullYear(), d.getUTCMonth(), 1),
  'the beginning of the quarter': quarterStart,
  'the beginning of the week': weekStart,
  'the beginning of the year': (d) => utc(d.getUTCFullYear(), 0, 1),
  'the end of the month': (d) => utc(d.getUTCFullYear(), d.getUTCMonth() + 1, 0),
  'the end of the quarter': (d) => addDays(addMonths(quarterStart(d), 3), -1),
  'the end of the week': (d) => addDays(weekStart(d), 6),
  'the end of the year': (d) => utc(d.getUTCFullYear(), 11, 31),
  'the reference date': (d) => d,
};

// ---------------------------------------------------------------------------------------------------
// Relative dates

/**
 * The day (YYYY-MM-DD) a relative date names for a run date: the anchor (the run date itself, or the
 * beginning / end of its ISO week, month, quarter or year), then number × unit after or before it.
 * 'on' is the anchor itself. Unlike the activities' editing window, a missing or malformed part is
 * an error rather than a default: a run must not quietly bill the wrong window.
 */
export function resolveRelativeDate(rel: RelativeDateLike, runDate: string): string {
  if (rel === null || typeof rel !== 'object' || Array.isArray(rel)) throw new RelativeDateError('', 'must be a relative date object');
  const r = rel as unknown as Record<string, unknown>;
  if (typeof r.relative_to !== 'string' || !Object.hasOwn(ANCHORS, r.relative_to))
    throw new RelativeDateError('relative_to', `must be one of: ${Object.keys(ANCHORS).join(', ')}`);
  if (r.position !== 'after' && r.position !== 'before' && r.position !== 'on')
    throw new RelativeDateError('position', 'must be one of: after, before, on');
  const anchor = ANCHORS[r.relative_to as RelativeTo](parseDay(runDate));
  if (r.position === 'on') return formatDay(anchor);

  if (r.number === undefined || r.number === null) throw new RelativeDateError('number', `is required when position is ${r.position}`);
  if (typeof r.number !== 'number' || !Number.isInteger(r.number)) throw new RelativeDateError('number', 'must be a whole number');
  if (r.unit_of_time === undefined || r.unit_of_time === null)
    throw new RelativeDateError('unit_of_time', `is required when position is ${r.position}`);
  if (typeof r.unit_of_time !== 'string' || !Object.hasOwn(SHIFT, r.unit_of_time))
    throw new RelativeDateError('unit_of_time', 'must be one of: days, weeks, months, years');

  const moved = SHIFT[r.unit_of_time as UnitOfTime](anchor, r.position === 'before' ? -r.number : r.number);
  const year = moved.getUTCFullYear();
  if (Number.isNaN(year) || year < 0 || year > 9999)
    throw new RelativeDateError('number', 'moves the date past year 9999 or before year 0');
  return formatDay(moved);
}

// ---------------------------------------------------------------------------------------------------
// Template -> run

const WINDOW_KEYS = new Set(['expiration_date_range_start', 'expiration_date_range_end']);
/** Fields of the template record itself, not of the run configuration it holds. */
const TEMPLATE_ONLY = new Set(['id', 'name', 'description']);

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A deep copy with every expiration window bound resolved; `path` is the dotted path of `v`. */
function resolveDeep(v: unknown, runDate: string, path: string): unknown {
  if (Array.isArray(v)) return v.map((x, i) => resolveDeep(x, runDate, `${path}.${i}`));
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const p = path ? `${path}.${k}` : k;
    out[k] = WINDOW_KEYS.has(k) ? resolveBound(x, runDate, p) : resolveDeep(x, runDate, p);
  }
  return out;
}

function resolveBound(v: unknown, runDate: string, path: string): unknown {
  // An absolute day is kept, so resolving twice (or a hand-edited template) is harmless.
  if (typeof v === 'string') return v;
  if (!isPlainObject(v)) throw new RelativeDateError(path, 'must be a relative date object');
  try {
    return resolveRelativeDate(v as unknown as RelativeDateLike, runDate);
  } catch (e) {
    if (e instanceof RelativeDateError) throw new RelativeDateError(e.field ? `${path}.${e.field}` : path, e.reason);
    throw e;
  }
}

/**
 * A billing template's configuration as a billing run body: job flags and option blocks (and
 * notification_email) copied, every expiration_date_range_start / _end at any depth (option blocks
 * and their reminders[]) resolved to YYYY-MM-DD against the run date. The template's own id, name,
 * description and sys_* fields are left out. Blocks whose job is off are resolved and kept too: the
 * run stores what the template held, and a bad window fails now rather than when the job is turned on.
 */
export function resolveTemplateOptions(template: Record<string, any>, runDate: string): Record<string, any> {
  const out: Record<string, any> = {};
  for (const [k, v] of Object.entries(template)) {
    if (TEMPLATE_ONLY.has(k) || k.startsWith('sys_')) continue;
    out[k] = WINDOW_KEYS.has(k) ? resolveBound(v, runDate, k) : resolveDeep(v, runDate, k);
  }
  return out;
}
