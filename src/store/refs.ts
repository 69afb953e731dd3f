import type { Kysely } from 'kysely';
import { insertRows, type Db } from './store.js';

/** A row of `refs` (migration 2): the record `source`/`source_id` names `target`/`target_id` in `field`. */
export type RefRow = {
  tenant_id: string;
  target: string;
  target_id: string;
  source: string;
  source_id: string;
  /** dotted path of the referring field */
  field: string;
};
const typed = (db: Db) => db as Kysely<{ refs: RefRow }>;

/** One reference held by a record: its field (dotted path) names a record of another resource. */
export interface RefValue {
  field: string;
  target: string;
  id: string;
}

export interface Referrer {
  source: string;
  source_id: string;
  field: string;
}

/**
 * The reference index (table `refs`), kept in the same transaction as the records it describes, so
 * that deleting a record others still name can be refused with the list of who names it.
 */
export const refsIndex = {
  async replace(db: Db, tenantId: string, source: string, sourceId: string, refs: RefValue[], isNew: boolean): Promise<void> {
    if (!isNew) await this.clear(db, tenantId, source, sourceId);
    await this.insertMany(db, tenantId, source, [{ id: sourceId, refs }]);
  },

  /** The index rows of new records, one row per distinct (target, id, field) of each; multi-row INSERTs. */
  async insertMany(db: Db, tenantId: string, source: string, items: { id: string; refs: RefValue[] }[]): Promise<void> {
    const rows: RefRow[] = [];
    for (const { id, refs } of items) {
      const seen = new Set<string>();
      for (const r of refs) {
        const k = `${r.target}\u0000${r.id}\u0000${r.field}`;
        if (seen.has(k)) continue;
        seen.add(k);
        rows.push({ tenant_id: tenantId, target: r.target, target_id: r.id, source, source_id: id, field: r.field });
      }
    }
    await insertRows(db, 'refs', rows, 2000);
  },

  async clear(db: Db, tenantId: string, source: string, sourceId: string): Promise<void> {
    await typed(db).deleteFrom('refs').where('tenant_id', '=', tenantId).where('source', '=', source).where('source_id', '=', sourceId).execute();
  },

  referrers(db: Db, tenantId: string, target: string, targetId: string, limit = 20): Promise<Referrer[]> {
    return typed(db)
      .selectFrom('refs')
      .select(['source', 'source_id', 'field'])
      .where('tenant_id', '=', tenantId)
      .where('target', '=', target)
      .where('target_id', '=', targetId)
      .orderBy('source')
      .orderBy('source_id')
      .limit(limit)
      .execute();
  },
};
