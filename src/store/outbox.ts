import type { Kysely } from 'kysely';
import type { Db } from './db.js';

/**
 * The `outbox` table (mail/outbox.ts tells what it is for, mail/sender.ts how it is sent): one row per
 * e-mail, keyed by what it is about, with its Message-ID (fixed when queued; null only in rows queued
 * by earlier releases) and a lease (lease_owner, lease_until) while a sender holds it.
 * Statuses: queued -> sending (leased by one sender) -> sent, or -> retry (back-off) -> … -> failed.
 */
export type OutboxStatus = 'queued' | 'sending' | 'sent' | 'retry' | 'failed';

export interface OutboxRow {
  tenant_id: string;
  id: string;
  source: string;
  to_address: string;
  message: string;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: string;
  created_at: string;
  sent_at: string | null;
  message_id: string | null;
  last_error: string | null;
  lease_owner: string | null;
  lease_until: string | null;
}

const outbox = (db: Db) => db as Kysely<{ outbox: OutboxRow }>;

/**
 * Inserts a queued row under its key, with the Message-ID its every attempt carries; false when that
 * key is already there (queued or sent): not an error.
 */
export async function insertOutboxRow(
  db: Db,
  row: Pick<OutboxRow, 'tenant_id' | 'id' | 'source' | 'to_address' | 'message' | 'message_id' | 'next_attempt_at' | 'created_at'>,
): Promise<boolean> {
  const inserted = await outbox(db)
    .insertInto('outbox')
    .values({ ...row, status: 'queued', attempts: 0 })
    .onConflict((oc) => oc.columns(['tenant_id', 'id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

/** The rows queued by one source (e.g. `applications/<id>`) or by several, oldest first. */
export async function outboxRowsOf(db: Db, tenantId: string, source: string | string[]): Promise<OutboxRow[]> {
  if (Array.isArray(source) && !source.length) return [];
  const rows = await outbox(db)
    .selectFrom('outbox')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('source', Array.isArray(source) ? 'in' : '=', source)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ ...r, attempts: Number(r.attempts) }));
}

export type DueOutboxRow = Pick<OutboxRow, 'tenant_id' | 'id' | 'status' | 'lease_owner' | 'lease_until'>;

/** Rows of every tenant due at `now`: queued or retry whose attempt is due, or sending whose lease lapsed (its sender died). */
export function dueOutboxRows(db: Db, now: string, limit: number): Promise<DueOutboxRow[]> {
  return outbox(db)
    .selectFrom('outbox')
    .select(['tenant_id', 'id', 'status', 'lease_owner', 'lease_until'])
    .where((eb) =>
      eb.or([
        eb.and([eb('status', 'in', ['queued', 'retry']), eb('next_attempt_at', '<=', now)]),
        eb.and([eb('status', '=', 'sending'), eb('lease_until', '<', now)]),
      ]),
    )
    .orderBy('next_attempt_at')
    .limit(limit)
    .execute();
}

/**
 * Takes a due row for `owner` until `until` if it is still as read (its status, and for a lapsed lease
 * the old owner and until), so of two senders racing for it exactly one gets it; undefined when
 * another was first.
 */
export async function claimOutboxRow(db: Db, row: DueOutboxRow, owner: string, until: string, now: string) {
  let q = outbox(db)
    .updateTable('outbox')
    .set({ status: 'sending', lease_owner: owner, lease_until: until })
    .where('tenant_id', '=', row.tenant_id)
    .where('id', '=', row.id)
    .where('status', '=', row.status);
  q =
    row.status === 'sending'
      ? q
          .where('lease_owner', row.lease_owner === null ? 'is' : '=', row.lease_owner)
          .where('lease_until', '=', row.lease_until)
          .where('lease_until', '<', now)
      : q.where('next_attempt_at', '<=', now); // still due (not failed and rescheduled meanwhile)
  const got = await q.returning(['message', 'attempts', 'source', 'message_id']).executeTakeFirst();
  return got
    ? { message: String(got.message), attempts: Number(got.attempts), source: String(got.source), messageId: got.message_id ?? undefined }
    : undefined;
}

/** Marks a row sent, whoever holds it by now (it was sent); a row already sent is left alone. True when it changed. */
export async function markOutboxSent(
  db: Db,
  tenantId: string,
  id: string,
  attempts: number,
  at: string,
  messageId: string,
): Promise<boolean> {
  const r = await outbox(db)
    .updateTable('outbox')
    .set({ status: 'sent', attempts, sent_at: at, message_id: messageId, last_error: null, lease_owner: null, lease_until: null })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('status', '<>', 'sent')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Records a failed try (retry at `next`, or failed for good) while `owner` still holds the row. True when it changed. */
export async function markOutboxFailed(
  db: Db,
  tenantId: string,
  id: string,
  owner: string,
  o: { status: 'retry' | 'failed'; attempts: number; error: string; next: string },
): Promise<boolean> {
  const r = await outbox(db)
    .updateTable('outbox')
    .set({ status: o.status, attempts: o.attempts, last_error: o.error, next_attempt_at: o.next, lease_owner: null, lease_until: null })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('status', '=', 'sending')
    .where('lease_owner', '=', owner)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Extends the claim `owner` holds on a row it is sending; false when it holds it no more. */
export async function renewOutboxClaim(db: Db, tenantId: string, id: string, owner: string, until: string): Promise<boolean> {
  const r = await outbox(db)
    .updateTable('outbox')
    .set({ lease_until: until })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('status', '=', 'sending')
    .where('lease_owner', '=', owner)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
