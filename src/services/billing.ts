import { CompiledQuery } from 'kysely';
import { yieldToIo } from '../core/yield.js';
import { applicationExpired, applicationRemindable, certificationDroppable, EXPIRABLE_APPLICATION_STATUSES, REMINDABLE_APPLICATION_STATUSES, renewingCertificationIds } from '../domain/billing/eligibility.js';
import { OPEN_STATUSES } from '../domain/lifecycle/applications.js';
import { fieldsOf } from '../resources/kit/service.js';
import { AppError, invalid, notFound } from '../core/errors.js';
import type { RequestContext } from '../core/context.js';
import type { AppServices } from '../resources/kit/context.js';
import type { Filter, StoredRecord } from '../store/records.js';
import type { Db, DialectName } from '../store/store.js';
import { nextValue } from '../store/counters.js';
import type { JobContext } from '../jobs/executions.js';
import { BILLING_RUN_JOBS } from '../domain/billing/runs.js';
import { inWindow, passesOptions } from '../domain/billing/filters.js';
import { runStatistics } from '../domain/billing/statistics.js';
import { RelativeDateError, resolveTemplateOptions } from '../domain/billing/relative-dates.js';
import { noticeVars, queueNotice, sendNotice, type NoticeOutcome } from './notices.js';

/**
 * Billing runs over the store. Refresh computes the run's candidates and stores them as
 * billingRunActions; execute performs the pending ones. Both run in the background as executions
 * (jobs/executions.ts) and are written to be re-run after a crash:
 * - an action's id is derived from (run, job, record, reminder), so a refresh that runs again finds
 *   the actions it already wrote instead of duplicating them;
 * - each action's effect, its e-mail (queued in the outbox) and its status change commit in one
 *   transaction (that of the action's chunk, the action in a savepoint of its own), and only
 *   `pending` actions are performed, so a resumed execution never performs an action twice nor
 *   loses one.
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
/**
 * Actions per transaction of an execution. At most 64: on PostgreSQL each action's savepoint that
 * writes takes a subtransaction id, and a transaction with more than 64 of them overflows the
 * backend's subxid cache (other sessions' snapshots then have to look them up in pg_subtrans).
 */
const CHUNK = 50;
/**
 * A chunk ends early past this many milliseconds (the rest is the next chunk's): on SQLite it holds
 * the single writer, which API writes wait for; on PostgreSQL, the row locks of its records.
 */
const CHUNK_MS: Record<DialectName, number> = { sqlite: 30, postgres: 200 };
const day = (d: unknown) => (typeof d === 'string' ? d.slice(0, 10) : undefined);

/** The outcome of performing one action. */
interface Outcome {
  status: 'completed' | 'no longer eligible' | 'expiration date changed' | 'excluded';
  changes?: Rec;
}

/**
 * What an execution looks up again and again: the renewal fee per programme and the drop reason
 * (once per execution), programmes and notice templates (once per chunk transaction), and the
 * certifications of the chunk's certification actions (read and locked together when it starts).
 */
interface Lookups {
  fees: Map<string, number | undefined>;
  dropReason?: { id: string | undefined };
  /** By `${slug}/${id}`, for the current chunk. */
  records: Map<string, StoredRecord | undefined>;
  /**
   * By id, as read at the chunk's start: each taken once (a second action on the same certification
   * reads it again, after the first one's change), and all dropped as soon as an action that may
   * change other certifications (an activation) runs.
   */
  certifications: Map<string, StoredRecord>;
}
const newLookups = (): Lookups => ({ fees: new Map(), records: new Map(), certifications: new Map() });

/** The actions whose only record is their certification (read and locked first, changed by nothing else). */
const SINGLE_CERTIFICATION = new Set<ActionType>(['send renewal reminder', 'forecast renewal', 'drop certification']);

