import type { TSchema } from '@sinclair/typebox';
import type { Resource } from '../resources/kit/define.js';
import { RESOURCES } from '../resources/index.js';
import type { ColumnType, TableSpec } from '../store/records.js';

/**
 * Query definitions (issue #9): what a saved query can select, filter and sort on, one per resource,
 * generated from the registry (each resource's record schema and table), never written by hand. They
 * are served by the queryDefinitions resource as built-in records (GET by slug, first on the list) and
 * are what the query compiler (compile.ts) checks criteria, sort and output fields against.
 *
 * A field is a dotted path into the record: nested objects are walked (`address.city`), arrays of
 * scalars are one field of type `array` (contains / is empty), arrays of objects and free-form objects
 * are one field each (is empty; output as JSON) and nothing below them is queryable.
 */
export type QueryFieldType = 'string' | 'number' | 'integer' | 'boolean' | 'date' | 'date-time' | 'array' | 'object';
export type ItemType = 'string' | 'number' | 'integer' | 'boolean' | 'object';

export const OPERATORS = [
  'equals',
  'not_equals',
  'contains',
  'not_contains',
  'starts_with',
  'ends_with',
  'greater_than',
  'greater_than_or_equal',
  'less_than',
  'less_than_or_equal',
  'between',
  'in',
  'not_in',
  'is_empty',
  'is_not_empty',
] as const;
export type Operator = (typeof OPERATORS)[number];

const ORDERED: Operator[] = ['greater_than', 'greater_than_or_equal', 'less_than', 'less_than_or_equal', 'between'];
const EMPTY: Operator[] = ['is_empty', 'is_not_empty'];
/** The operators each field type accepts (published on every field, so that a client can offer them). */
export const OPERATORS_BY_TYPE: Record<QueryFieldType, Operator[]> = {
  string: ['equals', 'not_equals', 'contains', 'not_contains', 'starts_with', 'ends_with', ...ORDERED, 'in', 'not_in', ...EMPTY],
  number: ['equals', 'not_equals', ...ORDERED, 'in', 'not_in', ...EMPTY],
  integer: ['equals', 'not_equals', ...ORDERED, 'in', 'not_in', ...EMPTY],
  date: ['equals', 'not_equals', ...ORDERED, 'in', 'not_in', ...EMPTY],
  'date-time': ['equals', 'not_equals', ...ORDERED, 'in', 'not_in', ...EMPTY],
  boolean: ['equals', 'not_equals', 'in', 'not_in', ...EMPTY],
  // contains / not_contains on an array: the array holds (does not hold) the value as one of its items
  array: ['contains', 'not_contains', ...EMPTY],
  object: [...EMPTY],
};
const ARRAY_OF_OBJECTS_OPERATORS: Operator[] = [...EMPTY];

/** A field as published in a query definition. */
export type QueryField = {
  name: string;
  type: QueryFieldType;
  label: string;
  description?: string;
  /** The allowed values (of the field, or of the items of an array field). */
  enum?: string[];
  /** The type of the items of an array field. */
  item_type?: ItemType;
  /** Arrays and objects cannot be sorted on. */
  sortable: boolean;
};

/** The published record (a queryDefinitions record). A type alias, so it is a Record<string, unknown>. */
export type QueryDefinition = {
  id: string;
  name: string;
  description: string;
  primary_table: string;
  context: Record<string, unknown>;
  perform_custom_resolution_logic: boolean;
  common_table_expressions: Record<string, unknown>[];
  services: string[];
  fields: QueryField[];
  default_output_fields: string[];
  default_sort_fields: string[];
};

