import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import type { FieldError } from '../../core/errors.js';
import {
  columnName,
  EXTERNAL_ID_COLUMN,
  type ColumnType,
  type IndexedColumn,
  type TableSpec,
  type UniqueIndex,
} from '../../store/records.js';
import type { RefValue } from '../../store/refs.js';
import { bool, dateTime, int, isRequired, obj, ORDERED, str, type FieldValues } from './fields.js';
import { check, checkAll } from './validation.js';
import type { AppServices } from './context.js';

/**
 * defineResource(): one declarative definition per resource -> everything the generic machinery
 * needs (input and output schemas, the search body and its filters, the table and its indexes,
 * lookup and action routes). A definition is data; behaviour lives in the kit and in domain/.
 */

/** How one property of the search body filters records. */
export type SearchSpec =
  | { kind: 'ids' }
  /** case-insensitive "contains" on a string field */
  | { kind: 'contains'; field: string }
  /** any of the given values of a scalar field (enums, booleans, ids) */
  | { kind: 'in'; field: string }
  /** inclusive [from, to] on a date or date-time field; either end may be empty */
  | { kind: 'range'; field: string };

export const search = {
  ids: (): SearchSpec => ({ kind: 'ids' }),
  contains: (field: string): SearchSpec => ({ kind: 'contains', field }),
  anyOf: (field: string): SearchSpec => ({ kind: 'in', field }),
  range: (field: string): SearchSpec => ({ kind: 'range', field }),
};

/** `/slug/{tenantId}/<segment>/{<field>}`: records whose field equals the value, paged like list. */
export interface LookupSpec {
  segment: string;
  field: string;
  summary?: string;
  /** The operation's name in the catalog, when it has one; default `listBy<Segment>` (operationId `<slug>_<name>`). */
  name?: string;
}

/** A unique index of a definition (see ResourceDefinition.indexes). */
export interface UniqueIndexSpec {
  unique: true;
  fields: string[];
  /** Why, for the 409's message ("numbers are unique within a program"). */
  why?: string;
}

/** A field that is required only when another field has a given value. */
export interface ConditionalRequired {
  field: string;
  when: Record<string, unknown>;
}

export interface HookContext {
  db: import('../../store/store.js').Db;
  ctx: import('../../core/context.js').RequestContext;
  /** The app's services (see ./context.ts). */
  services: AppServices;
  op: 'create' | 'update' | 'patch' | 'delete';
  /** The stored record before the write (absent on create). */
  old?: Record<string, any>;
  /** The record as it will be (validate) or was (after) written; absent on delete. */
  next?: Record<string, any>;
}

export interface WriteHooks {
  /**
   * Runs first in the write's transaction, before the references are checked (which share-lock the
   * records named): take the row locks the write will need, so that concurrent writes queue instead of
   * deadlocking (a payment locks its order, which its after hook updates).
   */
  lock?: (h: HookContext) => Promise<void>;
  validate?: (h: HookContext) => Promise<void>;
  after?: (h: HookContext) => Promise<void>;
}

export interface ActionRequest {
  tenantId: string;
  params: Record<string, string>;
  body: unknown;
  /** The query string, validated by the action's schema (a `page` action's fields, exclusiveStartKey and limit; {} without one). */
  query: Record<string, string>;
}

/** A route beyond the standard set (`POST /billingRuns/{tenantId}/refresh/{id}`). */
export interface ActionSpec<S = AppServices> {
  /** The operation's name (the catalog's where it has one): operationId `<slug>_<name>`. */
  name: string;
  method: 'GET' | 'POST';
  /** Path after `/slug/{tenantId}/`, with `:params`. */
  path: string;
  summary: string;
  description?: string;
  /** The answer's schema; a `page` action answers a page of the resource's records and needs none. */
  response?: TSchema;
  /** Schemas of path parameters (default: the id pattern). */
  params?: Record<string, TSchema>;
  /**
   * A GET that lists records (a lookup over several path parameters): takes fields, exclusiveStartKey
   * and limit, and answers `{ Count, Items, LastEvaluatedKey }` like any list (the handler returns a
   * page from the resource's service, e.g. `matching`).
   */
  page?: boolean;
  /** The query string's schema of an action that takes one (a `page` action has its own). */
  query?: TSchema;
  status?: number;
  /** The least scope a POST action needs (default: the resource's write scope). */
  scope?: 'write' | 'admin';
  /** Receives the app's services (typed by the caller) and the request. */
  handler: (services: S, ctx: import('../../core/context.js').RequestContext, req: ActionRequest) => Promise<unknown>;
}

