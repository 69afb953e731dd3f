import equal from 'fast-deep-equal';
import { AppError, invalid, type FieldError } from '../../../core/errors.js';
import type { Clock } from '../../../core/clock.js';
import { securityContext, type RequestContext } from '../../../core/context.js';
import { RecordTable, type StoredRecord } from '../../../store/records.js';
import type { Db, Store } from '../../../store/store.js';
import type { Resource } from '../define.js';
import { isSysField } from '../define.js';
import { pageLimit } from '../paging.js';
import type { AppServices } from '../context.js';

/**
 * What every part of a resource's service shares (reads, writes, patch, batch, references,
 * history): the definition, its table, the clock, and the small steps all of them take. No SQL in
 * the kit: `Db` is only a transaction handed on to store/ — RecordTable for the resource's generated
 * table (hence Kysely<any>, see store.ts), refsIndex and historyStore for the fixed tables.
 */

/** What reference checks need of another resource's service (a ResourceService is one). */
export interface ReferenceTarget {
  readonly table: RecordTable;
  readonly label: string;
}

export interface ServiceDeps {
  store: Store;
  clock: Clock;
  pageSizeDefault: number;
  pageSizeMax: number;
  /** Another resource's service (reference checks: its table and its name). */
  resolve(slug: string): ReferenceTarget;
  /** The app's services, handed to definition hooks, actions and built-ins (absent for a bare resource in a test). */
  services?: () => AppServices;
}

/** What a bare service (a test's resource, built without the app) hands its hooks: an error once one is used. */
const NO_SERVICES = new Proxy({} as AppServices, {
  get: (_, name) => {
    throw new Error(`this ResourceService was built without the app services (ServiceDeps.services), asked for ${String(name)}`);
  },
});

export interface PageQuery {
  fields?: string;
  exclusiveStartKey?: string;
  limit?: number | string;
}

/**
 * Provenance that server-side writers stamp on a record (the bulk loader: which load wrote it, from
 * which row of which file, and the record's id in the source system). Never taken from a client body
 * (sys_* fields there are ignored), so it travels as its own argument of create and update.
 */
export type SysStamp = Partial<{
  sys_external_id: string;
  sys_bulk_load_id: string;
  sys_bulk_load_at: string;
  sys_bulk_load_record_no: number;
  sys_bulk_load_source_file: string;
}>;

/** The sys_* fields of a write: when, by whom, through what. */
export type WriteStamp = ReturnType<ServiceCore['stamp']>;

export type WriteOp = 'create' | 'update' | 'patch' | 'delete';

export const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The record's client-owned part: everything but id and sys_* fields (what a PUT body sets). */
export function fieldsOf(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // for…in over a parsed JSON record (own keys only, no prototype): no [key, value] array per field
  for (const k in record) if (k !== 'id' && !isSysField(k)) out[k] = record[k];
  return out;
}

export class ServiceCore {
  readonly table: RecordTable;
  readonly idRe: RegExp;
  constructor(
    readonly resource: Resource,
    readonly deps: ServiceDeps,
  ) {
    this.table = new RecordTable(resource.table, deps.store.dialect);
    this.idRe = new RegExp(resource.idPattern);
  }

  get label() {
    return this.resource.def.singular;
  }

  get slug() {
    return this.resource.def.slug;
  }

  /** The app's services, for definition hooks and built-in records. */
  services(): AppServices {
    return this.deps.services ? this.deps.services() : NO_SERVICES;
  }

  today() {
    return this.deps.clock.now().toISOString().slice(0, 10);
  }

  /** A record as the API answers it: with the definition's derived fields for today (see `derived`). */
  present<T extends Record<string, unknown>>(record: T): T {
    const derived = this.resource.def.derived;
    if (!derived) return record;
    return { ...record, ...derived.compute(record, this.today()) };
  }

  /** Stored JSON text as the API answers it (parsed and completed only for a resource with derived fields). */
  presentText(json: string): string {
    const derived = this.resource.def.derived;
    if (!derived) return json;
    // derived fields are never stored: appended to the stored object's text, not re-serialized with it
    const values = derived.compute(JSON.parse(json) as Record<string, unknown>, this.today());
    let extra = '';
    for (const [k, v] of Object.entries(values)) if (v !== undefined) extra += `,${JSON.stringify(k)}:${JSON.stringify(v)}`;
    if (!extra) return json;
    const end = json.lastIndexOf('}');
    return json.slice(0, end).trimEnd().endsWith('{') ? `${json.slice(0, end)}${extra.slice(1)}}` : `${json.slice(0, end)}${extra}}`;
  }

