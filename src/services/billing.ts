import { yieldToIo } from '../core/yield.js';
import { applicationExpired, applicationRemindable, certificationDroppable, EXPIRABLE_APPLICATION_STATUSES, REMINDABLE_APPLICATION_STATUSES, renewingCertificationIds } from '../domain/billing/eligibility.js';
import { OPEN_STATUSES } from '../domain/lifecycle/applications.js';
import { fieldsOf } from '../resources/kit/service.js';
import { AppError, invalid, notFound } from '../core/errors.js';
import type { RequestContext } from '../core/context.js';
import type { AppServices } from '../resources/services.js';
import type { Filter, StoredRecord } from '../store/records.js';
import type { Db } from '../store/store.js';
import { nextValue } from '../store/counters.js';
import type { JobContext } from '../jobs/executions.js';
import { BILLING_RUN_JOBS } from '../resources/billingRuns.js';
import { inWindow, passesOptions } from '../domain/billing/filters.js';
import { runStatistics } from '../domain/billing/statistics.js';
import { RelativeDateError, resolveTemplateOptions } from '../domain/billing/relative-dates.js';
import { noticeVars, queueNotice } from './notices.js';

/**
 * Billing runs over the store. Refresh computes the run's candidates and stores them as
 * billingRunActions; execute performs the pending ones. Both run in the background as executions
 * (jobs/executions.ts) and are written to be re-run after a crash:
 * - an action's id is derived from (run, job, record, reminder), so a refresh that runs again finds
 *   the actions it already wrote instead of duplicating them;
 * - each action's effect, its e-mail (queued in the outbox) and its status change commit in one
 *   transaction, and only `pending` actions are performed, so a resumed execution never performs an
 *   action twice nor loses one.
 */
type Rec = Record<string, any>;
type ActionType =
  | 'activate application'
  | 'expire application'
  | 'send application reminder'
  | 'send renewal reminder'
  | 'forecast renewal'
  | 'drop certification'
  | 'bill training provider';

interface Candidate {
  id: string;
  type: ActionType;
  candidate_service: string;
  candidate_id: string;
  name: string;
  certification_id?: string;
  application_id?: string;
  training_provider_id?: string;
  contact_id?: string;
  expiration_date?: string;
  reminder_id?: number;
}

const CODE: Record<ActionType, string> = {
  'activate application': 'activate',
  'expire application': 'expire',
  'send application reminder': 'appremind',
  'send renewal reminder': 'renewremind',
  'forecast renewal': 'forecast',
  'drop certification': 'drop',
  'bill training provider': 'bill',
};
const PAGE = 500;
const day = (d: unknown) => (typeof d === 'string' ? d.slice(0, 10) : undefined);

/** The outcome of performing one action. */
interface Outcome {
  status: 'completed' | 'no longer eligible' | 'expiration date changed' | 'excluded';
  changes?: Rec;
}

const instances = new WeakMap<object, Billing>();

export class Billing {
  static of(s: AppServices): Billing {
    let b = instances.get(s);
    if (!b) instances.set(s, (b = new Billing(s)));
    return b;
  }

  constructor(private readonly s: AppServices) {}

  /** Registers the background handlers (once per app). */
  register() {
    this.s.executions.register('billingRuns', 'refresh', (job) => this.refresh(job));
    this.s.executions.register('billingRuns', 'execute', (job) => this.execute(job));
  }

  private get runs() {
    return this.s.resource('billingRuns');
  }
  private get actions() {
    return this.s.resource('billingRunActions');
  }
  private now() {
    return this.s.clock.now().toISOString();
  }

  /** Every record of `slug` matching `filters`, page by page (bounded memory per page). */
  private async *scan(db: Db, tenantId: string, slug: string, filters: Filter[]): AsyncGenerator<StoredRecord[]> {
    for await (const page of this.s.resource(slug).table.scan(db, tenantId, filters, PAGE)) {
      await yieldToIo();
      yield page;
    }
  }

  private async all(db: Db, tenantId: string, slug: string, filters: Filter[]): Promise<StoredRecord[]> {
    const out: StoredRecord[] = [];
    for await (const page of this.scan(db, tenantId, slug, filters)) out.push(...page);
    return out;
  }

  private async mustRun(db: Db, ctx: RequestContext, id: string): Promise<StoredRecord> {
    const run = await this.runs.table.get(db, ctx.tenantId, id);
    if (!run) throw notFound('billing run', id);
    return run;
  }