export interface ResourceDefinition {
  slug: string;
  /** Display name, plural ("Billing Runs"). */
  name: string;
  singular: string;
  /** Schema component name ("BillingRun"). */
  typeName: string;
  table: string;
  /** Pattern of this resource's ids (path parameter); default `^[\w|-]+$`, as most of the API. */
  idPattern?: string;
  /** Where the schema came from: the reference, or what we designed where it is silent. */
  coverage: string;
  fields: Record<string, TSchema>;
  conditionalRequired?: ConditionalRequired[];
  /**
   * Pairs of top-level fields where the first may not come after the second: `[['start_date',
   * 'end_date']]` (dates, date-times as instants, or numbers such as a minimum and a maximum). Checked
   * on every write when both are present, a PATCH against the stored other field included; the error
   * (400, 422 for PATCH) names the second field. Nested objects declare theirs with `obj(…, { ordered })`.
   */
  ordered?: [string, string][];
  /**
   * Checks of a top-level field's value beyond what a JSON schema says (pure, no store: a schedule the
   * scheduler can read …): the reason a value is refused, or null/undefined. Run with the schema on
   * every write (a 400 naming the field; 422 for PATCH) and by `accredit check` over stored records.
   * A check of an object field may name the member at fault: `{ field: 'body', reason }` is reported
   * as `<field>.body`.
   */
  fieldChecks?: Record<string, (value: unknown) => string | { field: string; reason: string } | null | undefined>;
  /** One record per tenant: its id is the tenant id, and a second create is a 409. */
  singleton?: boolean;
  /** Only `certifications:admin` tokens may change it (settings). */
  adminOnlyWrites?: boolean;
  /**
   * A ledger (payments): once created a record's fields never change and it is never deleted (a 409
   * saying so; a correction is a new record). Its sys_* fields (sys_locked …) may still change.
   */
  appendOnly?: boolean;
  /**
   * Records the server provides rather than stores (query definitions from the registry, computed
   * statistics): `get` answers them by id, the list pages through them first (then the stored records), and a write to
   * one is a 409. Receives the app's services, like hooks.
   */
  builtIn?: {
    get(
      services: AppServices,
      ctx: import('../../core/context.js').RequestContext,
      id: string,
    ): Promise<Record<string, unknown> | undefined>;
    list?(services: AppServices, ctx: import('../../core/context.js').RequestContext): Promise<Record<string, unknown>[]>;
    /** Whether `id` is a built-in record, without computing it: a write asks inside its transaction (on SQLite a query outside it would wait for the transaction's own connection). */
    has?(id: string): boolean;
  };
  /**
   * A domain rule every write must pass (a status transition, …): returns why `next` may not follow
   * `old` (undefined on create), which is a 409 with that message. The rule lives in domain/.
   */
  beforeWrite?: (old: Record<string, unknown> | undefined, next: Record<string, unknown>) => string | null;
  /** Fields whose changes are recorded in a history (`GET /slug/{tenantId}/history/{id}`, newest first). */
  history?: string[];
  /**
   * Domain work that needs the store, run inside the write's transaction: `validate` before the
   * write (throw an AppError to refuse it: a full offering, a closed sale window …), `after` once it
   * is written (create the credits of a completed registration …). Both see the old and new record.
   */
  hooks?: WriteHooks;
  search: Record<string, SearchSpec>;
  lookups?: LookupSpec[];
  /**
   * Composite indexes for the searches a screen runs together (fields that are searched or looked up),
   * most selective equality fields first and a range field last: `[['program_id', 'status', 'expiration_date']]`.
   * A unique index (`{ unique: true, fields: ['program_id', 'number'] }`) is enforced by the database
   * on every write: its last field is the one a clash names (409), the others its scope; a record
   * without one of the fields is not constrained.
   */
  indexes?: (string[] | UniqueIndexSpec)[];
  /**
   * The fields that name a record in the world outside this API (a certification: its program and
   * certificate number). A bulk-load row without sys_external_id that has every one of them updates
   * the record they name instead of creating a second one (docs/bulk.md). Each gets an indexed column.
   */
  naturalKey?: string[];
  actions?: ActionSpec[];
  /**
   * Read-only fields computed from the stored record and the day (YYYY-MM-DD, the app clock's) on
   * every answer of the API (get, list, search, lookup, and the record a write returns); never stored,
   * ignored in request bodies (a record read and sent back is accepted), projectable with `fields=`.
   */
  derived?: { fields: Record<string, TSchema>; compute(record: Record<string, unknown>, today: string): Record<string, unknown> };
  /**
   * Read-only fields the server computes and stores (an order's totals, from its lines and payments):
   * the definition's `validate` hook sets them on every write. Like sys_* fields they are no part of a
   * request body (ignored, so a record read and sent back is accepted); a PATCH that changes one is
   * refused by the hook. Answered, projectable, shown as readOnly in OpenAPI.
   */
  computed?: Record<string, TSchema>;
  /**
   * What an API user should know about the resource beyond its schema, one paragraph an entry: the
   * description of its tag in the OpenAPI document (shown above its operations in /docs).
   */
  description?: string[];
}

