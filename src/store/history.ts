import { newId } from '../core/ids.js';
import { insertRows } from './store.js';
import type { ServerKysely } from './tables.js';

export interface HistoryEntry {
  id: string;
  at: string;
  by_id: string;
  via: string;
  /** field -> [before, after]; absent on one side when the field was absent. */
  changes: Record<string, [unknown, unknown]>;
}

/** The change history of records (table `history`), newest first, keyset-paged by entry id. */
export const historyStore = {
  async append(db: ServerKysely, tenantId: string, resource: string, recordId: string, e: Omit<HistoryEntry, 'id'>): Promise<void> {
    await this.appendMany(db, tenantId, resource, [{ recordId, ...e }]);
  },

  /** Entries of many records at once (batches, bulk jobs): multi-row INSERTs. */
  async appendMany(
    db: ServerKysely,
    tenantId: string,
    resource: string,
    entries: (Omit<HistoryEntry, 'id'> & { recordId: string })[],
  ): Promise<void> {
    const rows = entries.map((e) => ({
      tenant_id: tenantId,
      resource,
      record_id: e.recordId,
      id: newId(),
      at: e.at,
      by_id: e.by_id,
      via: e.via,
      changes: JSON.stringify(e.changes),
    }));
    await insertRows(db, 'history', rows, 2000);
  },

  async page(
    db: ServerKysely,
    tenantId: string,
    resource: string,
    recordId: string,
    before: string | undefined,
    limit: number,
  ): Promise<HistoryEntry[]> {
    let q = db
      .selectFrom('history')
      .select(['id', 'at', 'by_id', 'via', 'changes'])
      .where('tenant_id', '=', tenantId)
      .where('resource', '=', resource)
      .where('record_id', '=', recordId);
    if (before) q = q.where('id', '<', before);
    const rows = await q.orderBy('id', 'desc').limit(limit).execute();
    return rows.map((r) => ({ ...r, changes: typeof r.changes === 'string' ? JSON.parse(r.changes) : r.changes }) as HistoryEntry);
  },
};
