import { sql } from 'kysely';
import equal from 'fast-deep-equal';
import { AppError, invalid, isAppError, notFound, type FieldError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { Clock } from '../../core/clock.js';
import { securityContext, type RequestContext } from '../../core/context.js';
import { RecordTable, UniqueClash, type Filter, type StoredRecord } from '../../store/records.js';
import { refsIndex, type RefValue } from '../../store/refs.js';
import { historyStore } from '../../store/history.js';
import type { Db, Store } from '../../store/store.js';
import type { LookupSpec, Resource } from './define.js';
import { isSysField } from './define.js';
import { applyPatch, checkPatch, touchedFields, type PatchOp } from './patch.js';
import { decodeKey, ifMatchAllows, pageLimit, parseProjection, preconditionFailed, project, toPage } from './paging.js';
import { check } from './validation.js';
import type { AppServices } from './context.js';

export interface ServiceDeps {
  store: Store;
  clock: Clock;
  pageSizeDefault: number;
  pageSizeMax: number;
  /** Another resource's service (reference checks). */
  resolve(slug: string): ResourceService;
  /** The app's services, handed to definition hooks, actions and built-ins (absent for a bare resource in a test). */
  services?: () => AppServices;
}

/** What a bare service (a test's resource, built without the app) hands its hooks: an error once one is used. */
const NO_SERVICES = new Proxy({} as AppServices, {
  get: (_, name) => {
    throw new Error(`this ResourceService was built without the app services (ServiceDeps.services), asked for ${String(name)}`);
  },
});

function appServicesOf(deps: ServiceDeps): AppServices {
  return deps.services ? deps.services() : NO_SERVICES;
}

export interface PageQuery {
  fields?: string;
  exclusiveStartKey?: string;
  limit?: number | string;
}

export interface ListPage {
  Count: number;
  Items: Record<string, unknown>[];
  LastEvaluatedKey?: string;
}

/** A response body already rendered as JSON text (a page of stored records sent as is). */
export class JsonText {
  constructor(readonly text: string) {}
}

export const BATCH_MAX = 100;
/** A bound of a [from, to] search range: a real calendar date, or a date-time with its zone. */
const RANGE_BOUND = { anyOf: [{ type: 'string', format: 'date' }, { type: 'string', format: 'date-time' }] };

export interface BatchOperation {
  operation: 'create' | 'update' | 'patch' | 'delete';
  id?: string;
  object?: Record<string, unknown>;
  patch_directives?: PatchOp[];
}

export interface BatchResult {
  index: number;
  operation: string;
  id?: string;
  status: number;
  success: boolean;
  object?: Record<string, unknown>;
  error?: { code: string; message: string; errors?: FieldError[] };
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

const valueAt = (record: Record<string, unknown>, field: string): unknown =>
  field.split('.').reduce<unknown>((v, k) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined), record);

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The record's client-owned part: everything but id and sys_* fields (what a PUT body sets). */
export function fieldsOf(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // for…in over a parsed JSON record (own keys only, no prototype): no [key, value] array per field
  for (const k in record) if (k !== 'id' && !isSysField(k)) out[k] = record[k];
  return out;
}

/**
 * The standard operations of every resource, written once: list, get, create, update, patch, delete,
 * search, lookup and batch. Each write runs in a transaction that reads the row (locked on
 * PostgreSQL), checks preconditions and the lock, and writes with a version check, so a change is
 * all or nothing and never lost silently.
 */
export class ResourceService {
  readonly table: RecordTable;
  constructor(
    readonly resource: Resource,
    private readonly deps: ServiceDeps,
  ) {
    this.table = new RecordTable(resource.table, deps.store.dialect);
    this.idRe = new RegExp(resource.idPattern);
  }
  private readonly idRe: RegExp;

  get label() {
    return this.resource.def.singular;
  }

  /** A record as the API answers it: with the definition's derived fields for today (see `derived`). */
  present<T extends Record<string, unknown>>(record: T): T {
    const derived = this.resource.def.derived;
    if (!derived) return record;
    return { ...record, ...derived.compute(record, this.deps.clock.now().toISOString().slice(0, 10)) };
  }
  /** Stored JSON text as the API answers it (parsed and completed only for a resource with derived fields). */
  private presentText(json: string): string {
    const derived = this.resource.def.derived;
    if (!derived) return json;
    // derived fields are never stored: appended to the stored object's text, not re-serialized with it
    const values = derived.compute(JSON.parse(json) as Record<string, unknown>, this.deps.clock.now().toISOString().slice(0, 10));
    let extra = '';
    for (const [k, v] of Object.entries(values)) if (v !== undefined) extra += `,${JSON.stringify(k)}:${JSON.stringify(v)}`;
    if (!extra) return json;
    const end = json.lastIndexOf('}');
    return json.slice(0, end).trimEnd().endsWith('{') ? `${json.slice(0, end)}${extra.slice(1)}}` : `${json.slice(0, end)}${extra}}`;
  }

  /**
   * Every reference of a body must name an existing record of the same tenant (400 naming the field).
   * Returns the references, for the reference index.
   */
  private async checkRefs(db: Db, ctx: RequestContext, fields: Record<string, unknown>, prefix: string, kind: 'validation' | 'unprocessable' = 'validation'): Promise<RefValue[]> {
    if (!this.resource.refFields.length) return [];
    const refs = this.resource.collectRefs(fields);
    const [errors] = await this.refErrors(db, ctx, [{ refs, prefix }]);
    if (errors!.length) throw invalid(errors!, kind);
    return refs;
  }

  /** The reference errors of many bodies at once: one query per target resource for all of them. */
  private async refErrors(db: Db, ctx: RequestContext, items: { refs: RefValue[]; prefix: string }[]): Promise<FieldError[][]> {
    const byTarget = new Map<string, Set<string>>();
    for (const { refs } of items) {
      for (const r of refs) {
        let ids = byTarget.get(r.target);
        if (!ids) byTarget.set(r.target, (ids = new Set()));
        ids.add(r.id);
      }
    }
    const found = new Map<string, Set<string>>();
    for (const [target, ids] of byTarget) found.set(target, await this.deps.resolve(target).table.existingIds(db, ctx.tenantId, [...ids]));
    return items.map(({ refs, prefix }) =>
      refs
        .filter((r) => !found.get(r.target)!.has(r.id))
        .map((r) => ({ field: prefix ? `${prefix}.${r.field}` : r.field, reason: `names a ${this.deps.resolve(r.target).label} that does not exist (${r.id})` })),
    );
  }

  /** The definition's domain rule (e.g. status transitions): a 409 that says why. */
  private checkRule(old: Record<string, unknown> | undefined, next: Record<string, unknown>) {
    const why = this.resource.def.beforeWrite?.(old, next);
    if (why) throw new AppError('conflict', why);
  }

  private async hook(which: 'validate' | 'after', db: Db, ctx: RequestContext, op: 'create' | 'update' | 'patch' | 'delete', old?: StoredRecord, next?: StoredRecord) {
    const fn = this.resource.def.hooks?.[which];
    if (fn) await fn({ db, ctx, services: appServicesOf(this.deps), op, old, next });
  }

  /** What changed in the tracked fields, as a history entry; undefined when nothing tracked changed. */
  private historyEntry(ctx: RequestContext, old: Record<string, unknown> | undefined, next: StoredRecord, via: string) {
    const tracked = this.resource.def.history;
    if (!tracked) return undefined;
    const changes: Record<string, [unknown, unknown]> = {};
    for (const f of tracked) {
      const a = old?.[f];
      const b = next[f];
      if (!equal(a, b)) changes[f] = [a ?? null, b ?? null];
    }
    if (!Object.keys(changes).length) return undefined;
    return { recordId: next.id, at: String(next.sys_last_modified_at), by_id: ctx.actor.sub, via: ctx.via ?? via, changes };
  }

  /** Appends what changed in the tracked fields to the record's history. */
  private async recordHistory(db: Db, ctx: RequestContext, old: Record<string, unknown> | undefined, next: StoredRecord, via: string) {
    const entry = this.historyEntry(ctx, old, next, via);
    if (entry) await historyStore.appendMany(db, ctx.tenantId, this.resource.def.slug, [entry]);
  }

  /**
   * New records that passed every check, written together: the records, their reference-index rows
   * and their history entries, a multi-row INSERT each (batches and bulk jobs).
   */
  private async insertNew(db: Db, ctx: RequestContext, items: { record: StoredRecord; refs: RefValue[] }[]) {
    const slug = this.resource.def.slug;
    await this.table.insertMany(db, ctx.tenantId, items.map((i) => i.record));
    if (this.resource.refFields.length) await refsIndex.insertMany(db, ctx.tenantId, slug, items.map((i) => ({ id: i.record.id, refs: i.refs })));
    const entries = items.flatMap((i) => this.historyEntry(ctx, undefined, i.record, 'create') ?? []);
    if (entries.length) await historyStore.appendMany(db, ctx.tenantId, slug, entries);
  }

  /** Creates may be written together when no hook needs to run between them (and not for singletons). */
  private get writesInBulk(): boolean {
    return !this.resource.def.hooks && !this.resource.def.singleton;
  }

  async history(ctx: RequestContext, id: string, q: PageQuery) {
    const db = this.deps.store.db;
    const before = decodeKey(q.exclusiveStartKey);
    const limit = this.limit(q);
    const exists = await this.table.existingIds(db, ctx.tenantId, [id]);
    if (!exists.size) throw notFound(this.label, id);
    const rows = await historyStore.page(db, ctx.tenantId, this.resource.def.slug, id, before, limit + 1);
    const { items, lastKey } = toPage(rows, limit);
    return { Count: items.length, Items: items, ...(lastKey ? { LastEvaluatedKey: lastKey } : {}) };
  }

  private async saveRefs(db: Db, ctx: RequestContext, id: string, refs: RefValue[], isNew: boolean) {
    if (this.resource.refFields.length) await refsIndex.replace(db, ctx.tenantId, this.resource.def.slug, id, refs, isNew);
  }

  /** A change that keeps every reference as it was needs neither the checks nor the index rewrite. */
  private sameRefs(oldFields: Record<string, unknown>, fields: Record<string, unknown>): boolean {
    if (!this.resource.refFields.length) return true;
    return equal(this.resource.collectRefs(oldFields), this.resource.collectRefs(fields));
  }

  private inTx<T>(db: Db | undefined, fn: (db: Db) => Promise<T>): Promise<T> {
    return db ? fn(db) : this.deps.store.transaction(fn);
  }

  private limit(q: PageQuery) {
    return pageLimit(q.limit, this.deps.pageSizeDefault, this.deps.pageSizeMax);
  }

  private async pageOf(ctx: RequestContext, filters: Filter[], q: PageQuery, fieldsParam: string, raw?: string) {
    const projection = parseProjection(raw, this.resource.projectable, fieldsParam);
    const after = decodeKey(q.exclusiveStartKey);
    const limit = this.limit(q);
    const rows = await this.deps.store.reading(ctx.read, (db) => this.table.page(db, ctx.tenantId, filters, after, limit + 1));
    const { items, lastKey } = toPage(rows, limit);
    return { Items: items.map((r) => project(this.present(r), projection)), lastKey };
  }

  /**
   * A page as JSON text. Without a projection the stored records are spliced in as they are (no parse,
   * no re-serialization: the bulk of a page's cost); with one, the records are projected as usual.
   */
  private async pageText(ctx: RequestContext, filters: Filter[], q: PageQuery, fieldsParam: string, raw: string | undefined, withCount: boolean): Promise<JsonText> {
    const projection = parseProjection(raw, this.resource.projectable, fieldsParam);
    const after = decodeKey(q.exclusiveStartKey);
    const limit = this.limit(q);
    let items: string[];
    let lastKey: string | undefined;
    if (projection) {
      const page = await this.pageOf(ctx, filters, q, fieldsParam, raw);
      items = page.Items.map((r) => JSON.stringify(r));
      lastKey = page.lastKey;
    } else {
      const rows = await this.deps.store.reading(ctx.read, (db) => this.table.pageText(db, ctx.tenantId, filters, after, limit + 1));
      const page = toPage(rows, limit);
      items = page.items.map((r) => this.presentText(r.json));
      lastKey = page.lastKey;
    }
    const count = withCount ? `"Count":${items.length},` : '';
    const key = lastKey ? `,"LastEvaluatedKey":${JSON.stringify(lastKey)}` : '';
    return new JsonText(`{${count}"Items":[${items.join(',')}]${key}}`);
  }

  async list(ctx: RequestContext, q: PageQuery): Promise<JsonText> {
    const page = await this.pageText(ctx, [], q, 'fields', q.fields, true);
    const builtIn = this.resource.def.builtIn;
    if (!builtIn?.list || q.exclusiveStartKey) return page;
    // built-in records lead the first page (they are few); paging keys stay those of stored records
    const projection = parseProjection(q.fields, this.resource.projectable, 'fields');
    const extra = (await builtIn.list(appServicesOf(this.deps), ctx)).map((r) => JSON.stringify(project(r as StoredRecord, projection)));
    if (!extra.length) return page;
    const m = /^\{"Count":(\d+),"Items":\[/.exec(page.text)!;
    const rest = page.text.slice(m[0].length);
    return new JsonText(`{"Count":${Number(m[1]) + extra.length},"Items":[${extra.join(',')}${rest.startsWith(']') ? '' : ','}${rest}`);
  }

  private async isBuiltIn(ctx: RequestContext, id: string): Promise<boolean> {
    const builtIn = this.resource.def.builtIn;
    if (!builtIn) return false;
    return builtIn.has ? builtIn.has(id) : (await builtIn.get(appServicesOf(this.deps), ctx, id)) !== undefined;
  }

  private async builtInRecord(ctx: RequestContext, id: string) {
    const builtIn = this.resource.def.builtIn;
    return builtIn ? builtIn.get(appServicesOf(this.deps), ctx, id) : undefined;
  }

  lookup(ctx: RequestContext, lookup: LookupSpec, value: string, q: PageQuery): Promise<JsonText> {
    const column = this.resource.table.columns.find((c) => c.path.join('.') === lookup.field)!;
    const typed = column.type === 'bool' ? value === 'true' : column.type === 'num' ? Number(value) : value;
    return this.pageText(ctx, [{ column: column.name, op: 'in', values: [typed] }], q, 'fields', q.fields, true);
  }

  /** The search body -> filters (see SearchSpec); empty arrays and strings filter nothing. */
  searchFilters(body: Record<string, unknown>): Filter[] {
    const errors = check(this.resource.searchSchema, body);
    if (errors.length) throw invalid(errors);
    const filters: Filter[] = [];
    for (const [key, spec] of Object.entries(this.resource.def.search)) {
      const v = body[key];
      if (v === undefined || v === null) continue;
      if (spec.kind === 'ids') {
        if ((v as string[]).length) filters.push({ column: 'id', op: 'in', values: v as string[] });
        continue;
      }
      const column = this.resource.table.columns.find((c) => c.path.join('.') === spec.field)!;
      if (spec.kind === 'contains') {
        if (v !== '') filters.push({ column: column.name, op: 'contains', value: v as string });
      } else if (spec.kind === 'in') {
        if ((v as unknown[]).length) filters.push({ column: column.name, op: 'in', values: v as unknown[] });
      } else {
        const [from, to] = v as (string | null)[];
        const bound = (s: string | null | undefined, end: boolean, i: number) => {
          if (s === null || s === undefined || s === '') return undefined;
          if (check(RANGE_BOUND, s).length)
            throw invalid([{ field: `${key}.${i}`, reason: 'must be a date (YYYY-MM-DD), a date-time with a time zone, or empty' }]);
          // A bare date bounds a date-time field by the whole day.
          if (column.type === 'datetime' && s.length === 10) return `${s}T${end ? '23:59:59.999' : '00:00:00.000'}Z`;
          return s;
        };
        const f = bound(from, false, 0);
        const t = bound(to, true, 1);
        if (f !== undefined) filters.push({ column: column.name, op: 'gte', value: f });
        if (t !== undefined) filters.push({ column: column.name, op: 'lte', value: t });
      }
    }
    return filters;
  }

  async search(ctx: RequestContext, body: unknown, q: PageQuery & { fieldsToReturn?: string }): Promise<JsonText> {
    if (!isPlainObject(body)) throw invalid([{ field: '(body)', reason: 'must be an object' }]);
    const filters = this.searchFilters(body);
    return this.pageText(ctx, filters, q, 'fieldsToReturn', q.fieldsToReturn, false);
  }

  /**
   * One record, read from the store's read connection. Without a projection the stored JSON is
   * answered as it is (`text`); with one, the projected record (`record`).
   */
  async get(ctx: RequestContext, id: string, q: { fields?: string } = {}): Promise<{ record?: Record<string, unknown>; text?: JsonText; version: number }> {
    const projection = parseProjection(q.fields, this.resource.projectable, 'fields');
    const reading = this.deps.store.reading;
    if (!projection) {
      const row = await reading(ctx.read, (db) => this.table.getText(db, ctx.tenantId, id));
      if (row) return { text: new JsonText(this.presentText(row.json)), version: row.version };
    }
    const record = (projection ? await reading(ctx.read, (db) => this.table.get(db, ctx.tenantId, id)) : undefined) ?? ((await this.builtInRecord(ctx, id)) as StoredRecord | undefined);
    if (!record) throw notFound(this.label, id);
    // a projection of a stored record is valid JSON of its schema as is: no serializer pass over every property
    if (projection) return { text: new JsonText(JSON.stringify(project(this.present(record), projection))), version: record.sys_version ?? 1 };
    return { record, version: record.sys_version ?? 1 };
  }

  private stamp(ctx: RequestContext, via: string) {
    const now = this.deps.clock.now().toISOString();
    return {
      sys_last_modified_at: now,
      sys_last_modified_by_id: ctx.actor.sub,
      sys_last_security_context: securityContext(ctx, via),
    };
  }

  /** The body of a create or update, with sys_* fields set aside (they are read-only and ignored). */
  private fieldsFromBody(body: unknown, prefix = ''): Record<string, unknown> {
    if (!isPlainObject(body)) throw invalid([{ field: prefix || '(body)', reason: 'must be an object' }]);
    const fields = fieldsOf(body);
    // derived fields (read-only, computed on reads) of a record read and sent back are ignored, as sys_* fields
    for (const k in this.resource.def.derived?.fields) delete fields[k];
    const errors = this.resource.validate(fields, prefix);
    if (errors.length) throw invalid(errors);
    return fields;
  }

  /** `sys`: provenance stamped by server-side writers (bulk loads), see SysStamp. */
  async create(ctx: RequestContext, body: unknown, db?: Db, prefix = '', sys?: SysStamp): Promise<StoredRecord> {
    if (isPlainObject(body) && body.id !== undefined) {
      throw invalid([{ field: prefix ? `${prefix}.id` : 'id', reason: 'is generated by the server; leave it out of a create' }]);
    }
    return this.createRecord(ctx, body, db, prefix, undefined, sys);
  }

  /**
   * A create whose id the server derives (never from a client body): background jobs name their
   * records after what they are about, so that a job that runs again finds them instead of
   * duplicating them. An id that exists already is a 409.
   */
  createWithId(ctx: RequestContext, id: string, fields: Record<string, unknown>, db?: Db): Promise<StoredRecord> {
    if (!this.idRe.test(id)) throw new Error(`${id} does not match the id pattern of ${this.resource.def.slug}`);
    return this.createRecord(ctx, fields, db, '', id);
  }

  /**
   * Many server-built records at once, in the caller's transaction (a billing-run refresh writes its
   * actions this way): validated one by one, references checked with one query per target resource,
   * records, reference-index rows and history written with multi-row INSERTs. A resource with hooks
   * takes the one-by-one path, so that they still run for every record. The first error throws.
   */
  async createManyWithIds(ctx: RequestContext, items: { id: string; fields: Record<string, unknown> }[], db: Db): Promise<StoredRecord[]> {
    if (!this.writesInBulk) {
      const out: StoredRecord[] = [];
      for (const it of items) out.push(await this.createWithId(ctx, it.id, it.fields, db));
      return out;
    }
    const stamp = this.stamp(ctx, 'create');
    const pending = items.map((it) => {
      if (!this.idRe.test(it.id)) throw new Error(`${it.id} does not match the id pattern of ${this.resource.def.slug}`);
      return this.checkedNewRecord(ctx, stamp, this.fieldsFromBody(it.fields), '', it.id);
    });
    const errors = (await this.refErrors(db, ctx, pending)).flat();
    if (errors.length) throw invalid([errors[0]!]);
    await this.insertNew(db, ctx, pending);
    return pending.map((p) => p.record);
  }

  /** A new record built from checked fields, with its references listed. */
  private newRecord(ctx: RequestContext, stamp: ReturnType<ResourceService['stamp']>, fields: Record<string, unknown>, prefix: string, id?: string, sys?: SysStamp) {
    const record: StoredRecord = {
      id: id ?? newId(),
      ...fields,
      sys_created_at: stamp.sys_last_modified_at,
      sys_created_by_id: ctx.actor.sub,
      ...stamp,
      sys_version: 1,
      sys_locked: false,
      ...sys,
    };
    return { record, refs: this.resource.refFields.length ? this.resource.collectRefs(fields) : [], prefix };
  }

  /** newRecord with the definition's domain rule applied (a create checked without hooks). */
  private checkedNewRecord(...args: Parameters<ResourceService['newRecord']>) {
    const made = this.newRecord(...args);
    this.checkRule(undefined, made.record);
    return made;
  }

  private async createRecord(ctx: RequestContext, body: unknown, db: Db | undefined, prefix: string, id?: string, sys?: SysStamp): Promise<StoredRecord> {
    const fields = this.fieldsFromBody(body, prefix);
    const singleton = this.resource.def.singleton === true;
    const { record } = this.newRecord(ctx, this.stamp(ctx, 'create'), fields, prefix, id ?? (singleton ? ctx.tenantId : undefined), sys);
    return this.inTx(db, async (trx) => {
      if (singleton && (await this.table.existingIds(trx, ctx.tenantId, [record.id])).size) {
        throw new AppError('conflict', `this tenant already has its ${this.label} (id ${record.id}); use PUT or PATCH to change it`);
      }
      this.checkRule(undefined, record);
      const refs = await this.checkRefs(trx, ctx, fields, prefix);
      await this.hook('validate', trx, ctx, 'create', undefined, record);
      await this.checkUnique(trx, ctx, record, undefined, prefix);
      await this.withPrefix(prefix, () => this.table.insert(trx, ctx.tenantId, record));
      await this.saveRefs(trx, ctx, record.id, refs, true);
      await this.recordHistory(trx, ctx, undefined, record, 'create');
      await this.hook('after', trx, ctx, 'create', undefined, record);
      return record;
    });
  }

  /**
   * The record's values of each unique index must be free (409 naming the field otherwise). Checked
   * before the write on PostgreSQL, where a failed statement would abort the whole transaction (a
   * batch, a bulk-load chunk, a billing run's actions); the index itself decides when two writers
   * race, and on SQLite, where a failed statement undoes only itself, it is the only check.
   */
  private async checkUnique(db: Db, ctx: RequestContext, next: StoredRecord, old: StoredRecord | undefined, prefix: string) {
    const unique = this.resource.table.unique;
    if (!unique || this.deps.store.dialect !== 'postgres') return;
    for (const u of unique) {
      if (old && u.fields.every((f) => equal(valueAt(old, f), valueAt(next, f)))) continue;
      if (await this.table.clashes(db, ctx.tenantId, u, next)) throw new UniqueClash(u, next, prefix);
    }
  }

  /** Runs a write; a unique clash it meets names its field at the body's place (`operations.3.object.number`). */
  private async withPrefix<T>(prefix: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw e instanceof UniqueClash ? e.at(prefix) : e;
    }
  }

  /** Reads for a change: 404, then If-Match (412), then the lock (423). */
  private async current(db: Db, ctx: RequestContext, id: string, ifMatch: string | undefined, opts: { lockOnly?: boolean; lock?: boolean } = {}) {
    const { lockOnly = false, lock = true } = opts;
    const old = await this.table.get(db, ctx.tenantId, id, { forUpdate: lock });
    if (!old && (await this.isBuiltIn(ctx, id))) throw new AppError('conflict', `${this.label} ${id} is provided by the server and cannot be changed`);
    if (!old) throw notFound(this.label, id);
    if (!ifMatchAllows(ifMatch, old.sys_version)) throw preconditionFailed(old.sys_version);
    if (old.sys_locked === true && !lockOnly) {
      throw new AppError('locked', `${this.label} ${id} is locked; unlock it (PATCH replace /sys_locked false) before changing it`);
    }
    return old;
  }

  private async write(db: Db, ctx: RequestContext, old: StoredRecord, next: StoredRecord): Promise<StoredRecord> {
    if (!(await this.table.update(db, ctx.tenantId, next, old.sys_version, old))) {
      throw new AppError('conflict', `${this.label} ${old.id} was changed by another request; read it again and retry`);
    }
    return next;
  }

  async update(ctx: RequestContext, id: string, body: unknown, ifMatch?: string, db?: Db, prefix = '', sys?: SysStamp): Promise<StoredRecord> {
    const at = (f: string) => (prefix ? `${prefix}.${f}` : f);
    if (isPlainObject(body)) {
      if (body.id !== undefined && body.id !== id) throw invalid([{ field: at('id'), reason: `must be the id of the path (${id}) or left out` }]);
      if (body.sys_version !== undefined && !Number.isInteger(body.sys_version)) {
        throw invalid([{ field: at('sys_version'), reason: 'must be an integer (the version you read)' }]);
      }
    }
    const fields = this.fieldsFromBody(body, prefix);
    const expected = (body as Record<string, unknown>).sys_version as number | undefined;
    return this.inTx(db, async (trx) => {
      const old = await this.current(trx, ctx, id, ifMatch);
      if (expected !== undefined && expected !== old.sys_version) {
        throw new AppError('conflict', `sys_version ${expected} is stale: ${this.label} ${id} is at version ${old.sys_version}; read it again`);
      }
      return this.applyUpdate(trx, ctx, old, fields, prefix, sys);
    });
  }

  /**
   * An update of a record the caller has just read in this transaction (with a row lock on
   * PostgreSQL): the same checks, rules, hooks and history as `update`, without reading it again.
   * For background jobs that read many records and change them one by one.
   */
  async updateRead(ctx: RequestContext, old: StoredRecord, body: Record<string, unknown>, db: Db): Promise<StoredRecord> {
    if (old.sys_locked === true) throw new AppError('locked', `${this.label} ${old.id} is locked; unlock it (PATCH replace /sys_locked false) before changing it`);
    return this.applyUpdate(db, ctx, old, this.fieldsFromBody(body), '');
  }

  private async applyUpdate(trx: Db, ctx: RequestContext, old: StoredRecord, fields: Record<string, unknown>, prefix: string, sys?: SysStamp): Promise<StoredRecord> {
    const oldFields = fieldsOf(old);
    if (equal(fields, oldFields)) return old;
    const next = this.next(ctx, old, fields, 'update');
    if (sys) Object.assign(next, sys);
    return this.change(trx, ctx, old, oldFields, next, fields, prefix, 'update');
  }

  /**
   * The write of an update or a patch once `next` is built: the domain rule, the references (checked
   * and re-indexed only when they changed), the hooks, the versioned write and the history.
   */
  private async change(trx: Db, ctx: RequestContext, old: StoredRecord, oldFields: Record<string, unknown>, next: StoredRecord, fields: Record<string, unknown>, prefix: string, op: 'update' | 'patch'): Promise<StoredRecord> {
    this.checkRule(old, next);
    const unchangedRefs = this.sameRefs(oldFields, fields);
    const refs = unchangedRefs ? [] : await this.checkRefs(trx, ctx, fields, prefix, op === 'patch' ? 'unprocessable' : 'validation');
    await this.hook('validate', trx, ctx, op, old, next);
    await this.checkUnique(trx, ctx, next, old, prefix);
    const saved = await this.withPrefix(prefix, () => this.write(trx, ctx, old, next));
    if (!unchangedRefs) await this.saveRefs(trx, ctx, old.id, refs, false);
    await this.recordHistory(trx, ctx, old, saved, op);
    await this.hook('after', trx, ctx, op, old, saved);
    return saved;
  }

  private next(ctx: RequestContext, old: StoredRecord, fields: Record<string, unknown>, via: string): StoredRecord {
    const sys: Record<string, unknown> = {};
    for (const k in old) if (isSysField(k)) sys[k] = old[k];
    return { id: old.id, ...fields, ...sys, ...this.stamp(ctx, via), sys_version: old.sys_version + 1 } as StoredRecord;
  }

  async patch(ctx: RequestContext, id: string, ops: unknown, ifMatch?: string, db?: Db, prefix = ''): Promise<StoredRecord> {
    const { lockOnly, touchesLock } = checkPatch(ops, prefix);
    if (touchesLock && !ctx.actor.scopes.has('certifications:admin')) {
      throw new AppError('forbidden', 'locking and unlocking records needs the scope certifications:admin');
    }
    /** The patched record, checked; undefined when the patch changes nothing. */
    const patchedFrom = (old: StoredRecord) => {
      const patched = applyPatch(old, ops as PatchOp[], prefix) as Record<string, unknown>;
      const fields = fieldsOf(patched);
      const errors = this.resource.validate(fields, prefix);
      const locked = Object.hasOwn(patched, 'sys_locked') ? patched.sys_locked : false;
      if (typeof locked !== 'boolean') errors.push({ field: prefix ? `${prefix}.sys_locked` : 'sys_locked', reason: 'must be a boolean' });
      if (errors.length) {
        const e = invalid(errors, 'unprocessable');
        throw new AppError('unprocessable', `the patched ${this.label} would be invalid: ${e.message}`, { errors });
      }
      const oldFields = fieldsOf(old);
      if (equal(fields, oldFields) && locked === (old.sys_locked ?? false)) return undefined;
      const next = this.next(ctx, old, fields, 'patch');
      next.sys_locked = locked;
      return { next, fields, oldFields };
    };
    if (!db && this.recordOnlyPatch(ops as PatchOp[], touchesLock)) {
      const store = this.deps.store.db;
      for (let attempt = 0; attempt < 3; attempt++) {
        const old = await this.current(store, ctx, id, ifMatch, { lockOnly, lock: false });
        const made = patchedFrom(old);
        if (!made) return old;
        this.checkRule(old, made.next);
        if (await this.table.update(store, ctx.tenantId, made.next, old.sys_version, old)) return made.next;
      }
      // another write got in each time: the locked path below waits its turn instead
    }
    return this.inTx(db, async (trx) => {
      const old = await this.current(trx, ctx, id, ifMatch, { lockOnly });
      const made = patchedFrom(old);
      if (!made) return old;
      return this.change(trx, ctx, old, made.oldFields, made.next, made.fields, prefix, 'patch');
    });
  }

  /**
   * Whether a patch's only effect is the record itself, so that on PostgreSQL it can skip the
   * transaction: it reaches no reference, no field with history and not the lock, on a resource
   * without write hooks. Such a patch is read without a lock and written with one versioned UPDATE,
   * retried from the read when another write got in between: two round trips instead of four (BEGIN,
   * the locked read, UPDATE, COMMIT). SQLite keeps its transaction, which costs it no round trip.
   */
  private recordOnlyPatch(ops: PatchOp[], touchesLock: boolean): boolean {
    if (this.deps.store.dialect !== 'postgres' || touchesLock || this.resource.def.hooks) return false;
    const touched = touchedFields(ops);
    if (this.resource.refFields.some((f) => touched.has(f.path[0]!))) return false;
    return !(this.resource.def.history ?? []).some((f) => touched.has(f));
  }

  async remove(ctx: RequestContext, id: string, ifMatch?: string, db?: Db): Promise<string> {
    return this.inTx(db, async (trx) => {
      const old = await this.current(trx, ctx, id, ifMatch);
      const referrers = await refsIndex.referrers(trx, ctx.tenantId, this.resource.def.slug, id);
      if (referrers.length) {
        const list = referrers.map((r) => ({ resource: r.source, id: r.source_id, field: r.field }));
        const shown = list.slice(0, 5).map((r) => `${r.resource} ${r.id} (${r.field})`).join(', ');
        throw new AppError('conflict', `${this.label} ${id} is still referred to by ${shown}${list.length > 5 ? ', …' : ''}; remove those references first`, {
          details: { referenced_by: list },
        });
      }
      await this.hook('validate', trx, ctx, 'delete', old, undefined);
      await this.saveRefs(trx, ctx, id, [], false);
      if (!(await this.table.delete(trx, ctx.tenantId, id, old.sys_version))) {
        throw new AppError('conflict', `${this.label} ${id} was changed by another request; read it again and retry`);
      }
      await this.hook('after', trx, ctx, 'delete', old, undefined);
      return id;
    });
  }

  /**
   * Up to 100 operations, each applied wholly or not at all and reported on its own; all in one
   * transaction (one commit for the lot). Every failure is detected before its write, so a failed
   * operation leaves nothing behind and does not disturb the others.
   */
  async batch(ctx: RequestContext, body: unknown) {
    if (!isPlainObject(body) || !Array.isArray(body.operations)) {
      throw invalid([{ field: 'operations', reason: 'is required (an array of operations)' }]);
    }
    const ops = body.operations as unknown[];
    if (ops.length === 0) throw invalid([{ field: 'operations', reason: 'must not be empty' }]);
    if (ops.length > BATCH_MAX) throw invalid([{ field: 'operations', reason: `must have at most ${BATCH_MAX} operations (got ${ops.length})` }]);
    const extra = Object.keys(body).filter((k) => k !== 'operations');
    if (extra.length) throw invalid([{ field: extra[0]!, reason: 'is not a known field' }]);

    const isCreate = (op: unknown) => isPlainObject(op) && op.operation === 'create';
    const results = await this.deps.store.transaction(async (trx) => {
      const out: BatchResult[] = [];
      for (let i = 0; i < ops.length; ) {
        let end = i;
        while (end < ops.length && isCreate(ops[end])) end++;
        if (this.writesInBulk && end - i > 1) {
          // consecutive creates are independent of each other (their ids are new): checked one by
          // one, written together
          out.push(...(await this.batchCreates(trx, ctx, ops.slice(i, end), i)));
          i = end;
          continue;
        }
        out.push(await this.inSavepoint(trx, () => this.batchOne(trx, ctx, ops[i], i)));
        i++;
      }
      return out;
    });
    const success_count = results.filter((r) => r.success).length;
    return { success_count, error_count: results.length - success_count, results };
  }

  /** One operation inside a savepoint: one that fails part-way (a hook after the insert) leaves nothing. */
  private async inSavepoint(trx: Db, fn: () => Promise<BatchResult>): Promise<BatchResult> {
    await sql`savepoint batch_op`.execute(trx);
    const r = await fn();
    await sql.raw(r.success ? 'release savepoint batch_op' : 'rollback to savepoint batch_op').execute(trx);
    if (!r.success) await sql`release savepoint batch_op`.execute(trx);
    return r;
  }

  private static opBase(raw: unknown, index: number) {
    const op = (isPlainObject(raw) ? raw : {}) as Partial<BatchOperation>;
    return { op, base: { index, operation: String(op.operation ?? ''), ...(typeof op.id === 'string' ? { id: op.id } : {}) } };
  }

  private static failure(base: { index: number; operation: string }, e: unknown): BatchResult {
    if (!isAppError(e)) throw e;
    return { ...base, status: e.status, success: false, error: { code: e.kind, message: e.message, ...(e.errors ? { errors: e.errors } : {}) } };
  }

  /** The checks of an operation's envelope (unknown keys, the id a create must not have). */
  private checkEnvelope(raw: unknown, op: Partial<BatchOperation>, at: string) {
    if (!isPlainObject(raw)) throw invalid([{ field: at, reason: 'must be an object' }]);
    const unknown = Object.keys(raw).find((k) => !['operation', 'id', 'object', 'patch_directives'].includes(k));
    if (unknown) throw invalid([{ field: `${at}.${unknown}`, reason: 'is not a known field' }]);
    if (op.operation === 'create' && op.id !== undefined) throw invalid([{ field: `${at}.id`, reason: 'is generated by the server; leave it out of a create' }]);
  }

  /**
   * A run of consecutive creates: each checked on its own (envelope, body, domain rule, references —
   * one query per target resource for the run), those that pass written with multi-row INSERTs. Each
   * gets the result a create on its own would get. Should the write itself fail, the run is undone
   * and its operations are applied one by one.
   */
  private async batchCreates(trx: Db, ctx: RequestContext, ops: unknown[], offset: number): Promise<BatchResult[]> {
    const results: BatchResult[] = new Array(ops.length);
    const stamp = this.stamp(ctx, 'create');
    const pending: (ReturnType<ResourceService['newRecord']> & { k: number })[] = [];
    ops.forEach((raw, k) => {
      const at = `operations.${offset + k}`;
      const { op, base } = ResourceService.opBase(raw, offset + k);
      try {
        this.checkEnvelope(raw, op, at);
        pending.push({ ...this.checkedNewRecord(ctx, stamp, this.fieldsFromBody(op.object, `${at}.object`), `${at}.object`), k });
      } catch (e) {
        results[k] = ResourceService.failure(base, e);
      }
    });
    const refErrors = await this.refErrors(trx, ctx, pending);
    const good = pending.filter((p, n) => {
      if (!refErrors[n]!.length) return true;
      results[p.k] = ResourceService.failure(ResourceService.opBase(ops[p.k], offset + p.k).base, invalid(refErrors[n]!));
      return false;
    });
    if (!good.length) return results;
    await sql`savepoint batch_creates`.execute(trx);
    try {
      await this.insertNew(trx, ctx, good);
      await sql`release savepoint batch_creates`.execute(trx);
      for (const p of good) results[p.k] = { index: offset + p.k, operation: 'create', id: p.record.id, status: 201, success: true, object: p.record };
    } catch {
      await sql`rollback to savepoint batch_creates`.execute(trx);
      await sql`release savepoint batch_creates`.execute(trx);
      for (const p of good) results[p.k] = await this.inSavepoint(trx, () => this.batchOne(trx, ctx, ops[p.k], offset + p.k));
    }
    return results;
  }

  private async batchOne(trx: Db, ctx: RequestContext, raw: unknown, index: number): Promise<BatchResult> {
    const at = `operations.${index}`;
    const { op, base } = ResourceService.opBase(raw, index);
    try {
      this.checkEnvelope(raw, op, at);
      if (op.operation !== 'create' && (typeof op.id !== 'string' || !this.idRe.test(op.id))) {
        if (['update', 'patch', 'delete'].includes(op.operation as string))
          throw invalid([{ field: `${at}.id`, reason: op.id === undefined ? 'is required' : 'is not a valid id' }]);
      }
      switch (op.operation) {
        case 'create': {
          const rec = await this.create(ctx, op.object, trx, `${at}.object`);
          return { ...base, id: rec.id, status: 201, success: true, object: rec };
        }
        case 'update':
          return { ...base, status: 200, success: true, object: await this.update(ctx, op.id!, op.object, undefined, trx, `${at}.object`) };
        case 'patch':
          return { ...base, status: 200, success: true, object: await this.patch(ctx, op.id!, op.patch_directives, undefined, trx, `${at}.patch_directives`) };
        case 'delete':
          await this.remove(ctx, op.id!, undefined, trx);
          return { ...base, status: 200, success: true };
        default:
          throw invalid([{ field: `${at}.operation`, reason: 'must be one of: "create", "update", "patch", "delete"' }]);
      }
    } catch (e) {
      return ResourceService.failure(base, e);
    }
  }
}