/**
 * The savepoint around each action of a chunk, its statements compiled once. The savepoint of an
 * action that succeeded is released by the next action's (on PostgreSQL in the same round trip, a
 * simple query of two statements) or by the commit; on SQLite, which runs in process, it is left
 * open: the next one nests inside it, and `rollback to` / `release` act on the newest of that name.
 */
const SAVEPOINT = CompiledQuery.raw('savepoint billing_action');
const NEXT_SAVEPOINT = CompiledQuery.raw('release savepoint billing_action; savepoint billing_action');
const ROLLBACK = CompiledQuery.raw('rollback to savepoint billing_action');
const RELEASE = CompiledQuery.raw('release savepoint billing_action');
const ROLLBACK_AND_RELEASE = CompiledQuery.raw('rollback to savepoint billing_action; release savepoint billing_action');
class Savepoint {
  private held = false;
  constructor(
    private readonly trx: Db,
    private readonly dialect: DialectName,
  ) {}

  async open() {
    await this.trx.executeQuery(this.held && this.dialect === 'postgres' ? NEXT_SAVEPOINT : SAVEPOINT);
    this.held = false;
  }

  /** The action succeeded: what it did is kept. */
  keep() {
    this.held = true;
  }

  /** The action failed: what it did is undone, the transaction goes on. */
  async undo() {
    if (this.dialect === 'postgres') await this.trx.executeQuery(ROLLBACK_AND_RELEASE);
    else {
      await this.trx.executeQuery(ROLLBACK);
      await this.trx.executeQuery(RELEASE);
    }
  }
}

/**
 * PostgreSQL's deadlock_detected, serialization_failure and lock_not_available: contention with
 * another transaction, not the action's fault. A chunk holds the row locks of all its actions, so
 * two chunks (two runs over the same records, an activation and a chunk taking the same counter) can
 * wait for each other where two single actions would not; such a chunk is redone the old way.
 */
const isContention = (e: unknown) => ['40P01', '40001', '55P03'].includes(String((e as { code?: unknown } | null)?.code));