  /** Changes the run's own fields (status, dates, statistics) on top of its current version. */
  private async setRun(ctx: RequestContext, id: string, changes: Rec): Promise<StoredRecord> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.s.store.transaction(async (db) => {
          const run = await this.mustRun(db, ctx, id);
          const next = { ...fieldsOf(run), ...changes };
          for (const [k, v] of Object.entries(changes)) if (v === undefined) delete next[k];
          return this.runs.update({ ...ctx, via: 'billing run' }, id, next, undefined, db);
        });
      } catch (e) {
        // a client edited the run meanwhile: apply on top of its version
        if (attempt < 3 && e instanceof AppError && e.kind === 'conflict' && /changed by another request/.test(e.message)) continue;
        throw e;
      }
    }
  }

  // ---- starting (the HTTP actions) -----------------------------------------------------------------

  async startRefresh(ctx: RequestContext, id: string) {
    const run = await this.mustRun(this.s.store.db, ctx, id);
    if (run.status === 'cancelled') throw new AppError('conflict', `billing run ${id} is cancelled`);
    if (run.status === 'running') throw new AppError('conflict', `billing run ${id} is executing; refresh it when the execution ends`);
    return this.s.executions.start(ctx, 'billingRuns', id, 'refresh');
  }

  async startExecute(ctx: RequestContext, id: string) {
    const run = await this.mustRun(this.s.store.db, ctx, id);
    const ok = ['ready for execution', 'scheduled for execution', 'completed', 'error', 'running'];
    if (!ok.includes(String(run.status))) {
      throw new AppError('conflict', `billing run ${id} is ${run.status}; refresh it first (POST /billingRuns/${ctx.tenantId}/refresh/${id}) so that its actions can be reviewed`);
    }
    return this.s.executions.start(ctx, 'billingRuns', id, 'execute');
  }

  /** POST /billingTemplates/{t}/createRun/{id} { run_date, name? }: a draft run with the template's options resolved. */
  async createRunFromTemplate(ctx: RequestContext, templateId: string, body: unknown, extra: Rec = {}, inTx?: Db): Promise<StoredRecord> {
    const b = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Rec;
    const runDate = typeof b.run_date === 'string' ? b.run_date : undefined;
    if (!runDate || Number.isNaN(Date.parse(runDate)) || !/^\d{4}-\d{2}-\d{2}/.test(runDate)) {
      throw invalid([{ field: 'run_date', reason: runDate === undefined ? 'is required (the date the run is for, YYYY-MM-DD or a date-time)' : 'must be a date (YYYY-MM-DD) or a date-time' }]);
    }
    if (b.name !== undefined && typeof b.name !== 'string') throw invalid([{ field: 'name', reason: 'must be a string' }]);
    const work = async (db: Db) => {
      const template = await this.s.resource('billingTemplates').table.get(db, ctx.tenantId, templateId);
      if (!template) throw notFound('billing template', templateId);
      let options: Rec;
      const when = runDate.length === 10 ? `${runDate}T00:00:00.000Z` : new Date(runDate).toISOString();
      try {
        options = resolveTemplateOptions(template, when.slice(0, 10));
      } catch (e) {
        if (e instanceof RelativeDateError) throw invalid([{ field: e.field, reason: e.reason }], 'unprocessable');
        throw e;
      }
      return this.runs.create(
        { ...ctx, via: 'billing template' },
        {
          ...options,
          name: b.name ?? `${template.name} ${when.slice(0, 10)}`,
          status: 'draft',
          template_id: template.id,
          scheduled_run_date: when,
          ...(template.notification_email ? { notification_email: template.notification_email } : {}),
          ...extra,
        },
        db,
      );
    };
    return inTx ? work(inTx) : this.s.store.transaction(work);
  }

  // ---- refresh -------------------------------------------------------------------------------------

  async refresh(job: JobContext) {
    const { ctx } = job;
    const db = this.s.store.db;
    const run = await this.mustRun(db, ctx, job.recordId);
    await this.setRun(ctx, run.id, { status: 'preprocessing', preprocessing_date: this.now(), error: undefined, error_stack: undefined });
    try {
      const candidates = await this.candidates(ctx, run);
      const counts = await this.store(job, run, candidates);
      const stats = await this.statistics(ctx, run.id);
      await this.setRun(ctx, run.id, { status: 'ready for execution', last_refresh_date: this.now(), statistics: stats });
      return { candidates: candidates.length, ...counts };
    } catch (e) {
      if (job.stopping) throw e;
      await this.setRun(ctx, run.id, { status: 'error', error: e instanceof Error ? e.message : String(e), error_stack: e instanceof Error ? String(e.stack).slice(0, 4000) : undefined });
      throw e;
    }
  }

  /** Writes the candidates as actions: new ones added, vanished pending ones marked, completed ones kept. */
  private async store(job: JobContext, run: StoredRecord, candidates: Candidate[]) {
    const { ctx } = job;
    const actx = { ...ctx, via: 'billing run refresh' };
    const when = this.now();
    const existing = new Map<string, StoredRecord>();
    for await (const page of this.scan(this.s.store.db, ctx.tenantId, 'billingRunActions', [{ column: 'f_billing_run_id', op: 'in', values: [run.id] }])) {
      for (const a of page) existing.set(a.id, a);
    }
    const counts = { added: 0, removed: 0, unchanged: 0 };
    const wanted = new Set(candidates.map((c) => c.id));
    let done = 0;
    const writes: ((trx: Db) => Promise<void>)[] = [];
    const creates: { id: string; fields: Record<string, unknown> }[] = [];
    for (const c of candidates) {
      const old = existing.get(c.id);
      const { id, ...fields } = c;
      if (!old) {
        counts.added++;
        creates.push({ id, fields: { ...fields, billing_run_id: run.id, date: when, status: 'pending', outcome_of_last_refresh: 'added', last_refresh_date: when } });
      } else if (old.status === 'no longer eligible') {
        counts.added++;
        writes.push((trx) => this.actions.update(actx, id, { ...fieldsOf(old), ...fields, status: 'pending', outcome_of_last_refresh: 'added', last_refresh_date: when }, undefined, trx).then(() => undefined));
      } else if (old.status === 'pending') {
        counts.unchanged++;
        writes.push((trx) => this.actions.update(actx, id, { ...fieldsOf(old), ...fields, outcome_of_last_refresh: 'no change', last_refresh_date: when }, undefined, trx).then(() => undefined));
      } else counts.unchanged++; // performed (or failed) already: never reset
    }
    for (const [id, old] of existing) {
      if (wanted.has(id) || old.status !== 'pending') continue;
      counts.removed++;
      writes.push((trx) => this.actions.update(actx, id, { ...fieldsOf(old), status: 'no longer eligible', outcome_of_last_refresh: 'removed', last_refresh_date: when }, undefined, trx).then(() => undefined));
    }
    // New actions in chunks of 500 multi-row inserts; changes in chunks of 100 per transaction. Few
    // commits, and a crash loses at most one chunk (redone on resume: the ids are derived).
    const all = creates.length + writes.length;
    for (let i = 0; i < creates.length; i += 500) {
      if (job.stopping) throw new Error('stopping: the refresh resumes where it stopped');
      await this.s.store.transaction((trx) => this.actions.createManyWithIds(actx, creates.slice(i, i + 500), trx));
      done += Math.min(500, creates.length - i);
      await job.progress(done, all);
      await yieldToIo();
    }
    for (let i = 0; i < writes.length; i += 100) {
      if (job.stopping) throw new Error('stopping: the refresh resumes where it stopped');
      await this.s.store.transaction(async (trx) => {
        for (const w of writes.slice(i, i + 100)) await w(trx);
      });
      done += Math.min(100, writes.length - i);
      await job.progress(done, all);
      await yieldToIo();
    }
    return counts;
  }

  private async statistics(ctx: RequestContext, runId: string) {
    const all: { type: string; status: string }[] = [];
    for await (const page of this.scan(this.s.store.db, ctx.tenantId, 'billingRunActions', [{ column: 'f_billing_run_id', op: 'in', values: [runId] }])) {
      for (const a of page) all.push({ type: String(a.type), status: String(a.status) });
    }
    return runStatistics(all);
  }

  /** The candidates of every job switched on, in a stable order. */
  private async candidates(ctx: RequestContext, run: StoredRecord): Promise<Candidate[]> {
    const out: Candidate[] = [];
    const db = this.s.store.db;
    const today = this.now().slice(0, 10);
    const on = (flag: keyof typeof BILLING_RUN_JOBS) => run[flag] === true;
    const opts = (flag: keyof typeof BILLING_RUN_JOBS) => (run[BILLING_RUN_JOBS[flag]] ?? {}) as Rec;
    const make = (type: ActionType, service: string, rec: StoredRecord, extra: Partial<Candidate> = {}): Candidate => ({
      id: `${run.id}|${CODE[type]}|${rec.id}${extra.reminder_id !== undefined ? `|${extra.reminder_id}` : ''}`,
      type,
      candidate_service: service,
      candidate_id: rec.id,
      name: String(rec.name ?? rec.id),
      ...(rec.contact_id ? { contact_id: String(rec.contact_id) } : {}),
      ...extra,
    });
    const appFacts = (a: Rec) => ({ program_id: a.program_id, training_provider_ids: [a.training_provider_id], status_reason_id: a.status_reason_id, application_type: a.type ?? 'certification' });
    const certFacts = (c: Rec) => ({ program_id: c.program_id, training_provider_ids: [c.issuing_training_provider_id, c.renewal_training_provider_id], status_reason_id: c.status_reason_id });
    const appExtra = (a: Rec): Partial<Candidate> => ({ application_id: a.id, ...(day(a.expiration_date) ? { expiration_date: day(a.expiration_date) } : {}) });
    const certExtra = (c: Rec): Partial<Candidate> => ({ certification_id: c.id, ...(day(c.expiration_date) ? { expiration_date: day(c.expiration_date) } : {}) });
    const byStatus = (values: string[]): Filter => ({ column: 'f_status', op: 'in', values });
    const expiring = (start?: string, end?: string): Filter[] => [
      ...(start ? [{ column: 'f_expiration_date', op: 'gte', value: start } as Filter] : []),
      ...(end ? [{ column: 'f_expiration_date', op: 'lte', value: end } as Filter] : []),
    ];

    if (on('activate_applications')) {
      const o = opts('activate_applications');
      for await (const page of this.scan(db, ctx.tenantId, 'applications', [byStatus(['approved'])])) {
        for (const a of page) {
          if (!passesOptions(appFacts(a), o)) continue;
          const evaluation = await this.s.lifecycle.requirements(ctx, a.id);
          if (evaluation.met) out.push(make('activate application', 'applications', a, appExtra(a)));
        }
      }
    }
    if (on('expire_applications')) {
      const o = opts('expire_applications');
      for await (const page of this.scan(db, ctx.tenantId, 'applications', [byStatus(EXPIRABLE_APPLICATION_STATUSES), ...expiring(o.expiration_date_range_start, o.expiration_date_range_end)])) {
        for (const a of page) if (applicationExpired(a, today) && passesOptions(appFacts(a), o)) out.push(make('expire application', 'applications', a, appExtra(a)));
      }
    }
    if (on('send_application_reminders')) {
      const o = opts('send_application_reminders');
      for (const [i, r] of ((o.reminders ?? []) as Rec[]).entries()) {
        const reminder_id = typeof r.id === 'number' ? r.id : i + 1;
        for await (const page of this.scan(db, ctx.tenantId, 'applications', [byStatus(REMINDABLE_APPLICATION_STATUSES), ...expiring(r.expiration_date_range_start, r.expiration_date_range_end)])) {
          for (const a of page) if (passesOptions(appFacts(a), o)) out.push(make('send application reminder', 'applications', a, { ...appExtra(a), reminder_id }));
        }
      }
    }
    if (on('send_renewal_reminders')) {
      const o = opts('send_renewal_reminders');
      const renewing = new Set<string>();
      for await (const page of this.scan(db, ctx.tenantId, 'applications', [byStatus(OPEN_STATUSES)])) {
        for (const id of renewingCertificationIds(page)) renewing.add(id);
      }
      for (const [i, r] of ((o.reminders ?? []) as Rec[]).entries()) {
        const reminder_id = typeof r.id === 'number' ? r.id : i + 1;
        for await (const page of this.scan(db, ctx.tenantId, 'certifications', [byStatus(['active']), ...expiring(r.expiration_date_range_start, r.expiration_date_range_end)])) {
          for (const c of page) {
            if (renewing.has(c.id) || !passesOptions(certFacts(c), o)) continue;
            out.push(make('send renewal reminder', 'certifications', c, { ...certExtra(c), reminder_id }));
          }
        }
      }
    }
    if (on('forecast_renewals')) {
      const o = opts('forecast_renewals');
      for await (const page of this.scan(db, ctx.tenantId, 'certifications', [byStatus(['active']), ...expiring(o.expiration_date_range_start, o.expiration_date_range_end)])) {
        for (const c of page) if (passesOptions(certFacts(c), o)) out.push(make('forecast renewal', 'certifications', c, certExtra(c)));
      }
    }
    if (on('perform_drops')) {
      const o = opts('perform_drops');
      for await (const page of this.scan(db, ctx.tenantId, 'certifications', [byStatus(['active']), ...expiring(o.expiration_date_range_start, o.expiration_date_range_end)])) {
        for (const c of page) if (certificationDroppable(c, today) && passesOptions(certFacts(c), o)) out.push(make('drop certification', 'certifications', c, certExtra(c)));
      }
    }
    if (on('bill_training_providers')) {
      const o = opts('bill_training_providers');
      const lines = await this.billableLines(db, ctx, o);
      const providers = new Map<string, number>();
      for (const l of lines) providers.set(l.training_provider_id, (providers.get(l.training_provider_id) ?? 0) + 1);
      for (const [providerId] of [...providers].sort()) {
        const p = await this.s.resource('trainingProviders').table.get(db, ctx.tenantId, providerId);
        if (p) out.push(make('bill training provider', 'trainingProviders', p, { training_provider_id: p.id }));
      }
    }
    return out;
  }

  /**
   * The registrations to bill under a billing block: a provider's course and exam registrations (not
   * cancelled, not billed yet) dated inside the window, each at its trainingProvPrograms fee for the
   * first programme of the offering (course) or exam that the provider is linked to and the block allows.
   */
  private async billableLines(db: Db, ctx: RequestContext, o: Rec, onlyProvider?: string) {
    const links = new Map<string, Rec>(); // provider|program -> trainingProvPrograms
    for (const l of await this.all(db, ctx.tenantId, 'trainingProvPrograms', onlyProvider ? [{ column: 'f_training_provider_id', op: 'in', values: [onlyProvider] }] : [])) {
      links.set(`${l.training_provider_id}|${l.program_id}`, l);
    }
    const billed = new Set(
      (await db.selectFrom('billed_items').select('item_key').where('tenant_id', '=', ctx.tenantId).execute()).map((r) => String(r.item_key)),
    );
    const lines: { training_provider_id: string; registration_service: 'courseRegistrations' | 'examRegistrations'; registration_id: string; program_id: string; student_id?: string; description: string; fee_type: 'course_fee' | 'live_exam_fee' | 'retest_fee'; amount: number }[] = [];
    const cache = new Map<string, StoredRecord | undefined>();
    const get = async (slug: string, id: unknown) => {
      if (typeof id !== 'string') return undefined;
      const k = `${slug}/${id}`;
      if (!cache.has(k)) cache.set(k, await this.s.resource(slug).table.get(db, ctx.tenantId, id));
      return cache.get(k);
    };
    const whenOf = (r: Rec) => (/^\d{4}-\d{2}-\d{2}/.test(String(r.date ?? '')) ? String(r.date).slice(0, 10) : String(r.sys_created_at ?? '').slice(0, 10));
    const programFor = (provider: string, programs: unknown) => {
      for (const p of (Array.isArray(programs) ? programs : []) as string[]) {
        const link = links.get(`${provider}|${p}`);
        if (link && passesOptions({ program_id: p, training_provider_ids: [provider] }, o)) return link;
      }
      return undefined;
    };
    const filters: Filter[] = onlyProvider ? [{ column: 'f_training_provider_id', op: 'in', values: [onlyProvider] }] : [];
    for await (const page of this.scan(db, ctx.tenantId, 'courseRegistrations', filters)) {
      for (const r of page) {
        const provider = r.training_provider_id as string | undefined;
        if (!provider || r.status === 'cancelled' || r.cancellation_date || billed.has(`courseRegistrations/${r.id}`)) continue;
        if (!inWindow(whenOf(r), o.expiration_date_range_start, o.expiration_date_range_end)) continue;
        const offering = await get('courseOfferings', r.course_offering_id);
        const link = programFor(provider, offering?.program_ids);
        if (!link || typeof link.course_fee !== 'number' || link.course_fee <= 0) continue;
        lines.push({ training_provider_id: provider, registration_service: 'courseRegistrations', registration_id: r.id, program_id: String(link.program_id), ...(r.student_id ? { student_id: String(r.student_id) } : {}), description: `${offering?.name ?? 'course'}: ${r.name ?? r.student_id}`, fee_type: 'course_fee', amount: link.course_fee });
      }
    }
    for await (const page of this.scan(db, ctx.tenantId, 'examRegistrations', filters)) {
      for (const r of page) {
        const provider = r.training_provider_id as string | undefined;
        if (!provider || r.status === 'cancelled' || r.cancellation_date || billed.has(`examRegistrations/${r.id}`)) continue;
        if (!inWindow(whenOf(r), o.expiration_date_range_start, o.expiration_date_range_end)) continue;
        const exam = await get('exams', r.exam_id);
        const link = programFor(provider, exam?.program_ids);
        const process = await get('examRegProcesses', r.process_id);
        const feeType = process?.type === 'retest' ? 'retest_fee' : 'live_exam_fee';
        if (!link || typeof link[feeType] !== 'number' || link[feeType] <= 0) continue;
        lines.push({ training_provider_id: provider, registration_service: 'examRegistrations', registration_id: r.id, program_id: String(link.program_id), ...(r.student_id ? { student_id: String(r.student_id) } : {}), description: `${exam?.name ?? 'exam'}: ${r.name ?? r.student_id}`, fee_type: feeType, amount: link[feeType] });
      }
    }
    return lines;
  }

  // ---- execute -------------------------------------------------------------------------------------

  async execute(job: JobContext) {
    const { ctx } = job;
    const run = await this.mustRun(this.s.store.db, ctx, job.recordId);
    if (run.status !== 'running') await this.setRun(ctx, run.id, { status: 'running', run_date: this.now() });
    const pendingFilter: Filter[] = [
      { column: 'f_billing_run_id', op: 'in', values: [run.id] },
      { column: 'f_status', op: 'in', values: ['pending'] },
    ];
    const stats = await this.statistics(ctx, run.id);
    const total = stats.reduce((n, s) => n + s.total - s.excluded, 0);
    let done = stats.reduce((n, s) => n + s.successful + s.error, 0);
    let errors = 0;
    const table = this.actions.table;
    let after: string | undefined;
    for (;;) {
      // a run cancelled meanwhile stops here; its remaining actions stay pending
      if ((await this.mustRun(this.s.store.db, ctx, run.id)).status === 'cancelled') return { performed: done, errors, cancelled: true };
      const page = await table.page(this.s.store.db, ctx.tenantId, pendingFilter, after, 100);
      for (const a of page) {
        if (job.stopping) throw new Error('stopping: the execution resumes where it stopped');
        if (!(await this.performOne(ctx, run, a.id))) errors++;
        done++;
        if (done % 10 === 0) await yieldToIo();
        if (done % 100 === 0) await job.progress(done, total);
      }
      if (page.length < 100) break;
      after = page[page.length - 1]!.id;
    }
    await job.progress(done, total);
    const final = await this.statistics(ctx, run.id);
    const failed = final.reduce((n, s) => n + s.error, 0);
    await this.setRun(ctx, run.id, {
      status: failed ? 'error' : 'completed',
      statistics: final,
      ...(failed ? { error: `${failed} action(s) ended in error; see their error_message` } : { error: undefined, error_stack: undefined }),
    });
    return { performed: done, errors };
  }

  /** One action: its effect and its new status in one transaction; a failure marks it error. False on error. */
  private async performOne(ctx: RequestContext, run: StoredRecord, actionId: string): Promise<boolean> {
    const actx = { ...ctx, via: 'billing run' };
    try {
      await this.s.store.transaction(async (db) => {
        const a = await this.actions.table.get(db, ctx.tenantId, actionId, { forUpdate: true });
        if (!a || a.status !== 'pending') return; // performed by an earlier (crashed) attempt or another worker
        const outcome = await this.perform(db, actx, run, a);
        await this.actions.updateRead(actx, a, { ...fieldsOf(a), ...(outcome.changes ?? {}), status: outcome.status }, db);
      });
      return true;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      await this.s.store.transaction(async (db) => {
        const a = await this.actions.table.get(db, ctx.tenantId, actionId, { forUpdate: true });
        if (!a || a.status !== 'pending') return;
        await this.actions.update(actx, a.id, { ...fieldsOf(a), status: 'error', error_message: message.slice(0, 2000), ...(e instanceof Error && e.stack && !(e instanceof AppError) ? { error_stack: e.stack.slice(0, 4000) } : {}) }, undefined, db);
      });
      return false;
    }
  }

  private async perform(db: Db, ctx: RequestContext, run: StoredRecord, a: StoredRecord): Promise<Outcome> {
    const get = (slug: string, id: unknown, lock = false) => (typeof id === 'string' ? this.s.resource(slug).table.get(db, ctx.tenantId, id, { forUpdate: lock }) : Promise.resolve(undefined));
    const opts = (flag: keyof typeof BILLING_RUN_JOBS) => (run[BILLING_RUN_JOBS[flag]] ?? {}) as Rec;
    const from = this.s.mailFrom ?? 'accredit <no-reply@localhost>';
    const now = this.s.clock.now();
    const today = now.toISOString().slice(0, 10);
    const notify = async (noticeSlug: string, noticeId: unknown, to: unknown, facts: Parameters<typeof noticeVars>[0], key: string) => {
      const notice = await get(noticeSlug, noticeId);
      if (!notice) return;
      await queueNotice(db, ctx.tenantId, key, notice, typeof to === 'string' ? to : undefined, noticeVars(facts), `billingRunActions/${a.id}`, now, from);
    };
    const certifications = this.s.resource('certifications');

    switch (a.type as ActionType) {
      case 'activate application': {
        const app = await get('applications', a.application_id, true);
        if (!app || app.status !== 'approved') return { status: 'no longer eligible' };
        const { application, certification } = await this.s.lifecycle.activate(ctx, app.id, db);
        const program = await get('programs', certification.program_id);
        await notify('applicationNotices', opts('activate_applications').application_notice_id, application.email_address ?? certification.email_address, { application, certification, program }, `activation/${app.id}`);
        return { status: 'completed' };
      }
      case 'expire application': {
        const app = await get('applications', a.application_id, true);
        if (!app || !EXPIRABLE_APPLICATION_STATUSES.includes(String(app.status ?? 'draft'))) return { status: 'no longer eligible' };
        if (day(app.expiration_date) !== a.expiration_date) return { status: 'expiration date changed' };
        if (!applicationExpired(app, today)) return { status: 'no longer eligible' };
        const application = await this.s.lifecycle.expire(ctx, app.id, db);
        const program = await get('programs', app.program_id);
        await notify('applicationNotices', opts('expire_applications').application_notice_id, app.email_address, { application, program }, `expiry/${app.id}/${a.expiration_date}`);
        return { status: 'completed' };
      }
      case 'send application reminder': {
        const app = await get('applications', a.application_id);
        if (!app || !applicationRemindable(app)) return { status: 'no longer eligible' };
        if (day(app.expiration_date) !== a.expiration_date) return { status: 'expiration date changed' };
        const reminder = this.reminder(opts('send_application_reminders'), a.reminder_id);
        if (!reminder) return { status: 'excluded' };
        const program = await get('programs', app.program_id);
        await notify('applicationNotices', reminder.reminder_notice_id, app.email_address, { application: app, program }, `app-reminder/${app.id}/${reminder.reminder_notice_id}/${a.expiration_date}`);
        return { status: 'completed' };
      }
      case 'send renewal reminder': {
        const cert = await get('certifications', a.certification_id, true);
        if (!cert || cert.status !== 'active') return { status: 'no longer eligible' };
        if (day(cert.expiration_date) !== a.expiration_date) return { status: 'expiration date changed' };
        const reminder = this.reminder(opts('send_renewal_reminders'), a.reminder_id);
        if (!reminder) return { status: 'excluded' };
        const program = await get('programs', cert.program_id);
        await notify('notices', reminder.reminder_notice_id, cert.email_address, { certification: cert, program }, `renewal-reminder/${cert.id}/${reminder.reminder_notice_id}/${a.expiration_date}`);
        await certifications.updateRead(ctx, cert, { ...fieldsOf(cert), last_reminder_sent_date: today }, db);
        return { status: 'completed' };
      }
      case 'forecast renewal': {
        const cert = await get('certifications', a.certification_id, true);
        if (!cert || cert.status !== 'active') return { status: 'no longer eligible' };
        if (day(cert.expiration_date) !== a.expiration_date) return { status: 'expiration date changed' };
        const amount = await this.renewalFee(db, ctx, String(cert.program_id));
        if (amount === undefined) throw new AppError('conflict', `programme ${cert.program_id} has no renewal fee (an active renewal application process with an application_fee_id)`);
        await certifications.updateRead(ctx, cert, { ...fieldsOf(cert), forecasted_renewal_amount: amount }, db);
        return { status: 'completed' };
      }
      case 'drop certification': {
        const cert = await get('certifications', a.certification_id, true);
        if (!cert || cert.status !== 'active') return { status: 'no longer eligible' };
        if (day(cert.expiration_date) !== a.expiration_date) return { status: 'expiration date changed' };
        if (!certificationDroppable(cert, today)) return { status: 'no longer eligible' };
        const reason = await this.dropReason(db, ctx);
        const dropped = await certifications.updateRead(ctx, cert, { ...fieldsOf(cert), status: 'inactive', ...(reason ? { status_reason_id: reason } : {}), termination_date: today, last_termination_date: today }, db);
        const program = await get('programs', cert.program_id);
        await notify('notices', opts('perform_drops').drop_notice_id, cert.email_address, { certification: dropped, program }, `drop/${cert.id}/${a.expiration_date}`);
        return { status: 'completed' };
      }
      case 'bill training provider': {
        const provider = await get('trainingProviders', a.training_provider_id);
        if (!provider) return { status: 'no longer eligible' };
        const o = opts('bill_training_providers');
        const lines = await this.billableLines(db, ctx, o, provider.id);
        if (!lines.length) return { status: 'no longer eligible' };
        const number = await nextValue(db, ctx.tenantId, 'invoices.number', 1);
        const total = Math.round(lines.reduce((s, l) => s + l.amount, 0) * 100) / 100;
        const email = o.email_invoices_to_training_providers === true && typeof provider.email_address === 'string' ? provider.email_address : undefined;
        const invoice = await this.s.resource('invoices').create(
          ctx,
          {
            number,
            status: email ? 'sent' : 'open',
            training_provider_id: provider.id,
            billing_run_id: run.id,
            billing_run_action_id: a.id,
            date: today,
            ...(o.expiration_date_range_start ? { period_start: o.expiration_date_range_start } : {}),
            ...(o.expiration_date_range_end ? { period_end: o.expiration_date_range_end } : {}),
            ...(o.invoice_template_id ? { invoice_template_id: o.invoice_template_id } : {}),
            ...(o.payment_terms_id ? { payment_terms_id: o.payment_terms_id } : {}),
            lines: lines.map(({ training_provider_id: _p, ...l }) => l),
            total,
            ...(email ? { emailed_to: email } : {}),
          },
          db,
        );
        // Each registration is billed once: the unique key refuses a second bill (the transaction rolls back).
        await db.insertInto('billed_items').values(lines.map((l) => ({ tenant_id: ctx.tenantId, item_key: `${l.registration_service}/${l.registration_id}`, invoice_id: invoice.id }))).execute();
        if (email) {
          const rows = lines.map((l) => `<tr><td>${escapeHtml(l.description)}</td><td>${l.fee_type.replace('_', ' ')}</td><td>${l.amount.toFixed(2)}</td></tr>`).join('');
          await queueNotice(
            db,
            ctx.tenantId,
            `invoice/${invoice.id}`,
            { email: { subject: 'Invoice {{invoice_number}} from your certification body', body: `<p>Dear {{organization_name}},</p><p>Invoice {{invoice_number}}: {{amount}}.</p><table>${rows}</table>` } },
            email,
            noticeVars({ extra: { invoice_number: number, amount: total.toFixed(2), organization_name: provider.name } }),
            `billingRunActions/${a.id}`,
            now,
            from,
          );
        }
        return { status: 'completed', changes: { invoice_id: invoice.id } };
      }
      default:
        return { status: 'excluded' };
    }
  }

  private reminder(o: Rec, id: unknown): Rec | undefined {
    return ((o.reminders ?? []) as Rec[]).find((r, i) => (typeof r.id === 'number' ? r.id : i + 1) === id);
  }

  /**
   * The programme's renewal fee: the price of the fee of its (active) renewal application process.
   * Kept per tenant and programme for a few seconds: an execution asks it once per certification.
   */
  private readonly fees = new Map<string, { at: number; fee: number | undefined }>();
  private async renewalFee(db: Db, ctx: RequestContext, programId: string): Promise<number | undefined> {
    const key = `${ctx.tenantId}/${programId}`;
    const hit = this.fees.get(key);
    if (hit && Date.now() - hit.at < 5000) return hit.fee;
    const fee = await this.lookUpRenewalFee(db, ctx, programId);
    if (this.fees.size > 10_000) this.fees.clear();
    this.fees.set(key, { at: Date.now(), fee });
    return fee;
  }

  private async lookUpRenewalFee(db: Db, ctx: RequestContext, programId: string): Promise<number | undefined> {
    const processes = await this.all(db, ctx.tenantId, 'applicationProcesses', [{ column: 'f_program_id', op: 'in', values: [programId] }]);
    const renewal = processes.filter((p) => p.type === 'renewal' && p.is_active !== false && p.application_fee_id).sort((x, y) => x.id.localeCompare(y.id))[0];
    if (!renewal) return undefined;
    const fee = await this.s.resource('applicationFees').table.get(db, ctx.tenantId, String(renewal.application_fee_id));
    return typeof fee?.price === 'number' ? fee.price : undefined;
  }

  /** The status reason a drop records: the first status reason (by name) that explains "inactive". */
  private async dropReason(db: Db, ctx: RequestContext): Promise<string | undefined> {
    const reasons = (await this.all(db, ctx.tenantId, 'statusReasons', [])).filter((r) => r.status === 'inactive' && r.is_active !== false);
    reasons.sort((x, y) => String(x.name).localeCompare(String(y.name)));
    return reasons[0]?.id;
  }
}

function escapeHtml(s: string) {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export const billing = (s: unknown) => Billing.of(s as AppServices);
