import { invalid } from '../core/errors.js';
import type { RequestContext } from '../core/context.js';
import type { HookContext } from '../resources/kit/define.js';
import { fieldsOf } from '../resources/kit/service.js';
import type { AppServices } from '../resources/kit/context.js';
import type { Db } from '../store/store.js';
import { enqueueMail } from '../mail/outbox.js';
import type { DeliveryOutcome, DeliveryRecorder } from '../mail/sender.js';
import { renderMessage, TemplateError, templateProblems, type EmailTemplate } from '../mail/render.js';
import { noticeDecision, type NoticeFacts, type NotSentReason } from '../domain/notices/decision.js';

/**
 * Notices become mail: whether a notice goes out (noticeDecision, src/domain/notices), the values
 * its template sees (noticeVars), and the queueing of the rendered message in the outbox
 * (queueNotice, sendNotice) under a key derived from what the notice is about, so the same event
 * never queues it twice. The write hooks here queue application notices on status changes and the
 * exam letters that examRegistrationValidate adds to a registration's notices[]; they run inside the
 * write's transaction, so the mail is queued if and only if the write commits. Sending is the
 * MailSender's (src/mail/sender.ts); what it sent or gave up on is written back by recordDelivery.
 */
type Rec = Record<string, any>;
const ALL = 100_000;
export const DEFAULT_MAIL_FROM = 'accredit <no-reply@localhost>';

const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v : undefined);
const has = (list: unknown, v: unknown) => Array.isArray(list) && v !== undefined && list.includes(v);

/** What became of a notice a sender named: queued in the outbox, or not sent and why. */
export type NoticeOutcome = { status: 'queued' } | { status: 'not sent'; reason: NotSentReason };

/**
 * One named notice (a billing run's reminder or drop notice, a programme's lapse notice): decided by
 * noticeDecision, then rendered and queued under `key` in the caller's transaction. A key queued
 * before is 'not sent: already queued'; a template that does not render is 'not sent' too (the
 * change the notice is about goes on without it).
 */
export async function sendNotice(
  db: Db,
  tenantId: string,
  o: { key: string; notice: Rec | undefined; facts: NoticeFacts; vars: Record<string, unknown>; source: string; now: Date; from: string },
): Promise<NoticeOutcome> {
  const decision = noticeDecision(o.notice, o.facts);
  if (!decision.send) return { status: 'not sent', reason: decision.reason };
  try {
    const queued = await queueNotice(db, tenantId, o.key, o.notice!, decision.address, o.vars, o.source, o.now, o.from);
    return queued === 'queued'
      ? { status: 'queued' }
      : { status: 'not sent', reason: queued === 'duplicate' ? 'already queued' : 'no address' };
  } catch (e) {
    if (e instanceof TemplateError) return { status: 'not sent', reason: 'template does not render' };
    throw e;
  }
}

/**
 * The values of the placeholders (NOTICE_PLACEHOLDERS in mail/render.ts) from the records a notice is
 * about. The person and the status are those of the most specific record given: the exam
 * registration, else the application, else the certification. `extra` (amount, invoice_number, …)
 * wins over everything. The records themselves are there too (`{{program.name}}`, `{{application.id}}`).
 */
export function noticeVars(facts: {
  certification?: Rec;
  application?: Rec;
  program?: Rec;
  exam?: Rec;
  registration?: Rec;
  extra?: Record<string, unknown>;
}): Record<string, unknown> {
  const { certification: cert, application: app, program, exam, registration: reg } = facts;
  const holders = [reg, app, cert].filter((r): r is Rec => r !== undefined);
  const first = (field: string) => holders.map((r) => r[field]).find((v) => v !== undefined && v !== null && v !== '');
  const first_name = first('first_name');
  const last_name = first('last_name');
  const joined = [first_name, last_name].filter((v) => typeof v === 'string' && v).join(' ');
  const vars: Record<string, unknown> = {
    name: first('name') ?? (joined || undefined),
    first_name,
    last_name,
    program_name: program?.name,
    number: cert?.number,
    expiration_date: cert?.expiration_date ?? app?.expiration_date,
    grace_period_end_date: cert?.grace_period_end_date,
    status: first('status'),
    application_type: app?.type,
    exam_name: exam?.name,
    score: reg?.score,
    organization_name: first('organization_name'),
    certification: cert,
    application: app,
    program,
    exam,
    registration: reg,
    ...facts.extra,
  };
  for (const k of Object.keys(vars)) if (vars[k] === undefined || vars[k] === null) delete vars[k];
  return vars;
}

