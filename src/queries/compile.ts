import type { Expression, RawBuilder, SqlBool } from 'kysely';
import { invalid, type FieldError } from '../core/errors.js';
import type { DialectName } from '../store/store.js';
import { criteriaSql, sortSql, type Bound, type Condition, type CriteriaNode } from '../store/querySql.js';
import { OPERATORS, type FieldSpec, type Operator, type QueryType } from './definitions.js';

/**
 * The query compiler: criteria, sort and output fields of a saved query, checked against the query
 * definition -> a checked criteria tree and sort, which store/querySql.ts renders as SQL over the
 * resource's table (every value and JSON path a bound parameter; the only names written into the SQL
 * are the table's own columns, taken from the definition, never from the request). What the request
 * names is looked up in the query definition first: an unknown field, operator or ill-typed value is
 * a 400 naming where it is (`criteria.all.1.value`). Nothing here writes SQL.
 *
 * Criteria: `{ all?: Node[], any?: Node[] }`, a Node being such a group or a condition
 * `{ field, operator, value? }`. `all` is AND, `any` is OR, a group with both is (all) AND (any), and an
 * empty group matches every record (a query builder's empty group adds nothing).
 *
 * Semantics, the same on SQLite and PostgreSQL:
 * - a missing field is empty: it equals nothing, is in no list, compares to nothing, and the negative
 *   operators (not_equals, not_contains, not_in) do match it;
 * - contains / starts_with / ends_with on strings are case-insensitive, with `%` `_` `\` in the value
 *   matched literally; on an array field contains means "has this item" (exact);
 * - equals on strings is exact (case-sensitive; it uses the index of an extracted column);
 * - a date-time value is compared as an instant (normalized to UTC); a bare date (YYYY-MM-DD) given for a
 *   date-time field means that whole UTC day (equals = within it, greater_than = after it, …);
 * - strings order by code point (PostgreSQL is told COLLATE "C", which SQLite does by default).
 */
export const MAX_DEPTH = 10;
export const MAX_CONDITIONS = 200;
export const MAX_LIST = 1000;
export const MAX_STRING = 1000;
export const MAX_SORT_FIELDS = 10;
export const MAX_OUTPUT_FIELDS = 200;

