import { fieldsOf } from '../resources/kit/service.js';
import { AppError, invalid, notFound } from '../core/errors.js';
import type { RequestContext } from '../core/context.js';
import { withFreeValue } from '../store/counters.js';
import type { Db } from '../store/store.js';
import type { StoredRecord } from '../store/records.js';
import type { AppServices } from '../resources/kit/context.js';
import { countsToward } from '../domain/learning/providers.js';
import {
  OPEN_STATUSES,
  applicationTransitionError,
  planCredits,
  evaluateRequirements,
  statusAfterSubmit,
  type ApplicantFacts,
  type CreditLike,
  type CreditPlan,
  type CreditTypeLike,
  type ProcessLike,
} from '../domain/lifecycle/applications.js';
import { creditTypesUsed } from '../domain/lifecycle/credits.js';
import { ownerCopy, reinstatementError, term } from '../domain/lifecycle/certifications.js';
import { DomainError, type ExpirationRuleSetLike } from '../domain/lifecycle/expiration.js';
import { checkApplicationWindow } from './windows.js';

/**
 * The application lifecycle over the store: load the facts, ask the rules in domain/lifecycle, write
 * the outcome in one transaction (locked rows on PostgreSQL, the single writer on SQLite). Every
 * write goes through the resources' own services, so validation, references, transition rules and
 * the certification history apply exactly as on PUT / PATCH.
 */
type Rec = Record<string, any>;

export class Lifecycle {
  constructor(private readonly s: AppServices) {}

  private get apps() {
    return this.s.resource('applications');
  }
  private today() {
    return this.s.clock.now().toISOString().slice(0, 10);
  }
  private async must(db: Db, ctx: RequestContext, slug: string, id: string | undefined, what: string, lock = false): Promise<StoredRecord> {
    if (!id) throw new AppError('conflict', `${what} is not set`);
    const rec = await this.s.resource(slug).table.get(db, ctx.tenantId, id, { forUpdate: lock });
    if (!rec) throw notFound(this.s.resource(slug).label, id);
    return rec;
  }
  async setApp(db: Db, ctx: RequestContext, app: StoredRecord, changes: Rec, via: string): Promise<StoredRecord> {
    return this.apps.update({ ...ctx, via }, app.id, { ...fieldsOf(app), ...changes }, undefined, db);
  }
  private async byColumn(db: Db, ctx: RequestContext, slug: string, field: string, value: string): Promise<StoredRecord[]> {
    return this.s.resource(slug).table.page(db, ctx.tenantId, [{ column: `f_${field}`, op: 'in', values: [value] }], undefined, 10_000);
  }

  /** POST /applications/{t}/generateApplication/{processId}/{ownerType}/{ownerId}: a draft from a process. */
  async generate(ctx: RequestContext, processId: string, ownerType: string, ownerId: string, body: unknown): Promise<StoredRecord> {
    if (ownerType !== 'contact' && ownerType !== 'organization') {
      throw invalid([{ field: 'ownerType', reason: 'must be contact or organization' }], 'bad_request');
    }
    const extra = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Rec;
    return this.s.store.transaction(async (db) => {
      const process = await this.must(db, ctx, 'applicationProcesses', processId, 'processId');
      if (process.is_active === false)
        throw new AppError('conflict', `application process ${processId} is retired and starts no new applications`);
      await checkApplicationWindow(this.s, db, ctx, { ...extra, type: process.type, program_id: process.program_id }, this.today());
      const owner = ownerType === 'contact' ? { contact_id: ownerId } : { organization_id: ownerId };
      return this.apps.create(
        { ...ctx, via: 'generateApplication' },
        {
          bucket_id: 'default',
          date: this.today(),
          ...extra,
          owner_type: ownerType,
          ...owner,
          type: process.type,
          program_id: process.program_id,
          process_id: process.id,
          status: 'draft',
        },
        db,
      );
    });
  }