/**
 * Renders a notice's e-mail for `to` and queues it under `key` (in the caller's transaction when `db`
 * is one). 'duplicate' when that key was queued before; 'no address' when there is no recipient.
 * Throws TemplateError when the notice's template does not render.
 */
export async function queueNotice(
  db: Db,
  tenantId: string,
  key: string,
  notice: Rec,
  to: string | undefined,
  vars: Record<string, unknown>,
  source: string,
  now: Date,
  from: string,
): Promise<'queued' | 'duplicate' | 'no address'> {
  const address = text(to)?.trim();
  if (!address) return 'no address';
  const mail = renderMessage((notice.email ?? {}) as EmailTemplate, vars, { from, to: address });
  return (await enqueueMail(db, tenantId, key, mail, source, now)) ? 'queued' : 'duplicate';
}

const fromOf = (s: AppServices) => s.mailFrom || DEFAULT_MAIL_FROM;

/**
 * A notice stored before templates were checked may not render: it is skipped rather than failing
 * the write that triggered it (the status change matters more than its letter).
 */
async function queueOrSkip(run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
  }
}

/**
 * applications, after a write: a status change (or a create with a status) queues every application
 * notice that lists the new status in applicable_statuses and whose restrictions pass, to the
 * application's email_address. A notice listing no statuses is not sent on status changes (billing
 * runs and staff send those). One mail per notice and status change: the key names the write's version.
 */
export async function applicationStatusNotices(h: HookContext): Promise<void> {
  const app = h.next;
  if (h.op === 'delete' || !app) return;
  const status = app.status;
  if (typeof status !== 'string' || h.old?.status === status) return;
  const s = h.services;
  const tenantId = h.ctx.tenantId;
  const facts: NoticeFacts = {
    programIds: [app.program_id],
    status: { status, status_reason_id: app.status_reason_id },
    address: app.email_address,
  };
  const notices = (await s.resource('applicationNotices').table.page(h.db, tenantId, [], undefined, ALL)).filter(
    (n) => has(n.applicable_statuses, status) && noticeDecision(n, facts).send,
  );
  if (!notices.length) return;
  const program = typeof app.program_id === 'string' ? await s.resource('programs').table.get(h.db, tenantId, app.program_id) : undefined;
  const vars = noticeVars({ application: app, program });
  const now = s.clock.now();
  for (const n of notices) {
    const key = `applicationNotices/${n.id}/${app.id}/${status}/${app.sys_version}`;
    await queueOrSkip(() => queueNotice(h.db, tenantId, key, n, app.email_address, vars, `applications/${app.id}`, now, fromOf(s)));
  }
}

const entryKey = (e: Rec) => `${e.exam_notice_id}\u0000${e.kind}\u0000${e.date}`;
/** The outbox key (and so the Message-ID) of an exam letter: one per registration, notice and kind. */
export const examLetterKey = (registrationId: string, e: Rec) =>
  `examRegistrations/${registrationId}/${e.exam_notice_id}/${e.kind ?? 'other'}`;

/**
 * examRegistrations, in the validate hook (before the write): each notices[] entry with status
 * queued that this write adds (an outcome letter, or one a client added) is decided now: it stays
 * queued (examLetterQueued puts it in the outbox) or becomes `not sent` with its `status_reason`
 * (the letter switched off or limited to other exams or statuses, no address, a template that does
 * not render). So the registration says in the answer to the write what became of its letter.
 */
