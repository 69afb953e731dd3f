import type { Clock } from '../core/clock.js';
import type { Db, Store } from '../store/store.js';
import { asSystem } from '../store/tenant-scope.js';
import { claimOutboxRow, dueOutboxRows, markOutboxFailed, markOutboxSent, renewOutboxClaim, type DueOutboxRow } from '../store/outbox.js';
import { inSavepoint } from '../store/savepoints.js';
import type { Leases } from '../jobs/lease.js';
import type { OutgoingMail } from './render.js';
import { messageIdFor, type MailTransport } from './transport.js';

type LogFn = (obj: Record<string, unknown>, msg: string) => void;

/** The final outcome of a message: sent, or failed for good (its error). */
export interface DeliveryOutcome {
  status: 'sent' | 'failed';
  /** When it was recorded (ISO date-time, from the clock). */
  at: string;
  error?: string;
}

/**
 * Writes a message's final outcome back to what it is about (see recordDelivery in
 * services/notices.ts), in the transaction that records it on the outbox row.
 */
export type DeliveryRecorder = (db: Db, tenantId: string, row: { id: string; source: string }, outcome: DeliveryOutcome) => Promise<void>;

export interface MailSenderOptions {
  store: Store;
  transport: Pick<MailTransport, 'send'>;
  clock: Clock;
  log?: { warn: LogFn; info: LogFn };
  /** The app's leases (jobs/lease.ts): the owner id a claim names and how long it lasts (WORKER_LEASE_MS). */
  leases: Leases;
  /** How often an idle sender looks for due mail (ms). */
  pollMs?: number;
  /** Tries before a mail is given up as failed. */
  maxAttempts?: number;
  /** Rows looked at per round. */
  batch?: number;
  /** Called with each message's final outcome (sent, or failed for good); see DeliveryRecorder. */
  onOutcome?: DeliveryRecorder;
}

const MAX_BACKOFF_S = 3600;

/**
 * Sends the outbox (outbox.ts), across tenants, from any number of processes at once.
 *
 * A round reads a batch of due rows (queued, or retry whose next attempt is due, or sending whose
 * lease lapsed: its sender died), then for each: claims it with a conditional UPDATE that only
 * matches the row as it was read (status, and for a lapsed lease the old owner and until), so of two
 * processes racing for a row exactly one gets it; sends it; marks it sent, or counts the failure and
 * sets the next attempt 2^attempts seconds later (at most an hour), or failed after maxAttempts.
 * A sent row is never claimed again. The final outcome of a row (sent, or failed for good) is
 * written back to what the message is about (onOutcome) in the transaction that records it.
 *
 * Delivery is at least once, not exactly once. SMTP has no two-phase commit: a process that dies (or
 * loses its database) after the server answered 250 but before the row is marked sent leaves it
 * `sending`; when its lease lapses (WORKER_LEASE_MS) another sender sends it again. That window is
 * one message per sender (a sender has one message in flight) per crash. The Message-ID is fixed when
 * the row is queued (outbox.ts) and sent with every attempt, so the second copy is recognisable; the
 * file transport writes a message's file once (named by its Message-ID, written whole or not at all).
 */
export class MailSender {
  private readonly store: Store;
  private readonly transport: Pick<MailTransport, 'send'>;
  private readonly clock: Clock;
  private readonly log?: MailSenderOptions['log'];
  private readonly leases: Leases;
  private readonly pollMs: number;
  private readonly maxAttempts: number;
  private readonly batch: number;
  /** The write-back of final outcomes (the app sets recordDelivery of services/notices.ts). */
  onOutcome?: DeliveryRecorder;

  private started = false;
  private poked = false;
  private inRound = false;
  private timer?: NodeJS.Timeout;
  /** Rounds of this instance run one after another. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(o: MailSenderOptions) {
    this.store = o.store;
    this.transport = o.transport;
    this.clock = o.clock;
    this.log = o.log;
    this.leases = o.leases;
    this.pollMs = o.pollMs ?? 5000;
    this.maxAttempts = o.maxAttempts ?? 8;
    this.batch = o.batch ?? 50;
    this.onOutcome = o.onOutcome;
  }

  /** Polls for due mail until stop(). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule(0);
  }

  /** Stops polling and waits for the round in flight. */
  async stop(): Promise<void> {
    this.started = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.chain.catch(() => {});
  }

  /** Something was queued: look soon rather than at the next poll. */
  poke(): void {
    if (!this.started) return;
    if (this.inRound) this.poked = true;
    else this.schedule(0);
  }

  /** Sends everything due now (until a round claims nothing); resolves with how many were sent. */
  async drain(): Promise<number> {
    let sent = 0;
    for (;;) {
      const r = await this.serial();
      sent += r.sent;
      if (r.claimed === 0) return sent;
    }
  }