export type Criteria = { all?: unknown[]; any?: unknown[] };
export type SortDirection = 'asc' | 'desc';
export interface SortField {
  field: string;
  direction: SortDirection;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const MATCH_ALL: CriteriaNode = { and: [] };

// ---- values ----------------------------------------------------------------------------------------

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME_RE = /^\d{4}-\d{2}-\d{2}[tT ]\d{2}:\d{2}:\d{2}(\.\d+)?([zZ]|[+-]\d{2}(:?\d{2})?)$/;

function isCalendarDate(s: string): boolean {
  if (!DATE_RE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/**
 * A checked value as the interval it stands for: [lo, hi] as compared (lo = hi except for a bare date
 * given for a date-time field: the whole UTC day). A value that does not fit the field's type throws
 * a ValueError with the reason (its `cause`: the index inside an array value).
 */

class ValueError extends Error {}

function scalarValue(f: FieldSpec, type: FieldSpec['type'] | 'object', v: unknown, checkEnum: boolean): Bound {
  const one = (x: unknown): Bound => ({ lo: x, hi: x });
  switch (type) {
    case 'string': {
      if (typeof v !== 'string') throw new ValueError('must be a string');
      if (v.length > MAX_STRING) throw new ValueError(`must be at most ${MAX_STRING} characters`);
      if (checkEnum && f.enum && !f.enum.includes(v))
        throw new ValueError(`must be one of: ${f.enum.map((e) => JSON.stringify(e)).join(', ')}`);
      return one(v);
    }
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValueError('must be a number');
      return one(v);
    case 'integer':
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new ValueError('must be an integer');
      return one(v);
    case 'boolean':
      if (typeof v !== 'boolean') throw new ValueError('must be true or false');
      return one(v);
    case 'date':
      if (typeof v !== 'string' || !isCalendarDate(v)) throw new ValueError('must be a date (YYYY-MM-DD)');
      return one(v);
    case 'date-time': {
      if (typeof v === 'string' && isCalendarDate(v)) return { lo: `${v}T00:00:00.000Z`, hi: `${v}T23:59:59.999Z` };
      // the forms the schema's date-time format accepts, written as Date.parse reads them
      const iso =
        typeof v === 'string' && DATE_TIME_RE.test(v)
          ? v
              .toUpperCase()
              .replace(' ', 'T')
              .replace(/([+-]\d{2})(\d{2})?$/, (_m, h: string, m?: string) => `${h}:${m ?? '00'}`)
          : '';
      const t = iso ? Date.parse(iso) : NaN;
      if (Number.isNaN(t))
        throw new ValueError('must be a date-time with a time zone (2025-03-01T12:00:00Z) or a date (YYYY-MM-DD: that whole UTC day)');
      return one(new Date(t).toISOString());
    }
    default:
      throw new ValueError('cannot be compared');
  }
}

// ---- criteria --------------------------------------------------------------------------------------

interface State {
  qt: QueryType;
  errors: FieldError[];
  conditions: number;
}

/** A LIKE pattern, lower-case, `%` `_` `\` matched literally (escaped with `\`). */
const likePattern = (s: string, prefix: boolean, suffix: boolean) =>
  `${prefix ? '%' : ''}${s.toLowerCase().replace(/[\\%_]/g, (m) => `\\${m}`)}${suffix ? '%' : ''}`;

function group(st: State, node: Record<string, unknown>, at: string, depth: number): CriteriaNode | undefined {
  if (depth > MAX_DEPTH) {
    st.errors.push({ field: at, reason: `is nested more than ${MAX_DEPTH} groups deep` });
    return undefined;
  }
  const parts: CriteriaNode[] = [];
  for (const key of Object.keys(node)) {
    if (key !== 'all' && key !== 'any')
      st.errors.push({ field: `${at}.${key}`.replace(/^\./, ''), reason: 'is not a known member of a criteria group (all, any)' });
  }
  for (const key of ['all', 'any'] as const) {
    const list = node[key];
    if (list === undefined) continue;
    const where = at ? `${at}.${key}` : key;
    if (!Array.isArray(list)) {
      st.errors.push({ field: where, reason: 'must be an array of conditions and groups' });
      continue;
    }
    const compiled: CriteriaNode[] = [];
    list.forEach((item, i) => {
      const c = nodeOf(st, item, `${where}.${i}`, depth);
      if (c) compiled.push(c);
    });
    if (compiled.length) parts.push(key === 'all' ? { and: compiled } : { or: compiled });
  }
  return { and: parts };
}

function nodeOf(st: State, item: unknown, at: string, depth: number): CriteriaNode | undefined {
  if (!isObject(item)) {
    st.errors.push({ field: at, reason: 'must be a condition { field, operator, value } or a group { all | any }' });
    return undefined;
  }
  if ('field' in item || 'operator' in item) return condition(st, item, at);
  if ('all' in item || 'any' in item) return group(st, item, at, depth + 1);
  st.errors.push({ field: at, reason: 'must be a condition { field, operator, value } or a group { all | any }' });
  return undefined;
}

function condition(st: State, c: Record<string, unknown>, at: string): Condition | undefined {
  if (++st.conditions > MAX_CONDITIONS) {
    if (st.conditions === MAX_CONDITIONS + 1)
      st.errors.push({ field: at, reason: `is one condition too many (at most ${MAX_CONDITIONS} in a query)` });
    return undefined;
  }
  const extra = Object.keys(c).find((k) => k !== 'field' && k !== 'operator' && k !== 'value');
  if (extra !== undefined) {
    st.errors.push({ field: `${at}.${extra}`, reason: 'is not a known member of a condition (field, operator, value)' });
    return undefined;
  }
  const { qt } = st;
  const name = c.field;
  const f = typeof name === 'string' ? qt.fields.get(name) : undefined;
  if (!f) {
    st.errors.push({
      field: `${at}.field`,
      reason:
        typeof name === 'string'
          ? `names no field of ${qt.definition.id} (see GET /queryDefinitions/{tenantId}/${qt.definition.id})`
          : 'is required (a field name)',
    });
    return undefined;
  }
  const op = c.operator;
  if (typeof op !== 'string' || !(OPERATORS as readonly string[]).includes(op)) {
    st.errors.push({
      field: `${at}.operator`,
      reason: typeof op === 'string' ? `is not an operator (one of: ${OPERATORS.join(', ')})` : 'is required (an operator)',
    });
    return undefined;
  }
  if (!f.operators.includes(op as Operator)) {
    st.errors.push({
      field: `${at}.operator`,
      reason: `does not apply to ${f.name} (a${f.type === 'array' || f.type === 'object' || f.type === 'integer' ? 'n' : ''} ${f.type}${f.item_type ? ` of ${f.item_type}` : ''}; use one of: ${f.operators.join(', ')})`,
    });
    return undefined;
  }
  try {
    return check(f, op as Operator, c);
  } catch (e) {
    if (!(e instanceof ValueError)) throw e;
    st.errors.push({ field: e.cause !== undefined ? `${at}.value.${String(e.cause)}` : `${at}.value`, reason: e.message });
    return undefined;
  }
}

/** One condition, its value checked against the field: what store/querySql.ts renders. */
function check(f: FieldSpec, op: Operator, c: Record<string, unknown>): Condition {
  const hasValue = Object.hasOwn(c, 'value');
  const value = c.value;
  if ((op === 'is_empty' || op === 'is_not_empty') && hasValue && value !== null) {
    throw new ValueError(`must be left out (${op} takes no value)`);
  }
  if (op !== 'is_empty' && op !== 'is_not_empty' && !hasValue) throw new ValueError('is required');

  const itemOf = (x: unknown, i?: number) => {
    try {
      return scalarValue(f, f.type === 'array' ? (f.item_type ?? 'object') : f.type, x, true);
    } catch (e) {
      if (e instanceof ValueError && i !== undefined) throw new ValueError(e.message, { cause: i });
      throw e;
    }
  };
  const field = f;

  if (f.type === 'array' || f.type === 'object') {
    if (op === 'is_empty' || op === 'is_not_empty') return { field, op };
    // contains / not_contains: the array has the value as one of its items (exact)
    return { field, op: op === 'contains' ? 'has' : 'has_not', item: itemOf(value).lo };
  }

  switch (op) {
    case 'is_empty':
    case 'is_not_empty':
      return { field, op };
    case 'equals':
    case 'not_equals':
      return { field, op, value: itemOf(value) };
    case 'contains':
    case 'not_contains':
    case 'starts_with':
    case 'ends_with': {
      // free text: any string, even on an enum field (contains "act" on a status)
      const s = scalarValue(f, 'string', value, false).lo as string;
      return { field, op: op === 'not_contains' ? 'not_like' : 'like', pattern: likePattern(s, op !== 'starts_with', op !== 'ends_with') };
    }
    case 'greater_than':
      return { field, op: '>', value: scalarValue(f, f.type, value, false).hi };
    case 'greater_than_or_equal':
      return { field, op: '>=', value: scalarValue(f, f.type, value, false).lo };
    case 'less_than':
      return { field, op: '<', value: scalarValue(f, f.type, value, false).lo };
    case 'less_than_or_equal':
      return { field, op: '<=', value: scalarValue(f, f.type, value, false).hi };
    case 'between': {
      if (!Array.isArray(value) || value.length !== 2) throw new ValueError('must be [from, to] (two values, both included)');
      const bound = (i: 0 | 1) => {
        try {
          return scalarValue(f, f.type, value[i], false);
        } catch (e) {
          throw e instanceof ValueError ? new ValueError(e.message, { cause: i }) : e;
        }
      };
      const from = bound(0);
      const to = bound(1);
      if (f.type !== 'string' && f.type !== 'boolean' && (from.lo as number | string) > (to.hi as number | string)) {
        throw new ValueError('must be [from, to] with from not after to');
      }
      return { field, op, from: from.lo, to: to.hi };
    }
    case 'in':
    case 'not_in': {
      if (!Array.isArray(value) || value.length === 0) throw new ValueError('must be a non-empty array of values');
      if (value.length > MAX_LIST) throw new ValueError(`must have at most ${MAX_LIST} values`);
      return { field, op, values: value.map((x, i) => itemOf(x, i)) };
    }
  }
  throw new ValueError(`cannot be compared`); // unreachable: every operator is handled above
}

/**
 * Criteria -> a checked criteria tree. No criteria (undefined / null / {}) matches every record.
 * Throws a 400 naming every problem found (at most 20).
 */
export function checkCriteria(qt: QueryType, criteria: unknown, at = 'criteria'): CriteriaNode {
  if (criteria === undefined || criteria === null) return MATCH_ALL;
  if (!isObject(criteria)) throw invalid([{ field: at, reason: 'must be an object { all?: [...], any?: [...] }' }]);
  const st: State = { qt, errors: [], conditions: 0 };
  const out = group(st, criteria, at, 1);
  if (st.errors.length) throw invalid(st.errors.slice(0, 20));
  return out ?? MATCH_ALL;
}

/**
 * Criteria -> a boolean SQL expression over the definition's table (alias-free: columns are qualified
 * with the table name). No criteria (undefined / null / {}) matches every record. Throws a 400 naming
 * every problem found (at most 20).
 */
export function compileCriteria(qt: QueryType, criteria: unknown, dialect: DialectName, at = 'criteria'): Expression<SqlBool> {
  return criteriaSql(qt.table.name, checkCriteria(qt, criteria, at), dialect);
}

// ---- sort and output -------------------------------------------------------------------------------

/**
 * sort_fields: each `'field'`, `'-field'` (descending) or `{ field, direction }`; at most 10, each once,
 * arrays and objects excluded. The order always ends with id (unique), so equal keys keep one order
 * from run to run and from the count to the download.
 */
export function checkSort(qt: QueryType, sortFields: unknown, at = 'sort_fields'): SortField[] {
  const raw = sortFields === undefined || sortFields === null ? qt.definition.default_sort_fields : sortFields;
  if (!Array.isArray(raw))
    throw invalid([{ field: at, reason: 'must be an array of field names ("name", "-name") or { field, direction }' }]);
  if (raw.length > MAX_SORT_FIELDS) throw invalid([{ field: at, reason: `must have at most ${MAX_SORT_FIELDS} fields` }]);
  const out: SortField[] = [];
  const errors: FieldError[] = [];
  raw.forEach((s, i) => {
    let field: unknown;
    let direction: unknown = 'asc';
    if (typeof s === 'string') {
      field = s.startsWith('-') ? s.slice(1) : s;
      direction = s.startsWith('-') ? 'desc' : 'asc';
    } else if (isObject(s)) {
      const extra = Object.keys(s).find((k) => k !== 'field' && k !== 'direction');
      if (extra) return errors.push({ field: `${at}.${i}.${extra}`, reason: 'is not a known member (field, direction)' });
      field = s.field;
      direction = s.direction ?? 'asc';
    } else return errors.push({ field: `${at}.${i}`, reason: 'must be a field name ("name", "-name") or { field, direction }' });
    const f = typeof field === 'string' ? qt.fields.get(field) : undefined;
    if (!f)
      return errors.push({
        field: `${at}.${i}`,
        reason: typeof field === 'string' ? `names no field of ${qt.definition.id}` : 'must name a field',
      });
    if (!f.sortable)
      return errors.push({
        field: `${at}.${i}`,
        reason: `${f.name} is ${f.type === 'array' ? 'an array' : 'an object'}: it cannot be sorted on`,
      });
    if (direction !== 'asc' && direction !== 'desc')
      return errors.push({ field: `${at}.${i}.direction`, reason: 'must be "asc" or "desc"' });
    if (out.some((o) => o.field === f.name)) return errors.push({ field: `${at}.${i}`, reason: `sorts on ${f.name} twice` });
    out.push({ field: f.name, direction });
  });
  if (errors.length) throw invalid(errors.slice(0, 20));
  if (!out.some((o) => o.field === 'id')) out.push({ field: 'id', direction: 'asc' });
  return out;
}

/** The ORDER BY items of a checked sort (store/querySql.ts). */
export function compileSort(qt: QueryType, sort: SortField[], dialect: DialectName): RawBuilder<unknown>[] {
  return sortSql(
    qt.table.name,
    sort.map(({ field, direction }) => ({ field: qt.fields.get(field)!, direction })),
    dialect,
  );
}

/** output_fields: names of fields (at most 200, each once); default: the definition's default output. */
export function checkOutputFields(qt: QueryType, outputFields: unknown, at = 'output_fields'): FieldSpec[] {
  const raw = outputFields === undefined || outputFields === null ? qt.definition.default_output_fields : outputFields;
  if (!Array.isArray(raw) || raw.length === 0) throw invalid([{ field: at, reason: 'must be a non-empty array of field names' }]);
  if (raw.length > MAX_OUTPUT_FIELDS) throw invalid([{ field: at, reason: `must have at most ${MAX_OUTPUT_FIELDS} fields` }]);
  const errors: FieldError[] = [];
  const out: FieldSpec[] = [];
  raw.forEach((name, i) => {
    const f = typeof name === 'string' ? qt.fields.get(name) : undefined;
    if (!f)
      errors.push({
        field: `${at}.${i}`,
        reason: typeof name === 'string' ? `names no field of ${qt.definition.id}` : 'must be a field name',
      });
    else if (out.includes(f)) errors.push({ field: `${at}.${i}`, reason: `names ${f.name} twice` });
    else out.push(f);
  });
  if (errors.length) throw invalid(errors.slice(0, 20));
  return out;
}