export async function decideExamLetters(h: HookContext): Promise<void> {
  const reg = h.next;
  if (h.op === 'delete' || !reg || !Array.isArray(reg.notices)) return;
  const old = (h.old?.notices as Rec[] | undefined) ?? [];
  const before = new Set(old.map(entryKey));
  // letters queued before under the same outbox key: the outbox would not queue it again
  const queuedBefore = new Set(
    old.filter((e) => e && typeof e.exam_notice_id === 'string' && e.status !== 'not sent').map((e) => examLetterKey(reg.id, e)),
  );
  const s = h.services;
  const out: unknown[] = [];
  for (const e of reg.notices as unknown[]) {
    const entry = e as Rec;
    if (
      !entry ||
      typeof entry !== 'object' ||
      entry.status !== 'queued' ||
      typeof entry.exam_notice_id !== 'string' ||
      before.has(entryKey(entry))
    ) {
      out.push(e);
      continue;
    }
    const notice = await s.resource('examNotices').table.get(h.db, h.ctx.tenantId, entry.exam_notice_id);
    let decision = noticeDecision(notice, {
      examId: typeof reg.exam_id === 'string' ? reg.exam_id : undefined,
      status: { status: String(reg.status ?? '') },
      address: text(entry.email_address) ?? reg.email_address,
    });
    if (decision.send && templateProblems(notice!.email as Rec | undefined).length)
      decision = { send: false, reason: 'template does not render' };
    if (decision.send && queuedBefore.has(examLetterKey(reg.id, entry))) decision = { send: false, reason: 'already queued' };
    out.push(decision.send ? entry : { ...entry, status: 'not sent', status_reason: decision.reason });
  }
  reg.notices = out;
}

/**
 * examRegistrations, after a write: each notices[] entry with status queued that the write added
 * (compared by exam_notice_id, kind and date) queues that exam notice's e-mail to the entry's address
 * (else the registration's). One letter per registration, notice and kind.
 */
export async function examLetterQueued(h: HookContext): Promise<void> {
  const reg = h.next;
  if (h.op === 'delete' || !reg) return;
  const before = new Set(((h.old?.notices as Rec[] | undefined) ?? []).map(entryKey));
  const added = ((reg.notices as Rec[] | undefined) ?? []).filter(
    (e) => e && e.status === 'queued' && typeof e.exam_notice_id === 'string' && !before.has(entryKey(e)),
  );
  if (!added.length) return;
  const s = h.services;
  const tenantId = h.ctx.tenantId;
  const exam = typeof reg.exam_id === 'string' ? await s.resource('exams').table.get(h.db, tenantId, reg.exam_id) : undefined;
  const programIds = exam?.program_ids as string[] | undefined;
  const program = programIds?.length === 1 ? await s.resource('programs').table.get(h.db, tenantId, programIds[0]!) : undefined;
  const now = s.clock.now();
  for (const e of added) {
    // decided by decideExamLetters when the entry was added
    const notice = await s.resource('examNotices').table.get(h.db, tenantId, e.exam_notice_id);
    if (!notice) continue;
    const vars = noticeVars({ registration: reg, exam, program, extra: typeof e.score === 'number' ? { score: e.score } : {} });
    const key = examLetterKey(reg.id, e);
    await queueOrSkip(() =>
      queueNotice(
        h.db,
        tenantId,
        key,
        notice,
        text(e.email_address) ?? reg.email_address,
        vars,
        `examRegistrations/${reg.id}`,
        now,
        fromOf(s),
      ),
    );
  }
}

/** notices, applicationNotices, examNotices: a template that does not render is a 400 naming email.subject / email.body. */
export async function noticeTemplateValidate(h: HookContext): Promise<void> {
  if (h.op === 'delete' || !h.next) return;
  const problems = templateProblems(h.next.email as Rec | undefined);
  if (problems.length) throw invalid(problems);
}

/** The account the mailer writes delivery back as (the `sys_last_security_context` of those writes). */
const mailerContext = (tenantId: string, outboxId: string): RequestContext => ({
  tenantId,
  actor: { sub: 'mailer', tenants: [tenantId], scopes: new Set(['certifications:write', 'certifications:read']) },
  requestId: `outbox:${outboxId}`,
  via: 'mailer',
});