  /** The facts an evaluation needs, read inside the caller's transaction (credits locked when spending). */
  private async facts(db: Db, ctx: RequestContext, app: StoredRecord, process: ProcessLike, lockCredits: boolean): Promise<ApplicantFacts> {
    const contact = String(app.contact_id);
    // Totals count sub-types: the tenant's credit types say which (a short reference list).
    const creditTypes = process.credit_totals?.length
      ? ((await this.s.resource('creditTypes').table.page(db, ctx.tenantId, [], undefined, 10_000)) as unknown as CreditTypeLike[])
      : [];
    const wantedTypes = creditTypesUsed(process, creditTypes);
    let credits = wantedTypes.size ? ((await this.byColumn(db, ctx, 'credits', 'contact_id', contact)) as unknown as CreditLike[]) : [];
    credits = credits.filter((c) => c.type_id && wantedTypes.has(c.type_id));
    if (lockCredits) {
      // Lock in id order (no deadlock between two submits) and use the locked, current rows.
      const locked: CreditLike[] = [];
      for (const c of [...credits].sort((a, b) => a.id.localeCompare(b.id))) {
        const fresh = await this.s.resource('credits').table.get(db, ctx.tenantId, c.id, { forUpdate: true });
        if (fresh) locked.push(fresh as unknown as CreditLike);
      }
      credits = locked;
    }
    const courses = process.required_course_ids?.length ? await this.byColumn(db, ctx, 'courseRegistrations', 'student_id', contact) : [];
    const exams = process.required_exam_ids?.length ? await this.byColumn(db, ctx, 'examRegistrations', 'student_id', contact) : [];
    const refs =
      process.reference_process_id || process.required_reference_count
        ? await this.byColumn(db, ctx, 'applicationReferences', 'application_id', app.id)
        : [];
    let window: { from?: string; to?: string } = { to: String(app.date ?? this.today()).slice(0, 10) };
    if (app.certification_id && app.type !== 'certification') {
      const cert = await this.s.resource('certifications').table.get(db, ctx.tenantId, String(app.certification_id));
      const from = (cert?.renewal_date ?? cert?.certification_date) as string | undefined;
      if (from && /^\d{4}-\d{2}-\d{2}/.test(from)) window = { ...window, from: from.slice(0, 10) };
    }
    // Work done with a training provider counts toward the provider's programmes only.
    const programId = typeof app.program_id === 'string' ? app.program_id : undefined;
    const providers = [...courses, ...exams].map((r) => r.training_provider_id).filter((p): p is string => typeof p === 'string');
    let outOfScope = new Set<string>();
    if (providers.length || credits.some((c) => (c as Rec).course_registration_id)) {
      const regs =
        credits.some((c) => (c as Rec).course_registration_id) && !courses.length
          ? await this.byColumn(db, ctx, 'courseRegistrations', 'student_id', contact)
          : courses;
      const all = [...regs, ...exams];
      const links = await this.s.learning.providerLinks(
        db,
        ctx,
        all.map((r) => r.training_provider_id).filter((p): p is string => typeof p === 'string'),
      );
      outOfScope = new Set(
        all.filter((r) => !countsToward(r.training_provider_id as string | undefined, programId, links)).map((r) => r.id),
      );
      credits = credits.filter((c) => !outOfScope.has(String((c as Rec).course_registration_id)));
    }
    const inScope = (r: StoredRecord) => !outOfScope.has(r.id);
    const appliedToThis: Record<string, number> = {};
    for (const c of credits)
      for (const u of c.usages ?? []) if (u.application_id === app.id) appliedToThis[c.id] = (appliedToThis[c.id] ?? 0) + u.quantity;
    return {
      credits,
      completedCourseIds: courses.filter((r) => r.status === 'completed' && inScope(r)).map((r) => String(r.course_id)),
      passedExamIds: exams.filter((r) => r.status === 'passed' && inScope(r)).map((r) => String(r.exam_id)),
      completedReferences: refs.filter((r) => r.status === 'completed').length,
      feePaid: Boolean(app.fee_paid_date),
      window,
      appliedToThis,
      creditTypes,
    };
  }

  /** GET /applications/{t}/requirements/{id} */
  async requirements(ctx: RequestContext, id: string) {
    const db = this.s.store.db;
    const app = await this.must(db, ctx, 'applications', id, 'id');
    const process = (
      app.process_id ? await this.must(db, ctx, 'applicationProcesses', String(app.process_id), 'process_id') : {}
    ) as ProcessLike;
    const evaluation = evaluateRequirements(process, await this.facts(db, ctx, app, process, false));
    return { application_id: app.id, status: app.status ?? 'draft', ...evaluation };
  }

