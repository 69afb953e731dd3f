import type { IdempotencyKey, ServerKysely } from './tables.js';

/** A stored Idempotency-Key: in flight while its first request runs, then its answer. */
export type IdempotencyRow = Omit<IdempotencyKey, 'tenant_id' | 'actor' | 'key'>;

export interface KeyRef {
  tenantId: string;
  actor: string;
  key: string;
}

const where = (db: ServerKysely, k: KeyRef) =>
  db.deleteFrom('idempotency_keys').where('tenant_id', '=', k.tenantId).where('actor', '=', k.actor).where('key', '=', k.key);

export const idempotencyStore = {
  /** Claims the key for this request; false when another request holds or held it. Never throws on a duplicate. */
  async claim(db: ServerKysely, k: KeyRef, fingerprint: string, now: string): Promise<boolean> {
    const res = await db
      .insertInto('idempotency_keys')
      .values({ tenant_id: k.tenantId, actor: k.actor, key: k.key, fingerprint, state: 'in_flight', created_at: now })
      .onConflict((oc) => oc.columns(['tenant_id', 'actor', 'key']).doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) === 1;
  },

  async find(db: ServerKysely, k: KeyRef): Promise<IdempotencyRow | undefined> {
    return db
      .selectFrom('idempotency_keys')
      .select(['fingerprint', 'state', 'created_at', 'status', 'content_type', 'etag', 'body'])
      .where('tenant_id', '=', k.tenantId)
      .where('actor', '=', k.actor)
      .where('key', '=', k.key)
      .executeTakeFirst();
  },

  async complete(
    db: ServerKysely,
    k: KeyRef,
    answer: { status: number; content_type?: string; etag?: string; body: string },
  ): Promise<void> {
    await db
      .updateTable('idempotency_keys')
      .set({
        state: 'done',
        status: answer.status,
        content_type: answer.content_type ?? null,
        etag: answer.etag ?? null,
        body: answer.body,
      })
      .where('tenant_id', '=', k.tenantId)
      .where('actor', '=', k.actor)
      .where('key', '=', k.key)
      .execute();
  },

  /** Forgets a key (its request failed with a 5xx, or the key expired), so that it can be used again. */
  async release(db: ServerKysely, k: KeyRef, createdAt?: string): Promise<void> {
    let q = where(db, k);
    if (createdAt) q = q.where('created_at', '=', createdAt);
    await q.execute();
  },

  async purgeBefore(db: ServerKysely, before: string): Promise<number> {
    const res = await db.deleteFrom('idempotency_keys').where('created_at', '<', before).executeTakeFirst();
    return Number(res.numDeletedRows);
  },
};
