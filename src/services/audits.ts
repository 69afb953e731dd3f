import { AppError, invalid } from '../core/errors.js';
import type { RequestContext } from '../core/context.js';
import type { HookContext } from '../resources/kit/define.js';
import type { AppServices } from '../resources/kit/context.js';
import type { StoredRecord } from '../store/records.js';
import type { Db } from '../store/store.js';
import { TemplateError } from '../mail/render.js';
import {
  AUDIT_OUTCOMES,
  DRAW_RANGE,
  auditAfterDraw,
  auditApprovalError,
  auditTransitionError,
  type AuditLike,
  type AuditOutcome,
} from '../domain/lifecycle/audits.js';
import { DEFAULT_MAIL_FROM, noticeApplies, noticeVars, queueNotice } from './notices.js';
import { checkApplicationWindow } from './windows.js';

/**
 * Random CE audits over the store (the rules are domain/lifecycle/audits.ts):
 * - at submit, an application of a process with an `audit_rate` whose requirements are met is drawn
 *   once (crypto.randomInt over [0, 10000)); the draw, the rate and the result are written on the
 *   application (`audit`), and a selected one gets a requested audit, stays pending approval (never
 *   approved automatically) and is sent the process's audit notice;
 * - staff record the audit through POST /applications/{t}/audit/{id}: submitted, passed (the
 *   application may then be approved; at once when its process approves automatically) or failed
 *   (rejected, its credits given back);
 * - a write hook keeps the record honest on every path (PUT, PATCH, batch): only submit and the audit
 *   route write `audit` (and bulk loads, which carry history, and admin tokens, which repair data),
 *   and no application selected for an audit becomes approved before its audit passed.
 *
 * The draw comes from crypto.randomInt; tests pin it through AppDeps.auditDraw, which composeServices
 * (services/index.ts) accepts only under the test runner: no configuration can set it.
 */
type Rec = Record<string, any>;
export type AuditDraw = (range: number) => number;

/** The writers of `audit`: the lifecycle's submit and audit route, and bulk loads (records with their history). */
const AUDIT_WRITERS = new Set(['submit', 'audit', 'bulk load']);

/** JSON with sorted keys: the same audit record however a client ordered its members. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as Rec)
      .filter((k) => (v as Rec)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Rec)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

/** applications, before every write: the audit record's writers, and approval only after a passed audit. */
export async function applicationAuditRules(h: HookContext): Promise<void> {
  const next = h.next;
  if (h.op === 'delete' || !next) return;
  const repair = h.ctx.actor?.scopes?.has('certifications:admin') === true; // data repair, recorded in sys_last_security_context
  if (canonical(h.old?.audit) !== canonical(next.audit) && !AUDIT_WRITERS.has(String(h.ctx.via)) && !repair) {
    throw new AppError(
      'conflict',
      'audit is written by submit (the draw) and POST /applications/{tenantId}/audit/{id} (the outcome); send it unchanged (only an admin token may correct it)',
      {
        errors: [{ field: 'audit', reason: 'cannot be written directly' }],
      },
    );
  }
  if (next.status === 'approved' && h.old?.status !== 'approved') {
    const why = auditApprovalError(next.audit as AuditLike | undefined);
    if (why)
      throw new AppError(
        'conflict',
        `application ${next.id} cannot be approved: ${why} (POST /applications/${h.ctx.tenantId}/audit/${next.id})`,
      );
    // a renewal or reinstatement is approved only inside its window, whichever route approves it
    await checkApplicationWindow(h.services, h.db, h.ctx, next, h.services.clock.now().toISOString().slice(0, 10));
  }
}

export class Audits {
  constructor(private readonly s: AppServices) {}

  /** The write hook of applications (applicationAuditRules). */
  applicationRules(h: HookContext): Promise<void> {
    return applicationAuditRules(h);
  }

  /** One draw in [0, DRAW_RANGE): crypto.randomInt, or the test runner's pinned draw. */
  private draw(): number {
    const d = this.s.auditDraw(DRAW_RANGE);
    if (!Number.isInteger(d) || d < 0 || d >= DRAW_RANGE) throw new Error(`audit draw out of range: ${d}`);
    return d;
  }

  /**
   * At submit, once the requirements are met (status pending approval or approved): the draw, once per
   * application. Answers the status the application takes (a selected, not yet passed audit keeps it
   * pending approval) and the audit record to write, if any.
   */
  async atSubmit(db: Db, ctx: RequestContext, app: StoredRecord, process: Rec, status: string): Promise<{ status: string; audit?: Rec }> {
    if (status !== 'pending approval' && status !== 'approved') return { status };
    const held = app.audit as AuditLike | undefined;
    if (held) return { status: auditApprovalError(held) ? 'pending approval' : status }; // drawn at an earlier submit: never again
    const rate = process.audit_rate;
    if (typeof rate !== 'number') return { status };
    const now = this.s.clock.now().toISOString();
    const audit: Rec = auditAfterDraw(rate, this.draw(), now, process.audit_documents_due_days);
    if (!audit.selected) return { status, audit };
    audit.notice = await this.notify(db, ctx, { ...app, status: 'pending approval', audit }, process, audit);
    return { status: 'pending approval', audit };
  }