  private transition(app: StoredRecord, to: string) {
    const why = applicationTransitionError(app.status as string | undefined, to);
    if (why) throw new AppError('conflict', why);
  }

  /**
   * POST submit: evaluates the requirements; when met, the credits they need are consumed (never
   * beyond a credit's quantity: the credits are locked while they are counted) and the application
   * becomes pending approval, or approved when its process approves automatically.
   */
  async submit(ctx: RequestContext, id: string): Promise<StoredRecord> {
    return this.s.store.transaction(async (db) => {
      const app = await this.must(db, ctx, 'applications', id, 'id', true);
      if (!['draft', 'missing requirements'].includes(String(app.status ?? 'draft'))) {
        throw new AppError('conflict', `only a draft or an application missing requirements can be submitted; this one is ${app.status}`);
      }
      const process = (
        app.process_id ? await this.must(db, ctx, 'applicationProcesses', String(app.process_id), 'process_id') : {}
      ) as ProcessLike;
      await checkApplicationWindow(this.s, db, ctx, app, this.today()); // before any credit is consumed
      const facts = await this.facts(db, ctx, app, process, true);
      const evaluation = evaluateRequirements(process, facts);
      let status: string = statusAfterSubmit(process, evaluation);
      let applied = app.credits as Rec[] | undefined;
      if (evaluation.met) {
        const plan = planCredits(process, facts);
        if (!plan.met) status = 'missing requirements';
        else applied = await this.spendCredits(db, ctx, app, facts, plan);
      }
      // a CE audit draw when the process sets an audit rate: a selected application waits for its audit
      const drawn = await this.s.audits.atSubmit(db, ctx, app, process as Rec, status);
      status = drawn.status;
      const changes: Rec = {
        status,
        submitted_date: this.s.clock.now().toISOString(),
        ...(applied ? { credits: applied } : {}),
        ...(drawn.audit ? { audit: drawn.audit } : {}),
      };
      if (status === 'approved') {
        // auto-approval: through pending approval, as the lifecycle says
        await this.setApp(db, ctx, app, { ...changes, status: 'pending approval' }, 'submit');
        return this.setApp(db, ctx, (await this.must(db, ctx, 'applications', id, 'id'))!, { status: 'approved' }, 'auto-approve');
      }
      return this.setApp(db, ctx, app, changes, 'submit');
    });
  }

  /** Writes the allocation onto the credits (usages, quantity_used, quantity_available). */
  private async spendCredits(db: Db, ctx: RequestContext, app: StoredRecord, facts: ApplicantFacts, plan: CreditPlan): Promise<Rec[]> {
    const credits = this.s.resource('credits');
    const applied: Rec[] = [];
    const date = this.today();
    for (const c of facts.credits) {
      const want = plan.allocation[c.id] ?? 0;
      const had = facts.appliedToThis[c.id] ?? 0;
      const toward = plan.lines.filter((l) => l.credit_id === c.id).map((l) => ({ requirement: l.requirement, quantity: l.quantity }));
      if (want > 0) applied.push({ credit_id: c.id, credit_type_id: c.type_id, quantity: want, exclusive: true, counts_toward: toward });
      if (want === had) continue;
      const usages = (c.usages ?? []).filter((u) => u.application_id !== app.id);
      if (want > 0) usages.push({ application_id: app.id, quantity: want, date });
      const used = usages.reduce((sum, u) => sum + u.quantity, 0);
      if (used > c.quantity + 1e-9) throw new AppError('conflict', `credit ${c.id} would be used beyond its quantity`);
      const rec = c as unknown as StoredRecord;
      await credits.update(
        { ...ctx, via: 'submit' },
        c.id,
        { ...fieldsOf(rec), usages, quantity_used: used, quantity_available: c.quantity - used },
        undefined,
        db,
      );
    }
    return applied;
  }