/**
 * The mailer's write-back (MailSender onOutcome): once a message went out (`sent`) or was given up
 * (`failed`, after its last try or at once when it cannot be sent), the record it is about says so,
 * in the transaction that marks the outbox row:
 * - an exam registration: the notices[] entry of that letter (matched by its outbox key) becomes
 *   `sent` with `sent_date`, or `failed` with the error as `status_reason`;
 * - a billing run action: `notice_status` becomes `sent`, or `failed` with `notice_status_reason`.
 * Mail about other records (application status notices) has nothing to write back. A record that is
 * gone, or whose entry is no longer queued, is left as it is.
 */
export function recordDelivery(s: AppServices) {
  return async (db: Db, tenantId: string, row: { id: string; source: string }, outcome: DeliveryOutcome): Promise<void> => {
    const slash = row.source.indexOf('/');
    const slug = row.source.slice(0, slash);
    const id = row.source.slice(slash + 1);
    const ctx = mailerContext(tenantId, row.id);
    const failure = outcome.status === 'failed' ? (outcome.error ?? 'not delivered').slice(0, 1000) : undefined;
    if (slug === 'examRegistrations') {
      const service = s.resource(slug);
      const reg = await service.table.get(db, tenantId, id, { forUpdate: true });
      const entries = (reg?.notices as Rec[] | undefined) ?? [];
      const i = entries.findIndex(
        (e) => e && e.status === 'queued' && typeof e.exam_notice_id === 'string' && examLetterKey(id, e) === row.id,
      );
      if (!reg || i < 0) return;
      const { status_reason: _r, ...entry } = entries[i]!;
      const notices = entries.map((e, n) =>
        n !== i
          ? e
          : failure === undefined
            ? { ...entry, status: 'sent', sent_date: outcome.at }
            : { ...entry, status: 'failed', status_reason: failure },
      );
      await service.updateRead(ctx, reg, { ...fieldsOf(reg), notices }, db);
    } else if (slug === 'billingRunActions') {
      const service = s.resource(slug);
      const action = await service.table.get(db, tenantId, id, { forUpdate: true });
      if (action?.notice_status !== 'queued') return;
      const { notice_status_reason: _r, ...fields } = fieldsOf(action);
      await service.updateRead(
        ctx,
        action,
        { ...fields, notice_status: outcome.status, ...(failure !== undefined ? { notice_status_reason: failure } : {}) },
        db,
      );
    }
  };
}

/**
 * Whether a notice applies to a record's programme and status, by the one rule (noticeDecision);
 * for senders that check the address when they queue (queueNotice answers 'no address').
 */
export function noticeApplies(notice: Rec, facts: { program_id?: unknown; status?: unknown; status_reason_id?: unknown }): boolean {
  return noticeDecision(notice, {
    programIds: [typeof facts.program_id === 'string' ? facts.program_id : undefined],
    ...(typeof facts.status === 'string'
      ? { status: { status: facts.status, status_reason_id: typeof facts.status_reason_id === 'string' ? facts.status_reason_id : null } }
      : {}),
    address: 'checked when queued',
  }).send;
}

/**
 * The app's `notices` service: the notice hooks the definitions call (through their services, so a
 * definition never imports this layer) and the mailer's write-back of outcomes.
 */
export class Notices {
  /** The MailSender's onOutcome (recordDelivery over these services). */
  readonly recordDelivery: DeliveryRecorder;

  constructor(s: AppServices) {
    this.recordDelivery = recordDelivery(s);
  }

  /** applicationNotices, examNotices and notices, before a write: the template renders. */
  templateValidate(h: HookContext): Promise<void> {
    return noticeTemplateValidate(h);
  }

  /** applications, after a write: the application notices of a status change are queued. */
  applicationStatusChanged(h: HookContext): Promise<void> {
    return applicationStatusNotices(h);
  }

  /** examRegistrations, after a write: the letters decided by its validate hook are queued. */
  examLetterQueued(h: HookContext): Promise<void> {
    return examLetterQueued(h);
  }
}