/** What the compiler needs to know about a field: where its value is stored, what it accepts. */
export interface FieldSpec extends QueryField {
  path: string[];
  /**
   * The operators of the field (OPERATORS_BY_TYPE of its type; fewer for arrays of objects). Not
   * published per field: repeated on ~2,000 fields it made the definitions list half a megabyte.
   */
  operators: Operator[];
  /**
   * The SQL column holding the value when there is one: `id`, `sys_version`, or the extracted (and
   * indexed) f_* column of a searched / looked-up field; otherwise the value is read from `data`.
   */
  column?: { name: string; type: ColumnType };
  /** Written by the server only (sys_* fields), hence already in canonical form (UTC ISO date-times). */
  serverWritten: boolean;
}

/** A query type: the published definition and the compiler's view of its fields. */
export interface QueryType {
  definition: QueryDefinition;
  table: TableSpec;
  fields: Map<string, FieldSpec>;
}

/** Deeper paths than this are not offered (no resource comes close; a guard against recursion). */
const MAX_PATH_DEPTH = 8;
/** How many fields the default output holds (id, then the required, then the other top-level scalars). */
const DEFAULT_OUTPUT_MAX = 10;

const SYS_LABELS: Record<string, string> = {
  sys_version: 'Version',
  sys_locked: 'Locked',
  sys_last_security_context: 'Last security context',
};

function humanize(key: string): string {
  if (SYS_LABELS[key]) return SYS_LABELS[key]!;
  const words = key
    .replace(/^sys_/, '')
    .split('_')
    .filter(Boolean)
    .map((w) => (w === 'id' ? 'ID' : w === 'ids' ? 'IDs' : w));
  if (!words.length) return key;
  const first = words[0]!;
  words[0] = first === 'ID' || first === 'IDs' ? first : first.charAt(0).toUpperCase() + first.slice(1);
  return words.join(' ');
}

/** A schema's meaning for queries: unions of one type and null count as that type. */
function resolve(s: TSchema): TSchema | undefined {
  const alts = (s.anyOf ?? s.oneOf) as TSchema[] | undefined;
  if (!alts) return s;
  const real = alts.filter((a) => a.type !== 'null');
  if (!real.length) return undefined;
  const first = resolve(real[0]!);
  if (!first || typeof first.type !== 'string') return undefined;
  // every member must be the same scalar type (number | integer counts as number)
  const kind = (x: TSchema | undefined) => (x?.type === 'integer' ? 'number' : x?.type);
  if (!real.every((a) => kind(resolve(a)) === kind(first))) return undefined;
  if (first.type === 'object' || first.type === 'array') return real.length === 1 ? first : undefined;
  return real.some((a) => resolve(a)?.type === 'number') ? { ...first, type: 'number' } : first;
}

function scalarType(s: TSchema): Exclude<QueryFieldType, 'array' | 'object'> | undefined {
  switch (s.type) {
    case 'string':
      return s.format === 'date' ? 'date' : s.format === 'date-time' ? 'date-time' : 'string';
    case 'number':
      return 'number';
    case 'integer':
      return 'integer';
    case 'boolean':
      return 'boolean';
    default:
      return undefined;
  }
}

const enumOf = (s: TSchema): string[] | undefined =>
  Array.isArray(s.enum) && s.enum.every((v: unknown) => typeof v === 'string') ? [...(s.enum as string[])] : undefined;