/** Server-managed audit fields, common to every record; clients never set them. */
export const SYS_FIELDS: Record<string, TSchema> = {
  sys_created_at: dateTime({ readOnly: true }),
  sys_created_by_id: str({ readOnly: true }),
  sys_last_modified_at: dateTime({ readOnly: true }),
  sys_last_modified_by_id: str({ readOnly: true }),
  sys_version: int({ readOnly: true, minimum: 1, description: 'starts at 1, +1 on every change; returned as the ETag' }),
  sys_last_security_context: Type.Object({}, { additionalProperties: true, readOnly: true }),
  sys_locked: bool({ description: 'a locked record refuses every change but unlocking (PATCH /sys_locked)' }),
  sys_bulk_load_id: str({ readOnly: true }),
  sys_bulk_load_at: dateTime({ readOnly: true }),
  sys_bulk_load_record_no: int({ readOnly: true }),
  sys_bulk_load_source_file: str({ readOnly: true }),
  sys_external_id: str({
    readOnly: true,
    maxLength: 256,
    description:
      'the id of this record in the system it was bulk loaded from (the sys_external_id column of a bulk load); a re-run of the load matches on it',
  }),
};
/** The sys_external_id column every resource table gets (store/records.ts says why). */
export { EXTERNAL_ID_COLUMN };
export const isSysField = (name: string) => name.startsWith('sys_');

export interface Resource {
  def: ResourceDefinition;
  /** The id pattern, bounded to 128 characters. */
  idPattern: string;
  /** The body of create / update: the fields, unknown ones rejected. */
  inputSchema: TObject;
  /** A stored record as returned: id, fields and sys fields, nothing required (projection). */
  recordSchema: TObject;
  searchSchema: TObject;
  table: TableSpec;
  /** The columns of the natural key (def.naturalKey), in its order; empty when it has none. */
  naturalKey: IndexedColumn[];
  /** Top-level names a projection (`fields=`) may name. */
  projectable: Set<string>;
  /** Validates a record body (fields only, no id or sys fields): schema, then conditional requirements, then field checks; the first error. */
  validate(body: unknown, prefix?: string): FieldError[];
  /** The same checks, every error found (slower: for a stored record's check and a PATCH of an invalid record). */
  validateAll(body: unknown, prefix?: string): FieldError[];
  /** Fields that name records of other resources of this API (`x-ref`, not `external:`). */
  refFields: RefField[];
  /** The references a valid body holds, each with its dotted field path. */
  collectRefs(body: Record<string, unknown>): RefValue[];
}

/** A referencing field: its path (`*` = every array item) and the resource it names. */
export interface RefField {
  path: string[];
  target: string;
}

function findRefs(s: TSchema, path: string[], out: RefField[]) {
  const target = (s as Record<string, unknown>)['x-ref'];
  if (typeof target === 'string' && !target.startsWith('external:')) out.push({ path, target });
  if (s.type === 'object' && s.properties) {
    for (const [k, v] of Object.entries(s.properties as Record<string, TSchema>)) findRefs(v, [...path, k], out);
  } else if (s.type === 'array' && s.items) {
    findRefs(s.items as TSchema, [...path, '*'], out);
  }
}

