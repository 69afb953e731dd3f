import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely';
import type { DialectName } from './store.js';

/**
 * The SQL of saved queries: a checked criteria tree (queries/compile.ts checks the request against
 * the query definition and builds it) and a checked sort, rendered for the resource's table. Built
 * only with Kysely's `sql` template, so every value (and every JSON path) is a bound parameter; the
 * only names written into the SQL are the table's own columns, taken from the definition, never from
 * the request.
 *
 * Semantics, the same on SQLite and PostgreSQL (queries/compile.ts lists them in full):
 * - a missing field is empty: it equals nothing, is in no list, compares to nothing; the negative
 *   conditions (not_equals, not_like, not_in) match it;
 * - `like` is case-insensitive, its pattern lower-case with `\` escaping `%` `_` `\`;
 * - a date-time is compared as UTC ISO text; strings order by code point (COLLATE "C" on PostgreSQL).
 */

/** How a field is read: the query definition's field (queries/definitions.ts FieldSpec) as the SQL needs it. */
export interface SqlField {
  path: string[];
  type: 'string' | 'number' | 'integer' | 'boolean' | 'date' | 'date-time' | 'array' | 'object';
  /** Its SQL column when it has one (id, sys_version, an extracted f_* column); else read from `data`. */
  column?: { name: string };
  /** Written by the server only: date-times already canonical. */
  serverWritten?: boolean;
}

/** A value as an interval: lo = hi, except a bare date given for a date-time field (that whole UTC day). */
export interface Bound {
  lo: unknown;
  hi: unknown;
}

/** One checked condition; values are plain JSON values (booleans as booleans, date-times as UTC ISO text). */
export type Condition = { field: SqlField } & (
  | { op: 'is_empty' | 'is_not_empty' }
  /** an array field has (or has not) this item */
  | { op: 'has' | 'has_not'; item: unknown }
  | { op: 'equals' | 'not_equals'; value: Bound }
  | { op: 'like' | 'not_like'; pattern: string }
  | { op: '>' | '>=' | '<' | '<='; value: unknown }
  /** both ends included */
  | { op: 'between'; from: unknown; to: unknown }
  | { op: 'in' | 'not_in'; values: Bound[] }
);

/** A criteria tree: AND / OR of conditions and trees. An empty AND matches every record. */
export type CriteriaNode = { and: CriteriaNode[] } | { or: CriteriaNode[] } | Condition;

export interface SortItem {
  field: SqlField;
  direction: 'asc' | 'desc';
}

const TRUE = sql<SqlBool>`1 = 1`;
const FALSE = sql<SqlBool>`1 = 0`;
const LIKE_ESCAPE = sql`escape '\\'`;

/** `$."a"."b"`: the SQLite JSON path of a field, bound as a parameter (keys quoted, so any key works). */
const sqlitePath = (path: string[]) => `$.${path.map((k) => `"${k.replace(/["\\]/g, (m) => `\\${m}`)}"`).join('.')}`;
/** `ARRAY[$1, $2]::text[]`: the PostgreSQL path of a field, each key a bound parameter. */
const pgPath = (path: string[]) => sql`ARRAY[${sql.join(path.map((k) => sql`${k}`))}]::text[]`;
/** A date-time as PostgreSQL may cast it (what the schema's date-time format accepts). */
const PG_DATE_TIME_RE = '^\\d{4}-\\d{2}-\\d{2}[tT ]\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?([zZ]|[+-]\\d{2}(:?\\d{2})?)$';

export interface Access {
  /** The field's value, typed for comparisons (numbers, booleans; date-times as UTC ISO text). */
  value: RawBuilder<unknown>;
  /** The stored JSON of the field as text (arrays, objects), SQL NULL when absent. */
  json: RawBuilder<unknown>;
}

/** SQL reading a field of the record: its column when there is one, else from the JSON of `data`. */
export function access(table: string, f: SqlField, dialect: DialectName): Access {
  const data = sql.ref(`${table}.data`);
  if (f.column) {
    const col = sql.ref(`${table}.${f.column.name}`);
    return { value: col, json: col };
  }
  if (dialect === 'sqlite') {
    const raw = sql`json_extract(${data}, ${sqlitePath(f.path)})`;
    // json_extract gives numbers as numbers and booleans as 1 / 0 (compared with 1 / 0 below)
    if (f.type === 'date-time' && !f.serverWritten) return { value: sql`strftime('%Y-%m-%dT%H:%M:%fZ', ${raw})`, json: raw };
    return { value: raw, json: raw };
  }
  const text = sql`(${data} #>> ${pgPath(f.path)})`;
  const typed = (jsonType: string, cast: RawBuilder<unknown>) =>
    // a value of another JSON type reads as NULL instead of failing the whole query on a bad cast
    sql`(case when jsonb_typeof(${data} #> ${pgPath(f.path)}) = ${jsonType} then ${cast} end)`;
  switch (f.type) {
    case 'number':
    case 'integer':
      return { value: typed('number', sql`${text}::double precision`), json: text };
    case 'boolean':
      return { value: typed('boolean', sql`${text}::boolean`), json: text };
    case 'date-time':
      if (f.serverWritten) return { value: text, json: text };
      return {
        value: sql`(case when ${text} ~ ${PG_DATE_TIME_RE} then to_char((${text}::timestamptz) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') end)`,
        json: text,
      };
    default:
      return { value: text, json: text };
  }
}

