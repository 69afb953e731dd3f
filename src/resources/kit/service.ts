import type { RequestContext } from '../../core/context.js';
import type { RecordTable, StoredRecord } from '../../store/records.js';
import type { Db } from '../../store/store.js';
import type { LookupSpec, Resource } from './define.js';
import { Batch } from './service/batch.js';
import { ServiceCore, type PageQuery, type ServiceDeps, type SysStamp } from './service/core.js';
import { History } from './service/history.js';
import { Patching } from './service/patch.js';
import { Reads, type JsonText } from './service/reads.js';
import { References } from './service/references.js';
import { Writes } from './service/writes.js';

export { fieldsOf, type PageQuery, type ServiceDeps, type SysStamp } from './service/core.js';
export { JsonText, type ListPage } from './service/reads.js';
export { BATCH_MAX, type BatchOperation, type BatchResult } from './service/batch.js';

/**
 * The standard operations of every resource, written once: list, get, create, update, patch, delete,
 * search, lookup, history and batch. A facade over its parts in service/, one idea each:
 * core.ts (what they share), reads.ts, writes.ts, patch.ts (incl. the lock-free PATCH), batch.ts,
 * references.ts and history.ts.
 */
export class ResourceService {
  readonly table: RecordTable;
  private readonly core: ServiceCore;
  private readonly reads: Reads;
  private readonly writes: Writes;
  private readonly patching: Patching;
  private readonly batches: Batch;
  private readonly changes: History;

  constructor(
    readonly resource: Resource,
    deps: ServiceDeps,
  ) {
    const core = new ServiceCore(resource, deps);
    const refs = new References(core);
    this.core = core;
    this.table = core.table;
    this.changes = new History(core);
    this.reads = new Reads(core);
    this.writes = new Writes(core, refs, this.changes);
    this.patching = new Patching(core, this.writes);
    this.batches = new Batch(core, this.writes, this.patching, refs);
  }

  /** The page size a list query asks for, within the API's bounds (PAGE_SIZE, PAGE_SIZE_MAX); a 400 naming limit otherwise. */
  pageLimit(q: PageQuery): number {
    return this.core.limit(q);
  }

  get label() {
    return this.core.label;
  }

  /** A record as the API answers it: with the definition's derived fields for today (see `derived`). */
  present<T extends Record<string, unknown>>(record: T): T {
    return this.core.present(record);
  }

  // ---- reads (service/reads.ts) ---------------------------------------------------------------------

  list(ctx: RequestContext, q: PageQuery): Promise<JsonText> {
    return this.reads.list(ctx, q);
  }

  lookup(ctx: RequestContext, lookup: LookupSpec, value: string, q: PageQuery): Promise<JsonText> {
    return this.reads.lookup(ctx, lookup, value, q);
  }

  /** Records whose fields equal the values of `equal` and differ from `notEqual`'s (extracted columns), paged like a lookup. */
  matching(ctx: RequestContext, equal: Record<string, unknown>, q: PageQuery, notEqual?: Record<string, unknown>): Promise<JsonText> {
    return this.reads.matching(ctx, equal, q, notEqual);
  }

  /** The search body -> filters (see SearchSpec); empty arrays and strings filter nothing. */
  searchFilters(body: Record<string, unknown>) {
    return this.reads.searchFilters(body);
  }

  search(ctx: RequestContext, body: unknown, q: PageQuery & { fieldsToReturn?: string }): Promise<JsonText> {
    return this.reads.search(ctx, body, q);
  }

  /** One record: the stored JSON as it is (`text`), or the projected record (`record`). */
  get(ctx: RequestContext, id: string, q: { fields?: string } = {}) {
    return this.reads.get(ctx, id, q);
  }

  history(ctx: RequestContext, id: string, q: PageQuery) {
    return this.changes.page(ctx, id, q);
  }

  // ---- writes (service/writes.ts, service/patch.ts) -------------------------------------------------

  /** `sys`: provenance stamped by server-side writers (bulk loads), see SysStamp. */
  create(ctx: RequestContext, body: unknown, db?: Db, prefix = '', sys?: SysStamp): Promise<StoredRecord> {
    return this.writes.create(ctx, body, db, prefix, sys);
  }

  /** A create whose id the server derives (background jobs); an id that exists already is a 409. */
  createWithId(ctx: RequestContext, id: string, fields: Record<string, unknown>, db?: Db): Promise<StoredRecord> {
    return this.writes.createWithId(ctx, id, fields, db);
  }

  /** Many server-built records at once, in the caller's transaction (multi-row INSERTs); the first error throws. */
  createManyWithIds(ctx: RequestContext, items: { id: string; fields: Record<string, unknown> }[], db: Db): Promise<StoredRecord[]> {
    return this.writes.createManyWithIds(ctx, items, db);
  }

  update(ctx: RequestContext, id: string, body: unknown, ifMatch?: string, db?: Db, prefix = '', sys?: SysStamp): Promise<StoredRecord> {
    return this.writes.update(ctx, id, body, ifMatch, db, prefix, sys);
  }

  /** An update of a record the caller has just read (and locked) in this transaction `db`. */
  updateRead(ctx: RequestContext, old: StoredRecord, body: Record<string, unknown>, db: Db): Promise<StoredRecord> {
    return this.writes.updateRead(ctx, old, body, db);
  }

  patch(ctx: RequestContext, id: string, ops: unknown, ifMatch?: string, db?: Db, prefix = ''): Promise<StoredRecord> {
    return this.patching.patch(ctx, id, ops, ifMatch, db, prefix);
  }

  remove(ctx: RequestContext, id: string, ifMatch?: string, db?: Db): Promise<string> {
    return this.writes.remove(ctx, id, ifMatch, db);
  }

  // ---- batch (service/batch.ts) ---------------------------------------------------------------------

  batch(ctx: RequestContext, body: unknown) {
    return this.batches.batch(ctx, body);
  }
}
