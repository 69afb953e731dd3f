import equal from 'fast-deep-equal';
import { notFound } from '../../../core/errors.js';
import type { RequestContext } from '../../../core/context.js';
import type { StoredRecord } from '../../../store/records.js';
import { historyStore } from '../../../store/history.js';
import type { Db } from '../../../store/store.js';
import { decodeKey, toPage } from '../paging.js';
import type { PageQuery, ServiceCore } from './core.js';

/** The change history of a resource's tracked fields (`history` in its definition): written with each change, read by page. */
export class History {
  constructor(private readonly core: ServiceCore) {}

  /** What changed in the tracked fields, as a history entry; undefined when nothing tracked changed. */
  entry(ctx: RequestContext, old: Record<string, unknown> | undefined, next: StoredRecord, via: string) {
    const tracked = this.core.resource.def.history;
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
  async record(db: Db, ctx: RequestContext, old: Record<string, unknown> | undefined, next: StoredRecord, via: string) {
    const entry = this.entry(ctx, old, next, via);
    if (entry) await historyStore.appendMany(db, ctx.tenantId, this.core.slug, [entry]);
  }

  /** The creation entries of new records, written together (multi-row INSERTs). */
  async recordNew(db: Db, ctx: RequestContext, records: StoredRecord[]) {
    const entries = records.flatMap((r) => this.entry(ctx, undefined, r, 'create') ?? []);
    if (entries.length) await historyStore.appendMany(db, ctx.tenantId, this.core.slug, entries);
  }

  /** GET …/{id}/history: newest first, keyset-paged. */
  async page(ctx: RequestContext, id: string, q: PageQuery) {
    const { core } = this;
    const db = core.deps.store.db;
    const before = decodeKey(q.exclusiveStartKey);
    const limit = core.limit(q);
    const exists = await core.table.existingIds(db, ctx.tenantId, [id]);
    if (!exists.size) throw notFound(core.label, id);
    const rows = await historyStore.page(db, ctx.tenantId, core.slug, id, before, limit + 1);
    const { items, lastKey } = toPage(rows, limit);
    return { Count: items.length, Items: items, ...(lastKey ? { LastEvaluatedKey: lastKey } : {}) };
  }
}