  private schedule(ms: number) {
    clearTimeout(this.timer);
    if (!this.started) return;
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  private async tick() {
    this.timer = undefined;
    this.inRound = true;
    let again = false;
    try {
      // A full batch means there may be more: go on at once.
      again = (await this.serial()).claimed >= this.batch;
    } catch (e) {
      this.log?.warn({ err: e instanceof Error ? e.message : String(e) }, 'mail sender round failed');
    } finally {
      this.inRound = false;
    }
    const soon = again || this.poked;
    this.poked = false;
    this.schedule(soon ? 0 : this.pollMs);
  }

  private serial(): Promise<{ claimed: number; sent: number }> {
    const next = this.chain.catch(() => {}).then(() => asSystem(() => this.round()));
    this.chain = next;
    return next;
  }

  private async round(): Promise<{ claimed: number; sent: number }> {
    const now = this.clock.now().toISOString();
    const due = await dueOutboxRows(this.store.db, now, this.batch);
    let claimed = 0;
    let sent = 0;
    for (const row of due) {
      const got = await this.claim(row);
      if (!got) continue;
      claimed++;
      if (await this.deliver(row.tenant_id, row.id, got)) sent++;
    }
    return { claimed, sent };
  }

  /** Takes the row if it is still as read; undefined when another sender was first. */
  private claim(row: DueOutboxRow) {
    return claimOutboxRow(this.store.db, row, this.leases.owner, this.leases.until(), this.clock.now().toISOString());
  }

  /**
   * Runs `mark` (the UPDATE that records an outcome on the outbox row; true when it changed the row)
   * and, when it did, the write-back of that outcome, in one transaction. The write-back runs in a
   * savepoint: should it fail (the record is locked, a rule refuses it), the outcome of the row is
   * still recorded (a sent message must never be sent again for it) and the failure is logged.
   */
  private async record(
    tenantId: string,
    row: { id: string; source: string },
    outcome: DeliveryOutcome,
    mark: (db: Db) => Promise<boolean>,
  ): Promise<void> {
    const onOutcome = this.onOutcome;
    if (!onOutcome) {
      await mark(this.store.db);
      return;
    }
    await this.store.transaction(async (trx) => {
      if (!(await mark(trx))) return;
      try {
        await inSavepoint(trx, this.store.dialect, 'delivery_record', () => onOutcome(trx, tenantId, row, outcome));
      } catch (e) {
        this.log?.warn(
          { tenant_id: tenantId, outbox_id: row.id, source: row.source, err: e instanceof Error ? e.message : String(e) },
          'mail delivery not recorded on its record',
        );
      }
    });
  }

  private async deliver(
    tenantId: string,
    id: string,
    row: { message: string; attempts: number; source: string; messageId?: string },
  ): Promise<boolean> {
    const attempts = row.attempts + 1;
    let mail: OutgoingMail | undefined;
    try {
      mail = JSON.parse(row.message) as OutgoingMail;
    } catch {
      return this.failed(tenantId, id, row.source, attempts, 'the stored message is not valid JSON', true);
    }
    if (!mail.to) return this.failed(tenantId, id, row.source, attempts, 'the message has no recipient', true);
    let messageId: string;
    // the claim is renewed while the server takes its time: the lease (WORKER_LEASE_MS) may be short
    const stopRenewing = this.leases.keep(
      (until) => asSystem(() => renewOutboxClaim(this.store.db, tenantId, id, this.leases.owner, until)),
      () => {},
    );
    try {
      // the Message-ID stored when it was queued (derived from the row for rows of earlier releases)
      ({ messageId } = await this.transport.send(mail, row.messageId ?? messageIdFor(tenantId, id)));
    } catch (e) {
      return this.failed(tenantId, id, row.source, attempts, e instanceof Error ? e.message : String(e), false);
    } finally {
      stopRenewing();
    }
    // Sent. If this update fails (the database is gone) the row stays `sending` and is sent again once
    // its lease lapses: the at-least-once window. Whoever holds the row by now, it was sent: only a
    // row already marked sent is left alone.
    const at = this.clock.now().toISOString();
    await this.record(tenantId, { id, source: row.source }, { status: 'sent', at }, (db) =>
      markOutboxSent(db, tenantId, id, attempts, at, messageId),
    );
    this.log?.info({ tenant_id: tenantId, outbox_id: id, message_id: messageId }, 'mail sent');
    return true;
  }

  /** Counts a failed try: retry after 2^attempts seconds (at most an hour), or failed for good. */
  private async failed(tenantId: string, id: string, source: string, attempts: number, reason: string, permanent: boolean): Promise<false> {
    const error = reason.slice(0, 1000);
    const failed = permanent || attempts >= this.maxAttempts;
    const now = this.clock.now();
    const backoff = Math.min(2 ** attempts, MAX_BACKOFF_S) * 1000;
    // Only while this sender still holds the row: a sender that took over a lapsed lease decides.
    const mark = (db: Db) =>
      markOutboxFailed(db, tenantId, id, this.leases.owner, {
        status: failed ? 'failed' : 'retry',
        attempts,
        error,
        next: new Date(now.getTime() + backoff).toISOString(),
      });
    // A retry is not an outcome yet: the record keeps `queued` until the message is sent or given up.
    if (failed) await this.record(tenantId, { id, source }, { status: 'failed', at: now.toISOString(), error }, mark);
    else await mark(this.store.db);
    this.log?.warn(
      { tenant_id: tenantId, outbox_id: id, attempts, error },
      failed ? 'mail failed; giving up' : 'mail not sent; will retry',
    );
    return false;
  }
}
