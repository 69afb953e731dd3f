import type { Db } from '../store/store.js';
import type { OutgoingMail } from './render.js';

/**
 * The outbox: an e-mail is a row first, written in the transaction that decides to send it, and sent
 * later by the MailSender (sender.ts). The row's id is a key the caller derives from what the mail is
 * about (`billingRunActions/<actionId>`, `applicationNotices/<notice>/<application>/<status>/<version>`),
 * so a decision taken twice (a retried job, a replayed hook) queues the mail once: a second insert of
 * the same key does nothing.
 *
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

/** Queues a mail under `key`; false when that key is already queued (or sent): not an error. */
export async function enqueueMail(db: Db, tenantId: string, key: string, mail: OutgoingMail, source: string, now: Date): Promise<boolean> {
  const at = now.toISOString();
  const inserted = await db
    .insertInto('outbox')
    .values({
      tenant_id: tenantId,
      id: key,
      source,
      to_address: mail.to,
      message: JSON.stringify(mail),
      status: 'queued',
      attempts: 0,
      next_attempt_at: at,
      created_at: at,
    })
    .onConflict((oc) => oc.columns(['tenant_id', 'id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

/** The rows queued by one source (e.g. `applications/<id>`), oldest first. */
export async function outboxFor(db: Db, tenantId: string, source: string): Promise<OutboxRow[]> {
  const rows = await db
    .selectFrom('outbox')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('source', '=', source)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ ...r, attempts: Number(r.attempts) }) as OutboxRow);
}

/** A row as the API shows it: no lease internals, the subject read from the stored message. */
export function outboxJson(row: OutboxRow) {
  let subject: string | undefined;
  try {
    subject = (JSON.parse(row.message) as Partial<OutgoingMail>).subject;
  } catch {
    subject = undefined;
  }
  return {
    id: row.id,
    source: row.source,
    to: row.to_address,
    subject: subject ?? null,
    status: row.status,
    attempts: Number(row.attempts),
    created_at: row.created_at,
    sent_at: row.sent_at ?? null,
    last_error: row.last_error ?? null,
  };
}
