// one module per function: the date-fns index loads ~250 modules at start-up
import { addDays } from 'date-fns/addDays';
import type { RecordOf } from '../../resources/kit/define.js';
import type { expirationRuleSets } from '../../resources/expirationRuleSets.js';
import { addMonths } from 'date-fns/addMonths';
import { addWeeks } from 'date-fns/addWeeks';
import { addYears } from 'date-fns/addYears';
import { format } from 'date-fns/format';
import { getDaysInMonth } from 'date-fns/getDaysInMonth';
import { lastDayOfMonth } from 'date-fns/lastDayOfMonth';

/**
 * Expiration of a certification from an expiration rule set (src/resources/expirationRuleSets.ts).
 * Pure: plain data in, plain data out; no I/O, no clock. Invalid input throws DomainError.
 *
 * Dates are handled as calendar days: a YYYY-MM-DD string becomes a local-midnight Date only to use
 * date-fns' calendar arithmetic (setDate/setMonth based, so time zones and DST never shift a day) and
 * is formatted back to YYYY-MM-DD. Time of day never matters.
 */

export type Facts = Record<string, unknown>;

export interface ExpirationResult {
  /** YYYY-MM-DD, the last day the certification is valid. */
  expiration_date: string;
  /** YYYY-MM-DD (= expiration_date when there is no grace period). */
  grace_period_end: string;
  /** YYYY-MM-DD, last day a lapsed certification may be reinstated; null when reinstatement is not allowed. */
  reinstatement_end: string | null;
  /** Name of the rule that applied (its index when unnamed), or 'default'. */
  rule: string;
}

export type ConditionScalar = string | number | boolean;
export type ConditionValue = ConditionScalar | ConditionScalar[];

/**
 * The rule sets as these rules read them: the expirationRuleSets resource's fields and their parts,
 * typed from its schema (a type-only import: no runtime dependency on the definitions).
 */
export type ExpirationRuleSetLike = RecordOf<typeof expirationRuleSets>;
export type ExpirationRuleLike = Item<ExpirationRuleSetLike['rules']>;
export type ExpirationOptionsLike = ExpirationRuleSetLike['default_expiration_options'];
export type CalendarExpirationOptionsLike = NonNullable<ExpirationOptionsLike['calendar_expiration_options']>;
export type AnniversaryExpirationOptionsLike = NonNullable<ExpirationOptionsLike['anniversary_expiration_options']>;
export type FixedExpirationDateLike = Item<AnniversaryExpirationOptionsLike['fixed_expiration_dates']>;
export type ReinstatementOptionsLike = NonNullable<ExpirationOptionsLike['reinstatement_options']>;
export type ConditionTreeLike = NonNullable<ExpirationRuleLike['matching_conditions']>;
export type ConditionLike = Item<ConditionTreeLike['all']>;
export type TermType = NonNullable<AnniversaryExpirationOptionsLike['term_type']>;
type Item<L> = NonNullable<L> extends readonly (infer T)[] ? T : never;

/** Invalid rule set or input: `field` is a dotted path into the input, `reason` says what is wrong. */
export class DomainError extends Error {
  readonly field: string;
  readonly reason: string;
  constructor(field: string, reason: string) {
    super(`${field}: ${reason}`);
    this.name = 'DomainError';
    this.field = field;
    this.reason = reason;
  }
}

// ---------------------------------------------------------------------------------------------------
// Conditions
// ---------------------------------------------------------------------------------------------------

const OPERATORS = [
  'equal',
  'notEqual',
  'lessThan',
  'lessThanInclusive',
  'greaterThan',
  'greaterThanInclusive',
  'in',
  'notIn',
  'contains',
  'doesNotContain',
] as const;
type Operator = (typeof OPERATORS)[number];

