import type { Db } from '../store/store.js';
import { insertOutboxRow, outboxRowsOf, type OutboxRow, type OutboxStatus } from '../store/outbox.js';
import type { OutgoingMail } from './render.js';
import { newMessageId } from './transport.js';

/**
 * The outbox: an e-mail is a row first, written in the transaction that decides to send it, and sent
 * later by the MailSender (sender.ts). The row's id is a key the caller derives from what the mail is
 * about (`billingRunActions/<actionId>`, `applicationNotices/<notice>/<application>/<status>/<version>`),
 * so a decision taken twice (a retried job, a replayed hook) queues the mail once: a second insert of
 * the same key does nothing. The row's Message-ID is fixed here, once: every attempt to send it
 * carries the same one, so a copy sent twice (see the at-least-once note in sender.ts) is
 * recognisable. The table, its statuses and its queries: store/outbox.ts.
 */
export type { OutboxRow, OutboxStatus };

/** Queues a mail under `key`; false when that key is already queued (or sent): not an error. */
export function enqueueMail(db: Db, tenantId: string, key: string, mail: OutgoingMail, source: string, now: Date): Promise<boolean> {
  const at = now.toISOString();
  return insertOutboxRow(db, {
    tenant_id: tenantId,
    id: key,
    source,
    to_address: mail.to,
    message: JSON.stringify(mail),
    message_id: newMessageId(mail.from, now),
    next_attempt_at: at,
    created_at: at,
  });
}

/** The rows queued by one source (e.g. `applications/<id>`), oldest first. */
export function outboxFor(db: Db, tenantId: string, source: string): Promise<OutboxRow[]> {
  return outboxRowsOf(db, tenantId, source);
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