function collect(value: unknown, path: string[], i: number, at: string[], target: string, out: RefValue[]) {
  if (value === undefined || value === null) return;
  if (i === path.length) {
    if (typeof value === 'string') out.push({ field: at.join('.'), target, id: value });
    return;
  }
  const k = path[i]!;
  if (k === '*') {
    if (Array.isArray(value)) value.forEach((v, n) => collect(v, path, i + 1, [...at, String(n)], target, out));
  } else if (typeof value === 'object' && !Array.isArray(value)) {
    collect((value as Record<string, unknown>)[k], path, i + 1, [...at, k], target, out);
  }
}

function schemaAt(fields: Record<string, TSchema>, path: string[]): TSchema | undefined {
  let props: Record<string, TSchema> | undefined = fields;
  let s: TSchema | undefined;
  for (const k of path) {
    s = props?.[k];
    if (!s) return undefined;
    props = (s as TObject).properties;
  }
  return s;
}

function columnType(s: TSchema, where: string): ColumnType {
  switch (s.type) {
    case 'boolean':
      return 'bool';
    case 'number':
    case 'integer':
      return 'num';
    case 'string':
      return s.format === 'date-time' ? 'datetime' : 'text';
    default:
      throw new Error(`${where}: only scalar fields can be searched or looked up (got ${String(s.type)})`);
  }
}

/** Strips what must not constrain an output: `required` (projections) and conditional rules. */
function outputSchema(s: TSchema): TSchema {
  if (s.type === 'object' && s.properties) {
    const properties: Record<string, TSchema> = {};
    for (const [k, v] of Object.entries(s.properties as Record<string, TSchema>)) properties[k] = outputSchema(v);
    const { required: _r, allOf: _a, [ORDERED]: _o, ...rest } = s as TSchema & Record<string, unknown>;
    return { ...rest, properties } as TSchema;
  }
  if (s.type === 'array' && s.items) return { ...s, items: outputSchema(s.items as TSchema) } as TSchema;
  return s;
}

const omit = (o: Record<string, unknown>, keys: string[]) => {
  const out: Record<string, unknown> = {};
  for (const k in o) if (!keys.includes(k)) out[k] = o[k];
  return out;
};

const RANGE_ITEM = Type.Union([Type.String({ maxLength: 40 }), Type.Null()]);

/** A resource whose definition keeps the type of its fields (FieldValues<…> derives a record's type from it). */
export interface TypedResource<F extends Record<string, TSchema>> extends Resource {
  def: Omit<ResourceDefinition, 'fields'> & { fields: F };
}
/** The fields of a record of a resource, typed from its definition's schemas (`Static`). */
export type RecordOf<R> = R extends { def: { fields: infer F extends Record<string, TSchema> } } ? FieldValues<F> : never;