// Missing fact (absent, undefined or null, or a path that selects nothing): the positive operators are
// false, the negative ones (notEqual, notIn, doesNotContain) true.
const NEGATIVE: ReadonlySet<Operator> = new Set(['notEqual', 'notIn', 'doesNotContain']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Evaluates a json-rules-engine style tree. Decisions:
 * - `{ all }` is AND, `{ any }` is OR; a node carrying both needs both. An empty or missing tree is
 *   true, and an empty `any` list counts as absent (true), so `{ all: [], any: [] }` matches
 *   everything (unlike json-rules-engine, where `any: []` is false).
 * - A node with any of fact/operator/path/value is a condition (all of fact, operator and value are
 *   then required); if it also carries `all`/`any`, those are ANDed with it.
 * - `not` and named-condition references are not part of our language: DomainError.
 * - Operator names and value shapes are checked even when the fact is missing, so a bad rule fails
 *   regardless of the facts.
 */
export function evaluateConditions(tree: unknown, facts: Facts): boolean {
  return evalNode(tree, facts ?? {}, 'matching_conditions');
}

function evalNode(node: unknown, facts: Facts, field: string): boolean {
  if (node === undefined || node === null) return true;
  if (!isObject(node)) throw new DomainError(field, 'must be an object (a condition or an all/any group)');
  if ('not' in node) throw new DomainError(`${field}.not`, 'the "not" operator is not supported; use notEqual / notIn / doesNotContain');
  if ('condition' in node) throw new DomainError(`${field}.condition`, 'named condition references are not supported');
  // Evaluate every part (no short-circuit across parts) so that malformed parts always surface.
  let result = true;
  if (node.fact !== undefined || node.operator !== undefined || node.value !== undefined || node.path !== undefined) {
    result = evalCondition(node, facts, field) && result;
  }
  if (node.all !== undefined) {
    const items = groupItems(node.all, `${field}.all`);
    const values = items.map((item, i) => evalNode(item, facts, `${field}.all.${i}`));
    result = values.every(Boolean) && result;
  }
  if (node.any !== undefined) {
    const items = groupItems(node.any, `${field}.any`);
    const values = items.map((item, i) => evalNode(item, facts, `${field}.any.${i}`));
    result = (values.length === 0 || values.some(Boolean)) && result;
  }
  return result;
}

function groupItems(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) throw new DomainError(field, 'must be a list of conditions');
  return v;
}

function evalCondition(node: Record<string, unknown>, facts: Facts, field: string): boolean {
  const { fact, operator, path, value } = node;
  if (typeof fact !== 'string' || fact === '') throw new DomainError(`${field}.fact`, 'must be a non-empty string');
  if (typeof operator !== 'string' || !(OPERATORS as readonly string[]).includes(operator)) {
    throw new DomainError(`${field}.operator`, `unknown operator ${JSON.stringify(operator)}; expected one of ${OPERATORS.join(', ')}`);
  }
  const op = operator as Operator;
  if (path !== undefined && typeof path !== 'string') throw new DomainError(`${field}.path`, 'must be a string');
  const list = op === 'in' || op === 'notIn' ? toList(value, `${field}.value`) : undefined;
  if (value === undefined && list === undefined) throw new DomainError(`${field}.value`, 'is required');

  const factValue = Object.hasOwn(facts, fact) ? select(facts[fact], path, `${field}.path`) : undefined;
  if (factValue === undefined || factValue === null) return NEGATIVE.has(op);

  switch (op) {
    case 'equal':
      return same(factValue, value);
    case 'notEqual':
      return !same(factValue, value);
    case 'lessThan':
      return compare(factValue, value, (c) => c < 0);
    case 'lessThanInclusive':
      return compare(factValue, value, (c) => c <= 0);
    case 'greaterThan':
      return compare(factValue, value, (c) => c > 0);
    case 'greaterThanInclusive':
      return compare(factValue, value, (c) => c >= 0);
    case 'in':
      return member(factValue, list!);
    case 'notIn':
      return !member(factValue, list!);
    case 'contains':
      return contains(factValue, value) === true;
    case 'doesNotContain':
      // A fact that is neither a list nor a string cannot be searched: both contains and
      // doesNotContain are false for it (as in json-rules-engine).
      return contains(factValue, value) === false;
  }
}

/**
 * JSONPath-like selection: `$.a.b`, `a.b`, `$.items[0].id`, `items.0.id`; `$` or '' is the whole
 * value. A step through a missing key yields undefined (= missing fact).
 */