function walk(
  props: Record<string, TSchema>,
  prefix: string[],
  labels: string[],
  out: FieldSpec[],
  columns: Map<string, { name: string; type: ColumnType }>,
) {
  for (const [key, raw] of Object.entries(props)) {
    if (key === '__proto__') continue;
    const s = resolve(raw);
    if (!s) continue;
    const path = [...prefix, key];
    const name = path.join('.');
    const label = [...labels, humanize(key)].join(' / ');
    const base = {
      name,
      label,
      ...(typeof s.description === 'string' ? { description: s.description } : {}),
      path,
      serverWritten: prefix.length === 0 && key.startsWith('sys_'),
      ...(columns.has(name) ? { column: columns.get(name)! } : {}),
    };
    const scalar = scalarType(s);
    if (scalar) {
      const e = scalar === 'string' ? enumOf(s) : undefined;
      out.push({ ...base, type: scalar, ...(e ? { enum: e } : {}), operators: OPERATORS_BY_TYPE[scalar], sortable: true });
    } else if (s.type === 'object') {
      const inner = s.properties as Record<string, TSchema> | undefined;
      if (inner && Object.keys(inner).length && path.length < MAX_PATH_DEPTH) walk(inner, path, [...labels, humanize(key)], out, columns);
      else out.push({ ...base, type: 'object', operators: OPERATORS_BY_TYPE.object, sortable: false });
    } else if (s.type === 'array') {
      const items = s.items ? resolve(s.items as TSchema) : undefined;
      const itemScalar = items ? scalarType(items) : undefined;
      if (items && itemScalar) {
        // dates inside arrays are matched as the strings they are
        const itemType: ItemType = itemScalar === 'date' || itemScalar === 'date-time' ? 'string' : itemScalar;
        const e = itemType === 'string' ? enumOf(items) : undefined;
        out.push({
          ...base,
          type: 'array',
          item_type: itemType,
          ...(e ? { enum: e } : {}),
          operators: OPERATORS_BY_TYPE.array,
          sortable: false,
        });
      } else {
        out.push({ ...base, type: 'array', item_type: 'object', operators: ARRAY_OF_OBJECTS_OPERATORS, sortable: false });
      }
    }
  }
}

/** The query type of one resource (pure: exported for the tests, which build their own resources). */
export function queryTypeOf(resource: Resource): QueryType {
  const { def, table } = resource;
  const columns = new Map<string, { name: string; type: ColumnType }>([
    ['id', { name: 'id', type: 'text' }],
    ['sys_version', { name: 'sys_version', type: 'num' }],
  ]);
  for (const c of table.columns) columns.set(c.path.join('.'), { name: c.name, type: c.type });
  const specs: FieldSpec[] = [];
  walk(resource.recordSchema.properties as Record<string, TSchema>, [], [], specs, columns);
  const fields = new Map(specs.map((f) => [f.name, f]));

  const topScalars = specs.filter((f) => f.path.length === 1 && f.name !== 'id' && !f.serverWritten && f.sortable);
  const required = new Set<string>(resource.inputSchema.required ?? []);
  const defaults = [
    'id',
    ...topScalars.filter((f) => required.has(f.name)).map((f) => f.name),
    ...topScalars.filter((f) => !required.has(f.name)).map((f) => f.name),
  ].slice(0, DEFAULT_OUTPUT_MAX);

  const published: QueryField[] = specs.map(({ path: _p, column: _c, serverWritten: _s, operators: _o, ...f }) => f);
  return {
    definition: {
      id: def.slug,
      name: def.name,
      description: `${def.name}: every field of a ${def.singular} record that a query can filter, sort and output (generated from the resource definition).`,
      primary_table: table.name,
      context: {},
      perform_custom_resolution_logic: false,
      common_table_expressions: [],
      services: [def.slug],
      fields: published,
      default_output_fields: defaults,
      default_sort_fields: ['id'],
    },
    table,
    fields,
  };
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v as Record<string, unknown>)) deepFreeze(x);
  }
  return v;
}

let cache: Map<string, QueryType> | undefined;
/** Every query type, by id (the resource slug), in registry order; built once, on first use. */
export function queryTypes(): Map<string, QueryType> {
  // Built lazily: this module reads the registry, and the registry's queryDefinitions resource reaches
  // this module (its built-in records) only when a request asks for them.
  cache ??= new Map(RESOURCES.map((r) => [r.def.slug, deepFreeze(queryTypeOf(r))]));
  return cache;
}

export const queryType = (id: string): QueryType | undefined => queryTypes().get(id);
export const queryDefinition = (id: string): QueryDefinition | undefined => queryType(id)?.definition;
export const queryDefinitionList = (): QueryDefinition[] => [...queryTypes().values()].map((q) => q.definition);