  /** Gives back the credits an application holds (withdrawn, rejected, expired). */
  async releaseCredits(db: Db, ctx: RequestContext, app: StoredRecord) {
    const credits = this.s.resource('credits');
    // In id order, as submit locks them: a release and a submit never wait for each other in a circle.
    const ids = [...new Set(((app.credits as Rec[] | undefined) ?? []).map((a) => String(a.credit_id)))].sort((a, b) => a.localeCompare(b));
    for (const id of ids) {
      const c = await credits.table.get(db, ctx.tenantId, id, { forUpdate: true });
      if (!c) continue;
      const usages = ((c.usages as Rec[] | undefined) ?? []).filter((u) => u.application_id !== app.id);
      const used = usages.reduce((sum, u) => sum + Number(u.quantity), 0);
      await credits.update(
        { ...ctx, via: 'release' },
        c.id,
        { ...fieldsOf(c), usages, quantity_used: used, quantity_available: Number(c.quantity) - used },
        undefined,
        db,
      );
    }
  }

  /** Runs fn in the caller's transaction when given one (a billing run action), else in a new one. */
  private tx<T>(db: Db | undefined, fn: (db: Db) => Promise<T>): Promise<T> {
    return db ? fn(db) : this.s.store.transaction(fn);
  }

  /** An open application past its expiration date expires (billing runs); its credits are given back. */
  async expire(ctx: RequestContext, id: string, inTx?: Db): Promise<StoredRecord> {
    return this.tx(inTx, async (db) => {
      const app = await this.must(db, ctx, 'applications', id, 'id', true);
      this.transition(app, 'expired');
      await this.releaseCredits(db, ctx, app);
      return this.setApp(db, ctx, app, { status: 'expired' }, 'expire');
    });
  }

  async decide(ctx: RequestContext, id: string, to: 'approved' | 'rejected' | 'withdrawn', body: unknown): Promise<StoredRecord> {
    const extra = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Rec;
    const changes: Rec = {};
    if (typeof extra.status_reason_id === 'string') changes.status_reason_id = extra.status_reason_id;
    if (typeof extra.decision_notes === 'string') changes.decision_notes = extra.decision_notes;
    return this.s.store.transaction(async (db) => {
      const app = await this.must(db, ctx, 'applications', id, 'id', true);
      this.transition(app, to);
      if (to !== 'approved') await this.releaseCredits(db, ctx, app);
      return this.setApp(
        db,
        ctx,
        app,
        { ...changes, status: to },
        to === 'approved' ? 'approve' : to === 'rejected' ? 'reject' : 'withdraw',
      );
    });
  }

