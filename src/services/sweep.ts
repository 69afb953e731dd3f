import { fieldsOf } from '../resources/kit/service.js';
import { invalid } from '../core/errors.js';
import type { RequestContext } from '../core/context.js';
import type { HookContext } from '../resources/kit/define.js';
import type { AppServices } from '../resources/kit/context.js';
import type { Db } from '../store/store.js';
import { TemplateError } from '../mail/render.js';
import { DEFAULT_MAIL_FROM, noticeApplies, noticeVars, queueNotice } from './notices.js';
import { applicationExpired } from '../domain/billing/eligibility.js';
import { defaultLapseReason, lapseChanges, lastCoveredDay, type StatusReasonLike } from '../domain/lifecycle/standing.js';

/**
 * What the lifecycle sweep (src/jobs/sweep.ts) does to one record, each in one transaction of its
 * own, with the record locked and its case decided again inside it: so a change happens once however
 * many sweeps reach the record (two processes, a resumed execution), and a record renewed or changed
 * in the meantime is left alone.
 * - lapse: an active certification past the end of its grace period becomes inactive with its
 *   programme's lapse status reason (history via `lifecycle`), and its programme's expiration notice
 *   (lapse_notice_id) is queued once, keyed by the certification and the term it lapsed from;
 * - expire: an open application past its expiration date expires through Lifecycle.expire (its
 *   credits given back).
 */
type Rec = Record<string, any>;

export interface LapseOutcome {
  /** The certification was made inactive by this call. */
  lapsed: boolean;
  /** What happened to the programme's expiration notice: queued, or why it was not sent. */
  notice?: string;
}

const ALL = 100_000;

/** What one sweep looks up once rather than for each certification: the tenant's default lapse reason. */
export interface LapseMemo {
  defaultReason?: { id: string | undefined };
}

export class Sweep {
  constructor(private readonly s: AppServices) {}

  private today() {
    return this.s.clock.now().toISOString().slice(0, 10);
  }

  /** The status reason of lapses when a programme names none (looked up in the caller's transaction). */
  async defaultReason(db: Db, tenantId: string): Promise<string | undefined> {
    const reasons = await this.s.resource('statusReasons').table.page(db, tenantId, [], undefined, ALL);
    return defaultLapseReason(reasons as unknown as StatusReasonLike[]);
  }

  /** Lapses certification `id` when it is due to lapse today; otherwise changes nothing. */
  lapse(ctx: RequestContext, id: string, memo: LapseMemo = {}): Promise<LapseOutcome> {
    const lctx = { ...ctx, via: 'lifecycle' };
    return this.s.store.transaction(async (db) => {
      const certs = this.s.resource('certifications');
      const cert = await certs.table.get(db, ctx.tenantId, id, { forUpdate: true });
      if (!cert) return { lapsed: false };
      const today = this.today();
      const program =
        typeof cert.program_id === 'string' ? await this.s.resource('programs').table.get(db, ctx.tenantId, cert.program_id) : undefined;
      if (typeof program?.lapse_status_reason_id !== 'string' && !memo.defaultReason)
        memo.defaultReason = { id: await this.defaultReason(db, ctx.tenantId) };
      const reason = typeof program?.lapse_status_reason_id === 'string' ? undefined : memo.defaultReason?.id;
      const changes = lapseChanges(cert, program, reason, today);
      if (!changes) return { lapsed: false };
      const lapsed: Rec = { ...cert, ...changes };
      let notice: string | undefined;
      if (program && typeof program.lapse_notice_id === 'string') {
        notice = await this.notify(db, ctx, lapsed, program, today);
        if (notice === 'queued') changes.lapse_notice_sent_date = today;
      }
      await certs.updateRead(lctx, cert, { ...fieldsOf(cert), ...changes }, db);
      return { lapsed: true, ...(notice ? { notice } : {}) };
    });
  }

  /**
   * Queues the programme's expiration notice for a certification that lapses now, under a key naming
   * the certification and the last day of the term it lapsed from: once per lapse, whoever asks again.
   */
  private async notify(db: Db, ctx: RequestContext, cert: Rec, program: Rec, today: string): Promise<string> {
    const notice = await this.s.resource('notices').table.get(db, ctx.tenantId, String(program.lapse_notice_id));
    if (!notice) return `not sent: notice ${program.lapse_notice_id} does not exist`;
    if (!noticeApplies(notice, { program_id: cert.program_id, status: cert.status, status_reason_id: cert.status_reason_id })) {
      return `not sent: notice ${notice.id} is switched off (is_active false) or restricted to other programmes, statuses or status reasons`;
    }
    const key = `lapse/${cert.id}/${lastCoveredDay(cert) ?? today}`;
    try {
      const r = await queueNotice(
        db,
        ctx.tenantId,
        key,
        notice,
        cert.email_address,
        noticeVars({ certification: cert, program }),
        `certifications/${cert.id}`,
        this.s.clock.now(),
        this.s.mailFrom || DEFAULT_MAIL_FROM,
      );
      return r === 'queued' ? 'queued' : r === 'duplicate' ? 'not sent: already sent for this lapse' : 'not sent: no address';
    } catch (e) {
      if (e instanceof TemplateError) return `not sent: the notice's template does not render (${e.message})`;
      throw e;
    }
  }

  /** The write hook of programs (programValidate). */
  programValidate(h: HookContext): Promise<void> {
    return programValidate(h);
  }

  /** Expires application `id` when it is open and past its expiration date; true when it did. */
  expire(ctx: RequestContext, id: string): Promise<boolean> {
    return this.s.store.transaction(async (db) => {
      const app = await this.s.resource('applications').table.get(db, ctx.tenantId, id, { forUpdate: true });
      if (!app || !applicationExpired(app, this.today())) return false;
      await this.s.lifecycle.expire({ ...ctx, via: 'lifecycle' }, id, db);
      return true;
    });
  }
}

/** programs, before a write: lapse_status_reason_id must name a reason for the status inactive (or for any status). */
export async function programValidate(h: HookContext): Promise<void> {
  const id = h.next?.lapse_status_reason_id;
  if (h.op === 'delete' || typeof id !== 'string' || id === h.old?.lapse_status_reason_id) return;
  const reason = await h.services.resource('statusReasons').table.get(h.db, h.ctx.tenantId, id);
  if (reason && typeof reason.status === 'string' && reason.status !== 'inactive') {
    throw invalid([
      {
        field: 'lapse_status_reason_id',
        reason: `names a status reason for ${reason.status}; a lapse makes a certification inactive, so the reason must be for inactive (or for any status)`,
      },
    ]);
  }
}