function select(value: unknown, path: string | undefined, field: string): unknown {
  if (path === undefined) return value;
  let p = path.trim();
  if (p.startsWith('$')) p = p.slice(1);
  if (p.startsWith('.')) p = p.slice(1);
  if (p === '') return value;
  const steps: string[] = [];
  for (const part of p.split('.')) {
    const m = /^([^[\]]*)((?:\[[^[\]]+\])*)$/.exec(part);
    if (!m) throw new DomainError(field, `cannot read path ${JSON.stringify(path)}`);
    if (m[1] !== '') steps.push(m[1]!);
    for (const b of m[2]!.matchAll(/\[([^[\]]+)\]/g)) steps.push(b[1]!.replace(/^['"]|['"]$/g, ''));
  }
  if (steps.some((s) => s === '')) throw new DomainError(field, `cannot read path ${JSON.stringify(path)}`);
  let cur: unknown = value;
  for (const step of steps) {
    if (Array.isArray(cur) && /^\d+$/.test(step)) cur = cur[Number(step)];
    else if (isObject(cur) && Object.hasOwn(cur, step)) cur = cur[step];
    else return undefined;
  }
  return cur;
}

/** equal: strict equality, no coercion ("5" is not 5); lists are equal when their items are, in order. */
function same(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  return a === b;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Ordering: two numbers compare numerically; two ISO date(-time) strings compare as instants
 * (date-only = UTC midnight). Anything else (mixed types, plain strings, lists) is false, never coerced.
 */
function compare(a: unknown, b: unknown, ok: (c: number) => boolean): boolean {
  if (typeof a === 'number' && typeof b === 'number') return !Number.isNaN(a) && !Number.isNaN(b) && ok(a - b);
  if (typeof a === 'string' && typeof b === 'string' && ISO_DATE.test(a) && ISO_DATE.test(b)) {
    const x = Date.parse(a);
    const y = Date.parse(b);
    return !Number.isNaN(x) && !Number.isNaN(y) && ok(x - y);
  }
  return false;
}

interface List {
  items: unknown[];
  /** Items came from a comma-separated string, so they are all strings. */
  fromText: boolean;
}

/**
 * in / notIn value: a list; a string holding a JSON array (starts with '['); or a comma-separated
 * list (items trimmed, empty items dropped; a string without commas is a one-item list). Anything
 * else is a DomainError.
 */
function toList(value: unknown, field: string): List {
  if (Array.isArray(value)) return { items: value, fromText: false };
  if (typeof value === 'string') {
    const t = value.trim();
    if (t.startsWith('[')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(t);
      } catch {
        throw new DomainError(field, 'looks like a JSON array but does not parse');
      }
      if (!Array.isArray(parsed)) throw new DomainError(field, 'looks like a JSON array but does not parse');
      return { items: parsed, fromText: false };
    }
    return {
      items: t
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
      fromText: true,
    };
  }
  throw new DomainError(field, 'in / notIn need a list, a JSON-array string or a comma-separated string');
}

/** Membership uses `same`; items of a comma-separated string also match a number or boolean fact by its text (5 ~ "5"). */
function member(fact: unknown, list: List): boolean {
  return list.items.some(
    (item) => same(fact, item) || (list.fromText && (typeof fact === 'number' || typeof fact === 'boolean') && String(fact) === item),
  );
}

/** contains: a list fact holds the value (same), or a string fact has the string value as a substring; undefined when the fact cannot be searched. */
function contains(fact: unknown, value: unknown): boolean | undefined {
  if (Array.isArray(fact)) return fact.some((x) => same(x, value));
  if (typeof fact === 'string') return typeof value === 'string' ? fact.includes(value) : false;
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Rule selection
// ---------------------------------------------------------------------------------------------------

interface Picked {
  options: ExpirationOptionsLike;
  rule: string;
  /** Where the options live, for error fields. */
  field: string;
}

/**
 * Rules are evaluated in array order; the first with is_enabled !== false whose matching_conditions
 * hold supplies the options (its name, or its index as a string when unnamed); otherwise
 * default_expiration_options ('default'). A matching rule without expiration_options is an error, not
 * skipped (skipping would silently change which options apply). is_active of the set is the caller's
 * concern and is not checked here. Conditions of disabled rules are not evaluated.
 */
export function selectOptions(ruleSet: ExpirationRuleSetLike, facts: Facts): { options: ExpirationOptionsLike; rule: string } {
  const { options, rule } = pick(ruleSet, facts);
  return { options, rule };
}

function pick(ruleSet: ExpirationRuleSetLike, facts: Facts): Picked {
  if (!isObject(ruleSet)) throw new DomainError('expiration_rule_set', 'must be an object');
  const rules: unknown = ruleSet.rules;
  if (rules !== undefined && rules !== null && !Array.isArray(rules)) throw new DomainError('rules', 'must be a list');
  for (const [i, r] of ((rules as unknown[] | null | undefined) ?? []).entries()) {
    const field = `rules.${i}`;
    if (!isObject(r)) throw new DomainError(field, 'must be an object');
    if (r.is_enabled === false) continue;
    if (!evalNode(r.matching_conditions, facts ?? {}, `${field}.matching_conditions`)) continue;
    const name = typeof r.name === 'string' && r.name !== '' ? r.name : String(i);
    if (!isObject(r.expiration_options))
      throw new DomainError(`${field}.expiration_options`, 'the rule matched but has no expiration options');
    return { options: r.expiration_options as ExpirationOptionsLike, rule: name, field: `${field}.expiration_options` };
  }
  if (!isObject(ruleSet.default_expiration_options)) {
    throw new DomainError('default_expiration_options', 'no rule matched and the rule set has no default expiration options');
  }
  return { options: ruleSet.default_expiration_options, rule: 'default', field: 'default_expiration_options' };
}

// ---------------------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------------------

interface Ymd {
  y: number;
  m: number; // 1..12
  d: number;
}

const toDate = ({ y, m, d }: Ymd): Date => {
  const dt = new Date(2000, m - 1, d);
  dt.setFullYear(y); // years 0..99 would otherwise map to 1900..1999
  return dt;
};
const fmt = (d: Date): string => format(d, 'yyyy-MM-dd');
const daysIn = (y: number, m: number): number => getDaysInMonth(toDate({ y, m, d: 1 }));
/** A day that may not exist in that year (Feb 29) is clamped to the month's last day. */
const clampDay = (y: number, m: number, d: number): Date => toDate({ y, m, d: Math.min(d, daysIn(y, m)) });

/** Strict YYYY-MM-DD that names a real day (no time part, no rollover: 2023-02-29 is invalid). */
function parseDate(s: unknown, field: string): Ymd {
  const m = typeof s === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(s) : null;
  if (!m) throw new DomainError(field, `must be a date (YYYY-MM-DD), got ${JSON.stringify(s)}`);
  const ymd = { y: Number(m[1]), m: Number(m[2]), d: Number(m[3]) };
  if (ymd.m < 1 || ymd.m > 12 || ymd.d < 1 || ymd.d > daysIn(ymd.y, ymd.m)) {
    throw new DomainError(field, `is not a real day: ${JSON.stringify(s)}`);
  }
  return ymd;
}

/** MM-DD (any year, so 02-29 is allowed) or YYYY-MM-DD. */
type DayRef = { kind: 'full'; date: Ymd } | { kind: 'monthDay'; m: number; d: number };

function parseDayRef(s: unknown, field: string): DayRef {
  if (typeof s === 'string') {
    const md = /^(\d{2})-(\d{2})$/.exec(s);
    if (md) {
      const m = Number(md[1]);
      const d = Number(md[2]);
      if (m < 1 || m > 12 || d < 1 || d > daysIn(2000, m)) throw new DomainError(field, `is not a real month-day: ${JSON.stringify(s)}`);
      return { kind: 'monthDay', m, d };
    }
    if (/^\d{4}-\d{2}-\d{2}$/.test(s)) return { kind: 'full', date: parseDate(s, field) };
  }
  throw new DomainError(field, `must be MM-DD or YYYY-MM-DD, got ${JSON.stringify(s)}`);
}

/** MM-DD resolves to that day of the given year (Feb 29 → Feb 28 in common years); a full date is itself. */
const resolveIn = (ref: DayRef, year: number): Date => (ref.kind === 'full' ? toDate(ref.date) : clampDay(year, ref.m, ref.d));

function optionalInt(v: unknown, field: string, dflt: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new DomainError(
      field,
      `must be a whole number${max === Number.MAX_SAFE_INTEGER ? ` ≥ ${min}` : ` from ${min} to ${max}`}, got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

function optionsBlock(v: unknown, field: string): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw new DomainError(field, 'must be an object');
  return v;
}

function optionalBool(v: unknown, field: string): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new DomainError(field, 'must be true or false');
  return v;
}

// ---------------------------------------------------------------------------------------------------
// Calendar
// ---------------------------------------------------------------------------------------------------

/**
 * Calendar terms. A calendar year is named by the civil year in which it starts: with
 * start_of_calendar_year = 7, calendar year 2024 runs 2024-07-01..2025-06-30.
 * - The term covers number_of_years (default 1, whole number ≥ 1) calendar years starting with the one
 *   that contains the start date; expiration = the day before the calendar year after the term.
 * - sell_for_next_year_after: "MM-DD" or "YYYY-MM-DD" (only month and day used; the year is ignored).
 *   The cut-off is that month-day inside the start date's calendar year (so with a July year, "03-01"
 *   is March of the following civil year); a start ON or after it counts the term from the next
 *   calendar year. A 02-29 cut-off in a common year is Feb 28. Absent/empty = no cut-off.
 */
function calendarExpiration(start: Ymd, raw: unknown, field: string): Date {
  const o = optionsBlock(raw, field);
  const s = optionalInt(o.start_of_calendar_year, `${field}.start_of_calendar_year`, 1, 1, 12);
  const years = optionalInt(o.number_of_years, `${field}.number_of_years`, 1, 1);
  let year = start.m >= s ? start.y : start.y - 1;
  const cut = o.sell_for_next_year_after;
  if (cut !== undefined && cut !== null && cut !== '') {
    const ref = parseDayRef(cut, `${field}.sell_for_next_year_after`);
    const m = ref.kind === 'full' ? ref.date.m : ref.m;
    const d = ref.kind === 'full' ? ref.date.d : ref.d;
    const cutoff = clampDay(m >= s ? year : year + 1, m, d);
    if (toDate(start) >= cutoff) year += 1;
  }
  return addDays(toDate({ y: year + years, m: s, d: 1 }), -1);
}

// ---------------------------------------------------------------------------------------------------
// Anniversary
// ---------------------------------------------------------------------------------------------------

const TERM_TYPES: readonly TermType[] = ['days', 'weeks', 'months', 'quarters', 'years'];

/**
 * Anniversary terms.
 * - term_length defaults to 1 and term_type to 'years' (as calendar's number_of_years defaults to 1);
 *   term_length must be a whole number ≥ 1; quarters = 3 months.
 * - sell_for_next_month_after = D (null/absent = never; whole number 0..31): a start whose day of month
 *   is after D starts the term on the 1st of the next month.
 * - Month/year arithmetic clamps (date-fns): Jan 31 + 1 month = Feb 28/29, Feb 29 + 1 year = Feb 28.
 *   The last day is term start + term − 1 day (so Jan 31 + 1 month expires Feb 27 in common years,
 *   Feb 28 in leap years).
 * - allow_mid_month_expirations false/absent moves that last day to the end of its month, for every
 *   term_type (days and weeks included).
 * - Fixed expiration dates (when enable_fixed_expiration_dates is true) are matched against the
 *   original start date (before any next-month shift); the first entry whose range holds it wins and its
 *   date is used as is (no end-of-month move). Every entry is validated, matched or not. Ranges are
 *   inclusive; MM-DD bounds resolve in the start date's year, and a range whose MM-DD bounds are both
 *   MM-DD and inverted (11-01..01-31) wraps the year end; an inverted range with a full date is a
 *   DomainError. An MM-DD expiration is its first occurrence on or after the start date; a full-date
 *   expiration before the start date is a DomainError. No entry matching = the term computation.
 */
function anniversaryExpiration(start: Ymd, raw: unknown, field: string): Date {
  const o = optionsBlock(raw, field);
  const startDate = toDate(start);

  if (optionalBool(o.enable_fixed_expiration_dates, `${field}.enable_fixed_expiration_dates`)) {
    const fixed = fixedExpiration(start, o.fixed_expiration_dates, `${field}.fixed_expiration_dates`);
    if (fixed) return fixed;
  }

  const length = optionalInt(o.term_length, `${field}.term_length`, 1, 1);
  const type = o.term_type ?? 'years';
  if (typeof type !== 'string' || !(TERM_TYPES as readonly string[]).includes(type)) {
    throw new DomainError(`${field}.term_type`, `must be one of ${TERM_TYPES.join(', ')}, got ${JSON.stringify(type)}`);
  }
  const sellAfter = optionalInt(o.sell_for_next_month_after, `${field}.sell_for_next_month_after`, Number.POSITIVE_INFINITY, 0, 31);
  const midMonth = optionalBool(o.allow_mid_month_expirations, `${field}.allow_mid_month_expirations`);

  const termStart = start.d > sellAfter ? toDate({ y: start.m === 12 ? start.y + 1 : start.y, m: (start.m % 12) + 1, d: 1 }) : startDate;
  const termEnd = addTerm(termStart, length, type as TermType);
  const last = addDays(termEnd, -1);
  return midMonth ? last : lastDayOfMonth(last);
}

function addTerm(d: Date, n: number, type: TermType): Date {
  switch (type) {
    case 'days':
      return addDays(d, n);
    case 'weeks':
      return addWeeks(d, n);
    case 'months':
      return addMonths(d, n);
    case 'quarters':
      return addMonths(d, 3 * n);
    case 'years':
      return addYears(d, n);
  }
}

function fixedExpiration(start: Ymd, raw: unknown, field: string): Date | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) throw new DomainError(field, 'must be a list');
  const startDate = toDate(start);
  let found: Date | undefined;
  raw.forEach((entry: unknown, i) => {
    const f = `${field}.${i}`;
    if (!isObject(entry)) throw new DomainError(f, 'must be an object');
    const from = parseDayRef(entry.range_start, `${f}.range_start`);
    const to = parseDayRef(entry.range_end, `${f}.range_end`);
    const exp = parseDayRef(entry.expiration_date, `${f}.expiration_date`);
    const lo = resolveIn(from, start.y);
    const hi = resolveIn(to, start.y);
    let inRange: boolean;
    if (lo <= hi) inRange = startDate >= lo && startDate <= hi;
    else if (from.kind === 'monthDay' && to.kind === 'monthDay') inRange = startDate >= lo || startDate <= hi;
    else throw new DomainError(f, 'range_start is after range_end');
    if (!inRange || found) return;
    if (exp.kind === 'full') {
      const d = toDate(exp.date);
      if (d < startDate) throw new DomainError(`${f}.expiration_date`, 'is before the start date');
      found = d;
    } else {
      const d = resolveIn(exp, start.y);
      found = d >= startDate ? d : resolveIn(exp, start.y + 1);
    }
  });
  return found;
}

// ---------------------------------------------------------------------------------------------------
// Entry point
// ---------------------------------------------------------------------------------------------------

/**
 * Computes the expiration of a certification starting on startDate (YYYY-MM-DD, strict).
 * - expiration_type is required and must be 'calendar' or 'anniversary' (no inference from which
 *   options block is present).
 * - grace_period: whole days ≥ 0 after the expiration (default 0).
 * - Reinstatement: when allow_reinstatement is true, reinstatement_end = grace_period_end +
 *   reinstatement_options.reinstatement_period whole days ≥ 0 (default 0); otherwise null (the period
 *   is then not validated). Programme-level default_reinstatement_period is not consulted here.
 */
export function computeExpiration(ruleSet: ExpirationRuleSetLike, startDate: string, facts: Facts): ExpirationResult {
  const start = parseDate(startDate, 'start_date');
  const { options, rule, field } = pick(ruleSet, facts);

  let expiration: Date;
  switch (options.expiration_type as unknown) {
    case 'calendar':
      expiration = calendarExpiration(start, options.calendar_expiration_options, `${field}.calendar_expiration_options`);
      break;
    case 'anniversary':
      expiration = anniversaryExpiration(start, options.anniversary_expiration_options, `${field}.anniversary_expiration_options`);
      break;
    default:
      throw new DomainError(
        `${field}.expiration_type`,
        `must be "calendar" or "anniversary", got ${JSON.stringify(options.expiration_type)}`,
      );
  }

  const grace = optionalInt(options.grace_period, `${field}.grace_period`, 0, 0);
  const graceEnd = addDays(expiration, grace);
  let reinstatementEnd: string | null = null;
  if (optionalBool(options.allow_reinstatement, `${field}.allow_reinstatement`)) {
    const ro = optionsBlock(options.reinstatement_options, `${field}.reinstatement_options`);
    const period = optionalInt(ro.reinstatement_period, `${field}.reinstatement_options.reinstatement_period`, 0, 0);
    reinstatementEnd = fmt(addDays(graceEnd, period));
  }
  return { expiration_date: fmt(expiration), grace_period_end: fmt(graceEnd), reinstatement_end: reinstatementEnd, rule };
}