/** An action's fields once it failed with `e`. */
function errorFields(a: StoredRecord, e: unknown): Rec {
  const message = e instanceof Error ? e.message : String(e);
  return { ...fieldsOf(a), status: 'error', error_message: message.slice(0, 2000), ...(e instanceof Error && e.stack && !(e instanceof AppError) ? { error_stack: e.stack.slice(0, 4000) } : {}) };
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

  /**
   * Performs the run's pending actions, a chunk at a time: one transaction per chunk (one commit, and
   * on PostgreSQL one fsync, per chunk instead of per action), each action inside its own savepoint,
   * so that an action that fails is rolled back alone and marked `error` in the same transaction
   * while the others of the chunk are kept. A crash loses at most the chunk in progress: its actions
   * are still pending and the next attempt performs them. Between chunks: cancellation, progress and
   * a turn of the event loop.
   */
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
    const lookups = newLookups();
    const stopping = () => new Error('stopping: the execution resumes where it stopped');
    let after: string | undefined;
    for (;;) {
      // a run cancelled meanwhile stops here; its remaining actions stay pending
      if ((await this.mustRun(this.s.store.db, ctx, run.id)).status === 'cancelled') return { performed: done, errors, cancelled: true };
      if (job.stopping) throw stopping();
      const page = await table.page(this.s.store.db, ctx.tenantId, pendingFilter, after, CHUNK);
      if (!page.length) break;
      const chunk = await this.performChunk(job, run, page.map((a) => a.id), lookups);
      done += chunk.handled;
      errors += chunk.errors;
      await job.progress(done, total);
      if (chunk.stopped) throw stopping();
      // a chunk cut short (its time budget) goes on from its last action; a short page was the last
      if (chunk.handled === page.length && page.length < CHUNK) break;
      after = page[chunk.handled - 1]!.id;
      await yieldToIo();
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

  /**
   * The actions `ids` (in id order) in one transaction: re-read together under lock (FOR UPDATE on
   * PostgreSQL; SQLite's write transactions are serialised), those still pending performed one by one,
   * each in a savepoint. The chunk ends early when the worker is stopping (what is done is committed)
   * or past its time budget (the rest is the next chunk's). `handled` counts the ids dealt with, in
   * order (performed, failed or skipped as no longer pending).
   *
   * Should the chunk fail as a whole (a deadlock with another transaction, see isContention; a
   * savepoint that cannot be rolled back to; an action that cannot even be marked error), it is rolled
   * back and its actions performed as before chunks existed, one transaction each: the same outcome
   * as then, failures included.
   */
  private async performChunk(job: JobContext, run: StoredRecord, ids: string[], lookups: Lookups): Promise<{ handled: number; errors: number; stopped: boolean }> {
    const { ctx } = job;
    const actx = { ...ctx, via: 'billing run' };
    const budget = CHUNK_MS[this.s.store.dialect];
    try {
      return await this.s.store.transaction(async (trx) => {
        const started = performance.now();
        const actions = await this.actions.table.getMany(trx, ctx.tenantId, ids, { forUpdate: true });
        lookups.records = new Map();
        // the certifications of the chunk's certification actions, read (and locked) in one statement
        const certIds = new Set<string>();
        for (const a of actions.values()) {
          if (a.status === 'pending' && SINGLE_CERTIFICATION.has(a.type as ActionType) && typeof a.certification_id === 'string') certIds.add(a.certification_id);
        }
        lookups.certifications = await this.s.resource('certifications').table.getMany(trx, ctx.tenantId, [...certIds], { forUpdate: true });
        const savepoint = new Savepoint(trx, this.s.store.dialect);
        let handled = 0;
        let errors = 0;
        for (const id of ids) {
          if (job.stopping) return { handled, errors, stopped: true };
          if (handled > 0 && performance.now() - started > budget) break;
          handled++;
          const a = actions.get(id);
          if (!a || a.status !== 'pending') continue; // performed by an earlier (crashed) attempt or another worker
          if (!(await this.performInSavepoint(trx, savepoint, actx, run, a, lookups))) errors++;
          if (handled % 10 === 0) await yieldToIo();
        }
        return { handled, errors, stopped: false };
      });
    } catch {
      let handled = 0;
      let errors = 0;
      for (const id of ids) {
        if (job.stopping) return { handled, errors, stopped: true };
        if (!(await this.performOne(ctx, run, id, lookups))) errors++;
        handled++;
      }
      return { handled, errors, stopped: false };
    }
  }

  /**
   * One action of a chunk: its effect and its new status in a savepoint. A failure rolls back to the
   * savepoint (the effect, its e-mail) and marks the action error. False on error. A deadlock or a
   * serialization failure is not the action's fault: it fails the chunk (see performChunk).
   */
  private async performInSavepoint(trx: Db, savepoint: Savepoint, actx: RequestContext, run: StoredRecord, a: StoredRecord, lookups: Lookups): Promise<boolean> {
    await savepoint.open();
    try {
      const outcome = await this.perform(trx, actx, run, a, lookups);
      await this.actions.updateRead(actx, a, { ...fieldsOf(a), ...(outcome.changes ?? {}), status: outcome.status }, trx);
      savepoint.keep();
      return true;
    } catch (e) {
      if (isContention(e)) throw e;
      await savepoint.undo();
      // rolled back to the savepoint, the action is again as read (and locked) at the chunk's start
      await this.actions.updateRead(actx, a, errorFields(a, e), trx);
      return false;
    }
  }

  /** One action in a transaction of its own (a chunk that failed as a whole). False on error. */
  private async performOne(ctx: RequestContext, run: StoredRecord, actionId: string, lookups: Lookups): Promise<boolean> {
    const actx = { ...ctx, via: 'billing run' };
    try {
      await this.s.store.transaction(async (db) => {
        lookups.records = new Map();
        lookups.certifications = new Map();
        const a = await this.actions.table.get(db, ctx.tenantId, actionId, { forUpdate: true });
        if (!a || a.status !== 'pending') return; // performed by an earlier (crashed) attempt or another worker
        const outcome = await this.perform(db, actx, run, a, lookups);
        await this.actions.updateRead(actx, a, { ...fieldsOf(a), ...(outcome.changes ?? {}), status: outcome.status }, db);
      });
      return true;
    } catch (e) {
      await this.s.store.transaction(async (db) => {
        const a = await this.actions.table.get(db, ctx.tenantId, actionId, { forUpdate: true });
        if (!a || a.status !== 'pending') return;
        await this.actions.update(actx, a.id, errorFields(a, e), undefined, db);
      });
      return false;
    }
  }

  private async perform(db: Db, ctx: RequestContext, run: StoredRecord, a: StoredRecord, lookups: Lookups): Promise<Outcome> {
    const get = (slug: string, id: unknown, lock = false) => (typeof id === 'string' ? this.s.resource(slug).table.get(db, ctx.tenantId, id, { forUpdate: lock }) : Promise.resolve(undefined));
    /** A programme or notice template: read once per chunk (the actions of a run share a few). */
    const shared = async (slug: string, id: unknown) => {
      if (typeof id !== 'string') return undefined;
      const key = `${slug}/${id}`;
      if (lookups.records.has(key)) return lookups.records.get(key);
      const rec = await get(slug, id);
      lookups.records.set(key, rec);
      return rec;
    };
    /** The action's certification, locked: as read at the chunk's start when it still may be. */
    const lockedCertification = (id: unknown) => {
      const cert = typeof id === 'string' ? lookups.certifications.get(id) : undefined;
      if (!cert) return get('certifications', id, true);
      lookups.certifications.delete(cert.id);
      return Promise.resolve(cert);
    };
    if (!SINGLE_CERTIFICATION.has(a.type as ActionType)) lookups.certifications.clear();
    const opts = (flag: keyof typeof BILLING_RUN_JOBS) => (run[BILLING_RUN_JOBS[flag]] ?? {}) as Rec;
    const from = this.s.mailFrom ?? 'accredit <no-reply@localhost>';
    const now = this.s.clock.now();
    const today = now.toISOString().slice(0, 10);
    /**
     * Sends the run's notice for this action (when the run names one): the one decision of
     * noticeDecision (switched off, limited to other programmes, no address, …), then the outbox.
     * Answers the action's notice fields: which notice, queued or not sent and why.
     */
    const notify = async (noticeSlug: string, noticeId: unknown, to: unknown, programId: unknown, facts: Parameters<typeof noticeVars>[0], key: string): Promise<Rec> => {
      if (typeof noticeId !== 'string' || !noticeId) return {};
      const notice = await shared(noticeSlug, noticeId);
      const sent = await sendNotice(db, ctx.tenantId, {
        key,
        notice,
        facts: { programIds: [typeof programId === 'string' ? programId : undefined], address: to },
        vars: noticeVars(facts),
        source: `billingRunActions/${a.id}`,
        now,
        from,
      });
      return noticeFields(noticeId, sent);
    };
    /** A reminder is only its e-mail: one that is not sent (other than sent before) excludes the action. */
    const reminded = (fields: Rec): Outcome =>
      fields.notice_status === 'not sent' && fields.notice_status_reason !== 'already queued' ? { status: 'excluded', changes: fields } : { status: 'completed', changes: fields };
    const certifications = this.s.resource('certifications');

    switch (a.type as ActionType) {
      case 'activate application': {
        const app = await get('applications', a.application_id, true);
        if (!app || app.status !== 'approved') return { status: 'no longer eligible' };
        const { application, certification } = await this.s.lifecycle.activate(ctx, app.id, db);
        const program = await shared('programs', certification.program_id);
        const sent = await notify('applicationNotices', opts('activate_applications').application_notice_id, application.email_address ?? certification.email_address, certification.program_id, { application, certification, program }, `activation/${app.id}`);
        return { status: 'completed', changes: sent };
      }
      case 'expire application': {
        const app = await get('applications', a.application_id, true);
        if (!app || !EXPIRABLE_APPLICATION_STATUSES.includes(String(app.status ?? 'draft'))) return { status: 'no longer eligible' };
        if (day(app.expiration_date) !== a.expiration_date) return { status: 'expiration date changed' };
        if (!applicationExpired(app, today)) return { status: 'no longer eligible' };
        const application = await this.s.lifecycle.expire(ctx, app.id, db);
        const program = await shared('programs', app.program_id);
        const sent = await notify('applicationNotices', opts('expire_applications').application_notice_id, app.email_address, app.program_id, { application, program }, `expiry/${app.id}/${a.expiration_date}`);
        return { status: 'completed', changes: sent };
      }
      case 'send application reminder': {
        const app = await get('applications', a.application_id);
        if (!app || !applicationRemindable(app)) return { status: 'no longer eligible' };
        if (day(app.expiration_date) !== a.expiration_date) return { status: 'expiration date changed' };
        const reminder = this.reminder(opts('send_application_reminders'), a.reminder_id);
        if (!reminder) return { status: 'excluded' };
        const program = await shared('programs', app.program_id);
        return reminded(await notify('applicationNotices', reminder.reminder_notice_id, app.email_address, app.program_id, { application: app, program }, `app-reminder/${app.id}/${reminder.reminder_notice_id}/${a.expiration_date}`));
      }
      case 'send renewal reminder': {
        const cert = await lockedCertification(a.certification_id);
        if (!cert || cert.status !== 'active') return { status: 'no longer eligible' };
        if (day(cert.expiration_date) !== a.expiration_date) return { status: 'expiration date changed' };
        const reminder = this.reminder(opts('send_renewal_reminders'), a.reminder_id);
        if (!reminder) return { status: 'excluded' };
        const program = await shared('programs', cert.program_id);
        const outcome = reminded(await notify('notices', reminder.reminder_notice_id, cert.email_address, cert.program_id, { certification: cert, program }, `renewal-reminder/${cert.id}/${reminder.reminder_notice_id}/${a.expiration_date}`));
        // a reminder that did not go out is not recorded as sent on the certification
        if (outcome.status === 'completed') await certifications.updateRead(ctx, cert, { ...fieldsOf(cert), last_reminder_sent_date: today }, db);
        return outcome;
      }
      case 'forecast renewal': {
        const cert = await lockedCertification(a.certification_id);
        if (!cert || cert.status !== 'active') return { status: 'no longer eligible' };
        if (day(cert.expiration_date) !== a.expiration_date) return { status: 'expiration date changed' };
        const amount = await this.renewalFee(db, ctx, lookups, String(cert.program_id));
        if (amount === undefined) throw new AppError('conflict', `programme ${cert.program_id} has no renewal fee (an active renewal application process with an application_fee_id)`);
        await certifications.updateRead(ctx, cert, { ...fieldsOf(cert), forecasted_renewal_amount: amount }, db);
        return { status: 'completed' };
      }
      case 'drop certification': {
        const cert = await lockedCertification(a.certification_id);
        if (!cert || cert.status !== 'active') return { status: 'no longer eligible' };
        if (day(cert.expiration_date) !== a.expiration_date) return { status: 'expiration date changed' };
        if (!certificationDroppable(cert, today)) return { status: 'no longer eligible' };
        const reason = await this.dropReason(db, ctx, lookups);
        const dropped = await certifications.updateRead(ctx, cert, { ...fieldsOf(cert), status: 'inactive', ...(reason ? { status_reason_id: reason } : {}), termination_date: today, last_termination_date: today }, db);
        const program = await shared('programs', cert.program_id);
        const sent = await notify('notices', opts('perform_drops').drop_notice_id, cert.email_address, cert.program_id, { certification: dropped, program }, `drop/${cert.id}/${a.expiration_date}`);
        return { status: 'completed', changes: sent };
      }
      case 'bill training provider': {
        const provider = await get('trainingProviders', a.training_provider_id);
        if (!provider) return { status: 'no longer eligible' };
        const o = opts('bill_training_providers');
        const lines = await this.billableLines(db, ctx, o, provider.id);
        if (!lines.length) return { status: 'no longer eligible' };
        const number = await nextValue(db, ctx.tenantId, 'invoices.number', 1);
        const total = Math.round(lines.reduce((s, l) => s + l.amount, 0) * 100) / 100;
        const email = o.email_invoices_to_training_providers === true && typeof provider.email_address === 'string' && provider.email_address.trim() ? provider.email_address : undefined;
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
        let mailed: Rec = {};
        if (email) {
          const rows = lines.map((l) => `<tr><td>${escapeHtml(l.description)}</td><td>${l.fee_type.replace('_', ' ')}</td><td>${l.amount.toFixed(2)}</td></tr>`).join('');
          const queued = await queueNotice(
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
          mailed = queued === 'queued' ? { notice_status: 'queued' } : { notice_status: 'not sent', notice_status_reason: 'already queued' };
        } else if (o.email_invoices_to_training_providers === true) {
          mailed = { notice_status: 'not sent', notice_status_reason: 'no address' };
        }
        return { status: 'completed', changes: { invoice_id: invoice.id, ...mailed } };
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
   * Looked up once per programme and execution: an execution asks it once per certification.
   */
  private async renewalFee(db: Db, ctx: RequestContext, lookups: Lookups, programId: string): Promise<number | undefined> {
    if (lookups.fees.has(programId)) return lookups.fees.get(programId);
    const fee = await this.lookUpRenewalFee(db, ctx, programId);
    lookups.fees.set(programId, fee);
    return fee;
  }

  private async lookUpRenewalFee(db: Db, ctx: RequestContext, programId: string): Promise<number | undefined> {
    const processes = await this.all(db, ctx.tenantId, 'applicationProcesses', [{ column: 'f_program_id', op: 'in', values: [programId] }]);
    const renewal = processes.filter((p) => p.type === 'renewal' && p.is_active !== false && p.application_fee_id).sort((x, y) => x.id.localeCompare(y.id))[0];
    if (!renewal) return undefined;
    const fee = await this.s.resource('applicationFees').table.get(db, ctx.tenantId, String(renewal.application_fee_id));
    return typeof fee?.price === 'number' ? fee.price : undefined;
  }

  /** The status reason a drop records: the first status reason (by name) that explains "inactive" (once per execution). */
  private async dropReason(db: Db, ctx: RequestContext, lookups: Lookups): Promise<string | undefined> {
    if (!lookups.dropReason) lookups.dropReason = { id: await this.lookUpDropReason(db, ctx) };
    return lookups.dropReason.id;
  }

  private async lookUpDropReason(db: Db, ctx: RequestContext): Promise<string | undefined> {
    const reasons = (await this.all(db, ctx.tenantId, 'statusReasons', [])).filter((r) => r.status === 'inactive' && r.is_active !== false);
    reasons.sort((x, y) => String(x.name).localeCompare(String(y.name)));
    return reasons[0]?.id;
  }
}

/** An action's notice fields for what became of its notice. */
function noticeFields(noticeId: string, sent: NoticeOutcome): Rec {
  return { notice_id: noticeId, notice_status: sent.status, ...(sent.status === 'not sent' ? { notice_status_reason: sent.reason } : {}) };
}

function escapeHtml(s: string) {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export const billing = (s: unknown) => Billing.of(s as AppServices);