  /**
   * POST activate: an approved application becomes (or renews, reinstates, transfers) a certification.
   * Answers { application, certification }.
   */
  async activate(ctx: RequestContext, id: string, inTx?: Db) {
    const actx = { ...ctx, via: ctx.via ?? 'activate' };
    try {
      return await this.tx(inTx, async (db) => {
        const app = await this.must(db, ctx, 'applications', id, 'id', true);
        if (app.status !== 'approved') {
          throw new AppError('conflict', `only an approved application can be activated; this one is ${app.status ?? 'draft'}`);
        }
        const today = this.today();
        const certs = this.s.resource('certifications');
        const programOf = (pid: string) => this.must(db, ctx, 'programs', pid, 'program_id');
        const ruleSetOf = async (program: StoredRecord) =>
          (program.expiration_rule_set_id
            ? await this.must(db, ctx, 'expirationRuleSets', String(program.expiration_rule_set_id), 'expiration_rule_set_id')
            : undefined) as unknown as ExpirationRuleSetLike | undefined;
        const facts = { ...fieldsOf(app), application_type: app.type, application_id: app.id };
        const termFields = (t: ReturnType<typeof term>) => ({
          expiration_date: t.expiration_date,
          grace_period_end_date: t.grace_period_end,
          ...(t.reinstatement_end ? { reinstatement_end_date: t.reinstatement_end } : {}),
        });
        const newCertification = async (program: StoredRecord) => {
          const t = term(await ruleSetOf(program), today, { ...facts, program_id: program.id });
          // the programme's next free number: numbers set by hand or loaded are skipped (unique per programme)
          const numbers = { table: certs.table, index: certs.resource.table.unique![0]!, scope: [program.id] };
          return withFreeValue(
            db,
            ctx.tenantId,
            `certifications.number/${program.id}`,
            Number(program.next_certification_number ?? 1),
            numbers,
            (number) =>
              certs.create(
                actx,
                {
                  ...ownerCopy(app),
                  program_id: program.id,
                  number,
                  status: 'active',
                  certification_date: today,
                  ...termFields(t),
                  last_application_id: app.id,
                },
                db,
              ),
          );
        };
        const existing = async () => {
          const cert = await this.must(
            db,
            ctx,
            'certifications',
            app.certification_id as string | undefined,
            'certification_id (the certification this application is for)',
            true,
          );
          if (cert.status === 'retired') throw new AppError('conflict', `certification ${cert.id} is retired`);
          return cert;
        };
        const update = (cert: StoredRecord, changes: Rec) =>
          certs.update(actx, cert.id, { ...fieldsOf(cert), ...changes, last_application_id: app.id }, undefined, db);

        let certification: StoredRecord;
        let appChanges: Rec = {};
        switch (app.type) {
          case 'certification': {
            certification = await newCertification(await programOf(String(app.program_id)));
            appChanges = { certification_id: certification.id };
            break;
          }
          case 'renewal': {
            const cert = await existing();
            const program = await programOf(String(cert.program_id));
            const ruleSet = await ruleSetOf(program);
            await checkApplicationWindow(this.s, db, ctx, app, today);
            // A renewal extends the current term: the new one starts the day after the current expiration.
            const start = addOneDay(String(cert.expiration_date ?? today));
            certification = await update(cert, {
              status: 'active',
              renewal_date: today,
              ...termFields(term(ruleSet, start, { ...facts, program_id: program.id })),
            });
            if (program.renew_grandfathered_certifications) {
              const others = await this.byColumn(db, ctx, 'certifications', 'contact_id', String(cert.contact_id));
              for (const o of others) {
                if (o.id === cert.id || o.grandfathered !== true || o.status === 'retired') continue;
                const op = await programOf(String(o.program_id));
                const ors = (await ruleSetOf(op)) ?? ruleSet;
                await update(o, {
                  status: 'active',
                  renewal_date: today,
                  ...termFields(term(ors, addOneDay(String(o.expiration_date ?? today)), { ...facts, program_id: op.id })),
                });
              }
            }
            break;
          }
          case 'reinstatement': {
            const cert = await existing();
            const program = await programOf(String(cert.program_id));
            const ruleSet = await ruleSetOf(program);
            const why = reinstatementError(cert as Rec, ruleSet, facts, today);
            if (why) throw new AppError('conflict', `certification ${cert.id} cannot be reinstated: ${why}`);
            certification = await update(cert, {
              status: 'active',
              renewal_date: today,
              ...termFields(term(ruleSet, today, { ...facts, program_id: program.id })),
            });
            break;
          }
          case 'transfer': {
            const cert = await existing();
            if (!app.target_program_id) throw invalid([{ field: 'target_program_id', reason: 'is required to activate a transfer' }]);
            if (app.target_program_id === cert.program_id)
              throw new AppError('conflict', "a transfer needs a target programme other than the certification's own");
            certification = await newCertification(await programOf(String(app.target_program_id)));
            await update(cert, {
              status: 'retired',
              termination_date: today,
              last_termination_date: today,
              transferred_to_certification_id: certification.id,
            });
            appChanges = { certification_id: certification.id };
            break;
          }
          default:
            throw new AppError('conflict', `unknown application type ${app.type}`);
        }
        const application = await this.setApp(db, actx, app, { ...appChanges, status: 'activated', activation_date: today }, 'activate');
        return { application, certification };
      });
    } catch (e) {
      if (e instanceof DomainError)
        throw new AppError('conflict', `cannot activate: ${e.message}`, { errors: [{ field: e.field, reason: e.reason }] });
      throw e;
    }
  }
}

function addOneDay(d: string): string {
  const t = new Date(`${d.slice(0, 10)}T00:00:00Z`);
  t.setUTCDate(t.getUTCDate() + 1);
  return t.toISOString().slice(0, 10);
}

export { OPEN_STATUSES };
