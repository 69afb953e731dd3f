import { invalid } from '../core/errors.js';
import type { HookContext } from '../resources/kit/define.js';
import type { AppServices } from '../resources/services.js';
import type { Db } from '../store/store.js';
import { enqueueMail } from '../mail/outbox.js';
import { renderMessage, TemplateError, templateProblems, type EmailTemplate } from '../mail/render.js';

/**
 * Notices become mail: which notice applies to what (noticeApplies), the values its template sees
 * (noticeVars), and the queueing of the rendered message in the outbox (queueNotice) under a key
 * derived from what the notice is about, so the same event never queues it twice. The write hooks
 * here queue application notices on status changes and the exam letters that examRegistrationValidate
 * adds to a registration's notices[]; they run inside the write's transaction, so the mail is queued
 * if and only if the write commits. Sending is the MailSender's (src/mail/sender.ts).
 */
type Rec = Record<string, any>;
const ALL = 100_000;
export const DEFAULT_MAIL_FROM = 'accredit <no-reply@localhost>';

const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v : undefined);
const has = (list: unknown, v: unknown) => Array.isArray(list) && v !== undefined && list.includes(v);

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
 * Whether a notice may be sent for these facts: not switched off (is_active false), and within each
 * restriction that is switched on (programs, statuses, status reasons).
 */
export function noticeApplies(notice: Rec, facts: { program_id?: string; status?: string; status_reason_id?: string }): boolean {
  if (notice.is_active === false) return false;
  if (notice.restrict_to_certain_programs === true && !has(notice.restricted_program_ids, facts.program_id)) return false;
  if (notice.restrict_to_certain_statuses === true && !has(notice.applicable_statuses, facts.status)) return false;
  if (notice.restrict_to_certain_status_reasons === true && !has(notice.applicable_status_reason_ids, facts.status_reason_id)) return false;
  return true;
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

const servicesOf = (h: HookContext) => h.services as AppServices;
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
  const s = servicesOf(h);
  const tenantId = h.ctx.tenantId;
  const facts = { program_id: app.program_id, status, status_reason_id: app.status_reason_id };
  const notices = (await s.resource('applicationNotices').table.page(h.db, tenantId, [], undefined, ALL)).filter(
    (n) => has(n.applicable_statuses, status) && noticeApplies(n, facts),
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
  const s = servicesOf(h);
  const tenantId = h.ctx.tenantId;
  const exam = typeof reg.exam_id === 'string' ? await s.resource('exams').table.get(h.db, tenantId, reg.exam_id) : undefined;
  const programIds = exam?.program_ids as string[] | undefined;
  const program = programIds?.length === 1 ? await s.resource('programs').table.get(h.db, tenantId, programIds[0]!) : undefined;
  const now = s.clock.now();
  for (const e of added) {
    const notice = await s.resource('examNotices').table.get(h.db, tenantId, e.exam_notice_id);
    if (!notice || notice.is_active === false) continue;
    const vars = noticeVars({ registration: reg, exam, program, extra: typeof e.score === 'number' ? { score: e.score } : {} });
    const key = `examRegistrations/${reg.id}/${e.exam_notice_id}/${e.kind ?? 'other'}`;
    await queueOrSkip(() => queueNotice(h.db, tenantId, key, notice, text(e.email_address) ?? reg.email_address, vars, `examRegistrations/${reg.id}`, now, fromOf(s)));
  }
}

/** notices, applicationNotices, examNotices: a template that does not render is a 400 naming email.subject / email.body. */
export async function noticeTemplateValidate(h: HookContext): Promise<void> {
  if (h.op === 'delete' || !h.next) return;
  const problems = templateProblems(h.next.email as Rec | undefined);
  if (problems.length) throw invalid(problems);
}