export function defineResource<F extends Record<string, TSchema>>(def: ResourceDefinition & { fields: F }): TypedResource<F> {
  const where = `resource ${def.slug}`;
  for (const k of Object.keys(def.fields)) {
    if (k === 'id' || isSysField(k) || k === 'tenant_id') throw new Error(`${where}: field ${k} is reserved`);
  }
  for (const k of [...Object.keys(def.derived?.fields ?? {}), ...Object.keys(def.computed ?? {})]) {
    if (k in def.fields || isSysField(k) || k === 'id') throw new Error(`${where}: derived or computed field ${k} clashes with a field`);
  }

  // Input: the fields, plus if/then rules for the conditionally required ones (documented in OpenAPI).
  const base = obj(def.fields, { ordered: def.ordered });
  const conditions = (def.conditionalRequired ?? []).map((c) => {
    if (!def.fields[c.field]) throw new Error(`${where}: conditional field ${c.field} is not a field`);
    return {
      if: {
        properties: Object.fromEntries(Object.entries(c.when).map(([k, v]) => [k, { const: v }])),
        required: Object.keys(c.when),
      },
      then: { required: [c.field] },
    };
  });
  const inputSchema = (conditions.length ? { ...base, allOf: conditions } : base) as TObject;

  const recordSchema = Type.Object(
    {
      id: Type.String({ readOnly: true }),
      ...(outputSchema(base) as TObject).properties,
      ...def.derived?.fields,
      ...Object.fromEntries(Object.entries(def.computed ?? {}).map(([k, v]) => [k, { ...v, readOnly: true }])),
      ...SYS_FIELDS,
    },
    { additionalProperties: false },
  );
  // `required` in recordSchema comes from TypeBox (id and all sys fields); a projection may omit them.
  delete (recordSchema as { required?: string[] }).required;

  const idPattern = (def.idPattern ?? '^[\\w|-]+$').replace(/\+\$$/, '{1,128}$');
  if (!idPattern.endsWith('{1,128}$')) throw new Error(`${where}: idPattern must end with +$`);

  // Search body and the extracted columns it needs.
  const columns = new Map<string, IndexedColumn>();
  /** `infix`: used only by a contains search, which no index serves (see IndexedColumn.index). */
  const addColumn = (field: string, ctx: string, infix = false) => {
    const path = field.split('.');
    const s = schemaAt({ ...def.fields, ...def.computed }, path);
    if (!s) throw new Error(`${where}: ${ctx} names unknown field ${field}`);
    const name = columnName(path);
    const index = infix ? 'none' : path.length === 1 && isRequired(s) ? 'all' : 'set';
    const had = columns.get(name);
    if (!had) columns.set(name, { name, path, type: columnType(s, `${where}: ${ctx}`), index });
    else if (had.index === 'none') had.index = index;
    return s;
  };
  const searchProps: Record<string, TSchema> = {};
  for (const [key, spec] of Object.entries(def.search)) {
    switch (spec.kind) {
      case 'ids':
        searchProps[key] = Type.Array(Type.String({ pattern: idPattern }), { maxItems: 1000 });
        break;
      case 'contains':
        addColumn(spec.field, `search ${key}`, true);
        searchProps[key] = Type.String({ maxLength: 500 });
        break;
      case 'in': {
        const s = addColumn(spec.field, `search ${key}`);
        const { readOnly: _ro, description: _d, ...item } = s as Record<string, unknown>;
        searchProps[key] = Type.Array(item as TSchema, { maxItems: 1000 });
        break;
      }
      case 'range': {
        const s = addColumn(spec.field, `search ${key}`);
        if (s.format !== 'date' && s.format !== 'date-time') throw new Error(`${where}: range ${key} needs a date field`);
        searchProps[key] = Type.Array(RANGE_ITEM, {
          minItems: 2,
          maxItems: 2,
          description: '[from, to], inclusive; either may be empty',
        });
        break;
      }
    }
  }
  for (const l of def.lookups ?? []) addColumn(l.field, `lookup ${l.segment}`);
  // a field of a unique index needs its column (the index is over columns), searched or not
  const uniqueSpecs = (def.indexes ?? []).filter((i): i is UniqueIndexSpec => !Array.isArray(i));
  for (const u of uniqueSpecs) for (const f of u.fields) if (!columns.has(columnName(f.split('.')))) addColumn(f, 'unique index', true);
  const uniqueFields = new Set(uniqueSpecs.flatMap((u) => u.fields));
  for (const f of def.naturalKey ?? []) {
    const had = columns.get(columnName(f.split('.')));
    // looked up by equality: indexed, unless a unique index over the key serves already
    if (!had) addColumn(f, 'natural key', uniqueFields.has(f));
    else if (had.index === 'none' && !uniqueFields.has(f)) addColumn(f, 'natural key');
  }
  const naturalKey = (def.naturalKey ?? []).map((f) => columns.get(columnName(f.split('.')))!);
  columns.set(EXTERNAL_ID_COLUMN.name, EXTERNAL_ID_COLUMN);
  const searchSchema = Type.Object(Object.fromEntries(Object.entries(searchProps).map(([k, s]) => [k, Type.Optional(s)])), {
    additionalProperties: false,
  });

  const conditional = def.conditionalRequired ?? [];
  // derived and computed fields: answered, never taken from a body
  const derivedKeys = [...Object.keys(def.derived?.fields ?? {}), ...Object.keys(def.computed ?? {})];
  const refFields: RefField[] = [];
  for (const [k, v] of Object.entries(def.fields)) findRefs(v, [k], refFields);
  // derived fields (read-only, computed on reads) are no part of a body: ignored, as the service drops them
  const withoutDerived = (input: unknown) =>
    derivedKeys.length && input && typeof input === 'object' && !Array.isArray(input)
      ? omit(input as Record<string, unknown>, derivedKeys)
      : input;
  const conditionalErrors = (rec: Record<string, unknown>, prefix: string, all: boolean): FieldError[] => {
    const out: FieldError[] = [];
    for (const c of conditional) {
      if (rec[c.field] !== undefined) continue;
      if (Object.entries(c.when).every(([k, v]) => rec[k] === v)) {
        const cond = Object.entries(c.when)
          .map(([k, v]) => `${k} is ${JSON.stringify(v)}`)
          .join(' and ');
        out.push({ field: prefix ? `${prefix}.${c.field}` : c.field, reason: `is required when ${cond}` });
        if (!all) break;
      }
    }
    return out;
  };
  const fieldChecks = Object.entries(def.fieldChecks ?? {});
  const fieldCheckErrors = (rec: Record<string, unknown>, prefix: string, all: boolean): FieldError[] => {
    const out: FieldError[] = [];
    for (const [field, fn] of fieldChecks) {
      if (rec[field] === undefined) continue;
      const why = fn(rec[field]);
      if (!why) continue;
      const path = typeof why === 'string' ? field : `${field}.${why.field}`;
      out.push({ field: prefix ? `${prefix}.${path}` : path, reason: typeof why === 'string' ? why : why.reason });
      if (!all) break;
    }
    return out;
  };
  return {
    refFields,
    collectRefs(body) {
      const out: RefValue[] = [];
      for (const f of refFields) collect(body, f.path, 0, [], f.target, out);
      return out;
    },
    def,
    idPattern,
    inputSchema,
    recordSchema,
    searchSchema,
    naturalKey,
    table: {
      name: def.table,
      columns: [...columns.values()],
      indexes: (def.indexes ?? [])
        .filter((i): i is string[] => Array.isArray(i))
        .map((fields) =>
          fields.map((f) => {
            const c = columns.get(columnName(f.split('.')));
            if (!c) throw new Error(`${where}: index field ${f} is neither searched nor looked up`);
            return c.name;
          }),
        ),
      ...(uniqueSpecs.length
        ? {
            unique: uniqueSpecs.map((u): UniqueIndex => {
              if (!u.fields.length) throw new Error(`${where}: a unique index needs fields`);
              const cols = u.fields.map((f) => columns.get(columnName(f.split('.')))!.name);
              return {
                name: `${def.table}_${cols.map((c) => c.replace(/^f_/, '')).join('_')}_uniq`.slice(0, 63),
                columns: cols,
                fields: u.fields,
                ...(u.why ? { why: u.why } : {}),
              };
            }),
          }
        : {}),
    },
    projectable: new Set([
      'id',
      ...Object.keys(def.fields),
      ...Object.keys(def.derived?.fields ?? {}),
      ...Object.keys(def.computed ?? {}),
      ...Object.keys(SYS_FIELDS),
    ]),
    validate(input, prefix = '') {
      const body = withoutDerived(input);
      const errors = check(base, body, prefix);
      if (errors.length) return errors;
      const rec = body as Record<string, unknown>;
      const missing = conditionalErrors(rec, prefix, false);
      return missing.length ? missing : fieldCheckErrors(rec, prefix, false);
    },
    validateAll(input, prefix = '') {
      const body = withoutDerived(input);
      const errors = checkAll(base, body, prefix);
      if (!body || typeof body !== 'object' || Array.isArray(body)) return errors;
      const rec = body as Record<string, unknown>;
      const at = (f: string) => (prefix ? `${prefix}.${f}` : f);
      // a field the schema refused is not checked further
      const refused = new Set(errors.map((e) => e.field));
      const more = [...conditionalErrors(rec, prefix, true), ...fieldCheckErrors(rec, prefix, true)].filter(
        (e) => !refused.has(e.field) || e.field === at('(body)'),
      );
      return [...errors, ...more];
    },
  };
}

export { isRequired };