  limit(q: PageQuery) {
    return pageLimit(q.limit, this.deps.pageSizeDefault, this.deps.pageSizeMax);
  }

  stamp(ctx: RequestContext, via: string) {
    const now = this.deps.clock.now().toISOString();
    return {
      sys_last_modified_at: now,
      sys_last_modified_by_id: ctx.actor.sub,
      sys_last_security_context: securityContext(ctx, via),
    };
  }

  /** The caller's transaction, or a new one. */
  inTx<T>(db: Db | undefined, fn: (db: Db) => Promise<T>): Promise<T> {
    return db ? fn(db) : this.deps.store.transaction(fn);
  }

  /** The body of a create or update, with sys_* fields set aside (they are read-only and ignored). */
  fieldsFromBody(body: unknown, prefix = ''): Record<string, unknown> {
    if (!isPlainObject(body)) throw invalid([{ field: prefix || '(body)', reason: 'must be an object' }]);
    const fields = fieldsOf(body);
    // derived fields (read-only, computed on reads) of a record read and sent back are ignored, as sys_* fields
    for (const k in this.resource.def.derived?.fields) delete fields[k];
    for (const k in this.resource.def.computed) delete fields[k];
    const errors = this.resource.validate(fields, prefix);
    if (errors.length) throw invalid(errors);
    return fields;
  }

  /**
   * The errors a patched record is refused for (none: it may be written). A record stored under an
   * older, looser rule stays patchable: an error on a top-level field the patch left as it was, which
   * the stored record has too, is not the patch's doing and does not refuse it (`accredit check` lists
   * such records). Every error is looked for then, not only the first, so that a new error elsewhere
   * still refuses the patch. A valid result costs one validation, as before.
   */
  patchErrors(oldFields: Record<string, unknown>, fields: Record<string, unknown>, prefix: string): FieldError[] {
    const first = this.resource.validate(fields, prefix);
    if (!first.length) return first;
    const key = (e: FieldError) => `${e.field}\u0000${e.reason}`;
    const before = new Set(this.resource.validateAll(oldFields).map(key));
    if (!before.size) return first;
    const own = this.resource.validateAll(fields).filter((e) => {
      const top = e.field.split('.')[0]!;
      const unchanged = e.field !== '(body)' && equal(fields[top], oldFields[top]);
      return !(unchanged && before.has(key(e)));
    });
    const at = (f: string) => (prefix ? (f === '(body)' ? prefix : `${prefix}.${f}`) : f);
    return own.map((e) => ({ field: at(e.field), reason: e.reason }));
  }

  /** The definition's domain rule (e.g. status transitions): a 409 that says why. */
  checkRule(old: Record<string, unknown> | undefined, next: Record<string, unknown>) {
    const why = this.resource.def.beforeWrite?.(old, next);
    if (why) throw new AppError('conflict', why);
  }

  async hook(which: 'lock' | 'validate' | 'after', db: Db, ctx: RequestContext, op: WriteOp, old?: StoredRecord, next?: StoredRecord) {
    const fn = this.resource.def.hooks?.[which];
    if (fn) await fn({ db, ctx, services: this.services(), op, old, next });
  }

  /** Creates may be written together when no hook needs to run between them (and not for singletons). */
  get writesInBulk(): boolean {
    return !this.resource.def.hooks && !this.resource.def.singleton;
  }

  async isBuiltIn(ctx: RequestContext, id: string): Promise<boolean> {
    const builtIn = this.resource.def.builtIn;
    if (!builtIn) return false;
    return builtIn.has ? builtIn.has(id) : (await builtIn.get(this.services(), ctx, id)) !== undefined;
  }

  async builtInRecord(ctx: RequestContext, id: string) {
    const builtIn = this.resource.def.builtIn;
    return builtIn ? builtIn.get(this.services(), ctx, id) : undefined;
  }
}