  /** Queues the process's audit notice to the applicant; answers what became of it (recorded on the audit). */
  private async notify(db: Db, ctx: RequestContext, app: Rec, process: Rec, audit: Rec): Promise<string> {
    if (typeof process.audit_notice_id !== 'string') return 'not sent: the process names no audit notice';
    const notice = await this.s.resource('applicationNotices').table.get(db, ctx.tenantId, process.audit_notice_id);
    if (!notice) return 'not sent: the audit notice does not exist';
    if (!noticeApplies(notice, { program_id: app.program_id, status: app.status, status_reason_id: app.status_reason_id })) {
      return 'not sent: the audit notice is inactive or restricted to other programmes or statuses';
    }
    const program =
      typeof app.program_id === 'string' ? await this.s.resource('programs').table.get(db, ctx.tenantId, app.program_id) : undefined;
    const vars = noticeVars({ application: app, program, extra: { documents_due_date: audit.documents_due_date, audit_rate: audit.rate } });
    try {
      const out = await queueNotice(
        db,
        ctx.tenantId,
        `applicationNotices/${notice.id}/${app.id}/audit`,
        notice,
        app.email_address,
        vars,
        `applications/${app.id}`,
        this.s.clock.now(),
        this.s.mailFrom || DEFAULT_MAIL_FROM,
      );
      return out === 'no address' ? 'not sent: no address' : 'queued';
    } catch (e) {
      if (e instanceof TemplateError) return `not sent: ${e.message}`;
      throw e;
    }
  }

  /** POST /applications/{t}/audit/{id}: staff record the audit's progress or outcome. */
  async record(ctx: RequestContext, id: string, body: unknown): Promise<StoredRecord> {
    const b = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Rec;
    if (!(AUDIT_OUTCOMES as readonly unknown[]).includes(b.status)) {
      throw invalid([{ field: 'status', reason: `is required: one of ${AUDIT_OUTCOMES.join(', ')}` }], 'bad_request');
    }
    const to = b.status as AuditOutcome;
    const reason = typeof b.reason === 'string' && b.reason.trim() ? b.reason.trim() : undefined;
    if (b.reason !== undefined && typeof b.reason !== 'string')
      throw invalid([{ field: 'reason', reason: 'must be a string' }], 'bad_request');
    if (to === 'failed' && !reason) throw invalid([{ field: 'reason', reason: 'is required when the audit failed' }], 'bad_request');
    if (b.status_reason_id !== undefined && typeof b.status_reason_id !== 'string')
      throw invalid([{ field: 'status_reason_id', reason: 'must be a string' }], 'bad_request');
    const life = this.s.lifecycle;
    return this.s.store.transaction(async (db) => {
      const apps = this.s.resource('applications');
      const app = await apps.table.get(db, ctx.tenantId, id, { forUpdate: true });
      if (!app) throw new AppError('not_found', `application ${id} not found`);
      const why = auditTransitionError(app.audit as AuditLike | undefined, to);
      if (why) throw new AppError('conflict', `application ${id}: ${why}`);
      if (app.status !== 'pending approval') {
        throw new AppError(
          'conflict',
          `application ${id}: an audit is recorded while the application is pending approval; this one is ${app.status ?? 'draft'}`,
        );
      }
      const now = this.s.clock.now().toISOString();
      const audit: Rec = {
        ...(app.audit as Rec),
        status: to,
        ...(to === 'submitted' ? { submitted_at: now } : { decided_at: now, decided_by_id: ctx.actor.sub }),
        ...(reason ? { outcome_reason: reason } : {}),
      };
      const reasonId = typeof b.status_reason_id === 'string' ? { status_reason_id: b.status_reason_id } : {};
      if (to === 'failed') {
        await life.releaseCredits(db, ctx, app);
        return life.setApp(db, ctx, app, { audit, status: 'rejected', decision_notes: `CE audit failed: ${reason}`, ...reasonId }, 'audit');
      }
      const updated = await life.setApp(db, ctx, app, { audit, ...reasonId }, 'audit');
      if (to !== 'passed' || !app.process_id) return updated;
      // a process that approves automatically approves once the audit passed (when the window allows)
      const process = await this.s.resource('applicationProcesses').table.get(db, ctx.tenantId, String(app.process_id));
      if (process?.auto_approve !== true) return updated;
      try {
        await checkApplicationWindow(this.s, db, ctx, updated, now.slice(0, 10));
      } catch (e) {
        if (e instanceof AppError && e.kind === 'conflict') return updated; // staff decide
        throw e;
      }
      return life.setApp(db, ctx, updated, { status: 'approved' }, 'auto-approve');
    });
  }
}