function and(parts: RawBuilder<unknown>[]): RawBuilder<SqlBool> {
  if (!parts.length) return TRUE;
  if (parts.length === 1) return parts[0] as RawBuilder<SqlBool>;
  return sql<SqlBool>`(${sql.join(parts, sql` and `)})`;
}
function or(parts: RawBuilder<unknown>[]): RawBuilder<SqlBool> {
  if (!parts.length) return FALSE;
  if (parts.length === 1) return parts[0] as RawBuilder<SqlBool>;
  return sql<SqlBool>`(${sql.join(parts, sql` or `)})`;
}

function condition(table: string, c: Condition, dialect: DialectName): RawBuilder<SqlBool> {
  const f = c.field;
  const a = access(table, f, dialect);
  const v = a.value;
  // SQLite stores booleans (columns and json_extract alike) as 1 / 0
  const enc = (x: unknown) => (dialect === 'sqlite' && typeof x === 'boolean' ? (x ? 1 : 0) : x);
  // strings order by code point on both back ends (PostgreSQL databases often sort by locale)
  const ordered = (x: RawBuilder<unknown>) => (f.type === 'string' && dialect === 'postgres' ? sql`${x} collate "C"` : x);
  const param = (x: unknown) => ordered(sql`${enc(x)}`);
  const eq = (b: Bound) =>
    b.lo === b.hi ? sql<SqlBool>`${v} = ${enc(b.lo)}` : sql<SqlBool>`(${v} >= ${enc(b.lo)} and ${v} <= ${enc(b.hi)})`;
  const missingOr = (cond: RawBuilder<unknown>) => sql<SqlBool>`(${v} is null or not ${cond})`;
  const composite = f.type === 'array' || f.type === 'object';

  switch (c.op) {
    case 'is_empty':
    case 'is_not_empty': {
      const empty = composite
        ? sql<SqlBool>`coalesce(${a.json}, '') in ('', '[]', '{}')`
        : f.type === 'string'
          ? sql<SqlBool>`coalesce(${v}, '') = ''`
          : sql<SqlBool>`${v} is null`;
      if (c.op === 'is_empty') return empty;
      if (composite) return sql<SqlBool>`not ${empty}`;
      return f.type === 'string' ? sql<SqlBool>`coalesce(${v}, '') <> ''` : sql<SqlBool>`${v} is not null`;
    }
    case 'has':
    case 'has_not': {
      const has =
        dialect === 'sqlite'
          ? sql<SqlBool>`exists (select 1 from json_each(${sql.ref(`${table}.data`)}, ${sqlitePath(f.path)}) as item where item.value = ${enc(c.item)})`
          : sql<SqlBool>`coalesce((${sql.ref(`${table}.data`)} #> ${pgPath(f.path)}) @> ${JSON.stringify([c.item])}::jsonb, false)`;
      return c.op === 'has' ? has : sql<SqlBool>`not ${has}`;
    }
    case 'equals':
      return eq(c.value);
    case 'not_equals':
      return missingOr(eq(c.value));
    case 'like':
    case 'not_like': {
      const like = sql<SqlBool>`lower(${v}) like ${c.pattern} ${LIKE_ESCAPE}`;
      return c.op === 'like' ? like : missingOr(like);
    }
    case '>':
      return sql<SqlBool>`${ordered(v)} > ${param(c.value)}`;
    case '>=':
      return sql<SqlBool>`${ordered(v)} >= ${param(c.value)}`;
    case '<':
      return sql<SqlBool>`${ordered(v)} < ${param(c.value)}`;
    case '<=':
      return sql<SqlBool>`${ordered(v)} <= ${param(c.value)}`;
    case 'between':
      return sql<SqlBool>`(${ordered(v)} >= ${param(c.from)} and ${ordered(v)} <= ${param(c.to)})`;
    case 'in':
    case 'not_in': {
      const points = c.values.filter((b) => b.lo === b.hi).map((b) => b.lo);
      const ranges = c.values.filter((b) => b.lo !== b.hi);
      const parts: RawBuilder<unknown>[] = [];
      if (points.length) parts.push(sql`${v} in (${sql.join(points.map((p) => sql`${enc(p)}`))})`);
      for (const r of ranges) parts.push(eq(r));
      const inList = or(parts);
      return c.op === 'in' ? inList : missingOr(inList);
    }
  }
}

function node(table: string, n: CriteriaNode, dialect: DialectName): RawBuilder<SqlBool> {
  if ('and' in n) return and(n.and.map((x) => node(table, x, dialect)));
  if ('or' in n) return or(n.or.map((x) => node(table, x, dialect)));
  return condition(table, n, dialect);
}

/** A criteria tree -> a boolean SQL expression over `table` (alias-free: columns are qualified with the table name). */
export function criteriaSql(table: string, tree: CriteriaNode, dialect: DialectName): Expression<SqlBool> {
  return node(table, tree, dialect);
}

/**
 * ORDER BY items of a checked sort. Missing values come last in both directions (NULLS LAST is
 * explicit: PostgreSQL and SQLite disagree on where NULL sorts by default).
 */
export function sortSql(table: string, sort: SortItem[], dialect: DialectName): RawBuilder<unknown>[] {
  return sort.map(({ field, direction }) => {
    let v = access(table, field, dialect).value;
    if (dialect === 'postgres' && field.type === 'string') v = sql`${v} collate "C"`;
    return direction === 'desc' ? sql`${v} desc nulls last` : sql`${v} asc nulls last`;
  });
}
