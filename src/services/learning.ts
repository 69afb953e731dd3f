import { fieldsOf } from '../resources/kit/service.js';
import { AppError, invalid, notFound } from '../core/errors.js';
import type { RequestContext } from '../core/context.js';
import type { HookContext } from '../resources/kit/define.js';
import type { AppServices } from '../resources/kit/context.js';
import type { StoredRecord } from '../store/records.js';
import { nextValue } from '../store/counters.js';
import type { Db } from '../store/store.js';
import { becomesVerified, canEditActivity, type ActivityTypeEditing } from '../domain/learning/activities.js';
import { CalculatorError, calculateCredits, calculatorProblems, type CalculatorOptions } from '../domain/learning/calculator.js';
import { completionChange, completionCredits, creditRules, impliedCourseRegistrationFields } from '../domain/learning/courses.js';
import { impliedCreditFields } from '../domain/learning/credits.js';
import {
  ExamRuleError,
  examEligibility,
  mayRegister,
  examRegistrationTransitionError,
  impliedExamRegistrationFields,
  letterFor,
  processUseError,
  type ExamRegProcessLike,
  type ExamRegistrationLike,
} from '../domain/learning/exams.js';
import { decideExamLetters } from './notices.js';
import {
  offeringMatchProblem,
  offeringProgramProblems,
  providerPrograms,
  registrationProvider,
  type FieldProblem,
} from '../domain/learning/providers.js';
import { capacityOf, holdsSeat, saleWindowError, seatError, seatsLeft, type OfferingLike } from '../domain/learning/seats.js';

/**
 * Courses, exams and continuing education over the store: the write hooks of course and exam
 * registrations, credits, activities and activity types (run inside the write's transaction), and
 * the actions eligible (exam reg processes) and canEdit (activities). The rules are the pure
 * functions of src/domain/learning; this file loads their facts and writes their outcome through the
 * resources' own services, so validation, references and the rules apply to those writes too.
 *
 * Derived fields (a cancellation date -> status cancelled, 100 % -> completed, a score -> passed /
 * failed, a queued letter, credit balances, calculated credits) are completed on the record in the
 * validate hook, before it is written: the client gets them in the answer of its own write.
 */
type Rec = Record<string, any>;
const conflict = (message: string) => new AppError('conflict', message);
const ALL = 100_000;
/** YYYY-MM-DD naming a real day (the credits' `date` format). */
const isCalendarDay = (d: string) =>
  /^\d{4}-\d{2}-\d{2}$/.test(d) && !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d);

export class Learning {
  constructor(private readonly s: AppServices) {}

  private now() {
    return this.s.clock.now().toISOString();
  }
  private table(slug: string) {
    return this.s.resource(slug).table;
  }
  private async byColumn(db: Db, ctx: RequestContext, slug: string, field: string, value: unknown): Promise<StoredRecord[]> {
    return this.table(slug).page(db, ctx.tenantId, [{ column: `f_${field}`, op: 'in', values: [value] }], undefined, ALL);
  }
  private async get(db: Db, ctx: RequestContext, slug: string, id: unknown): Promise<StoredRecord | undefined> {
    return typeof id === 'string' ? this.table(slug).get(db, ctx.tenantId, id) : undefined;
  }

  /**
   * Serialises the seat count of one offering. The counter row's lock (an upsert, held to commit on
   * PostgreSQL; SQLite has one writer) is the mutex: locking the offering row itself FOR UPDATE would
   * deadlock, because the reference check of every registration write already holds it FOR SHARE.
   */
  private async lockSeats(db: Db, ctx: RequestContext, slug: string, offeringId: string) {
    await nextValue(db, ctx.tenantId, `lock:${slug}.seats/${offeringId}`, 1);
  }

  /** Refuses a registration that would take a seat past the offering's capacity (counted under the lock). */
  private async checkSeat(h: HookContext, offeringSlug: string, regSlug: string, offeringField: string, what: string) {
    const next = h.next!;
    if (!holdsSeat(next)) return;
    const offeringId = String(next[offeringField]);
    const moved = h.old && h.old[offeringField] !== next[offeringField];
    if (h.old && holdsSeat(h.old) && !moved) return; // already holds its seat
    await this.lockSeats(h.db, h.ctx, offeringSlug, offeringId);
    const offering = (await this.get(h.db, h.ctx, offeringSlug, offeringId)) as OfferingLike | undefined;
    if (!offering) return; // the reference check names it
    if (regSlug === 'courseRegistrations' && (h.op === 'create' || moved)) {
      const why = saleWindowError(offering, this.now());
      if (why) throw conflict(why);
    }
    if (seatsLeft(offering, 0) === undefined) return;
    const taken = (await this.byColumn(h.db, h.ctx, regSlug, offeringField, offeringId)).filter(
      (r) => r.id !== next.id && holdsSeat(r),
    ).length;
    const why = seatError(offering, taken, what);
    if (why) throw conflict(why);
  }

  /** GET /courseOfferings/{t}/seats/{id}, GET /examOfferings/{t}/seats/{id}: capacity, seats taken and left. */
  async seats(ctx: RequestContext, offeringSlug: 'courseOfferings' | 'examOfferings', id: string) {
    const db = this.s.store.db;
    const offering = await this.get(db, ctx, offeringSlug, id);
    if (!offering) throw notFound(this.s.resource(offeringSlug).label, id);
    const [regSlug, field] =
      offeringSlug === 'courseOfferings' ? ['courseRegistrations', 'course_offering_id'] : ['examRegistrations', 'exam_offering_id'];
    const taken = (await this.byColumn(db, ctx, regSlug, field, id)).filter(holdsSeat).length;
    const left = seatsLeft(offering as OfferingLike, taken);
    const sale = offeringSlug === 'courseOfferings' ? saleWindowError(offering as OfferingLike, this.now()) : null;
    return {
      id,
      taken,
      ...(left !== undefined ? { capacity: capacityOf(offering as OfferingLike), seats_left: left } : {}),
      open_for_registration: (left === undefined || left > 0) && !sale,
      ...(sale ? { reason: sale } : left === 0 ? { reason: 'the offering is full' } : {}),
    };
  }

  /** provider -> linked programmes, for the providers given (trainingProvPrograms records). */
  async providerLinks(db: Db, ctx: RequestContext, providers: string[]) {
    const ids = [...new Set(providers)];
    if (!ids.length) return providerPrograms([]);
    return providerPrograms(
      await this.table('trainingProvPrograms').page(
        db,
        ctx.tenantId,
        [{ column: 'f_training_provider_id', op: 'in', values: ids }],
        undefined,
        ALL,
      ),
    );
  }

  /**
   * A registration is for what its offering offers (same course / exam) and belongs to the offering's
   * training provider, which it inherits when it names none (so that provider billing and the
   * programme scoping of requirements find it).
   */
  private async checkOffering(h: HookContext, offeringSlug: string, offeringField: string, subjectField: string, what: string) {
    const next = h.next!;
    if (
      h.old &&
      h.old[offeringField] === next[offeringField] &&
      h.old[subjectField] === next[subjectField] &&
      h.old.training_provider_id === next.training_provider_id
    )
      return;
    const offering = await this.get(h.db, h.ctx, offeringSlug, next[offeringField]);
    if (!offering) return; // the reference check names it
    const problems: FieldProblem[] = [];
    const mismatch = offeringMatchProblem(subjectField, next[subjectField], offering[subjectField], what);
    if (mismatch) problems.push(mismatch);
    const { provider, problem } = registrationProvider(next, offering);
    if (problem) problems.push(problem);
    if (problems.length) throw invalid(problems);
    if (provider && !next.training_provider_id) next.training_provider_id = provider;
  }

  /** An offering of a training provider names only programmes the provider is linked to. */
  async courseOfferingValidate(h: HookContext) {
    if (h.op === 'delete') return;
    const next = h.next!;
    if (!next.training_provider_id) return;
    if (
      h.old &&
      h.old.training_provider_id === next.training_provider_id &&
      JSON.stringify(h.old.program_ids) === JSON.stringify(next.program_ids)
    )
      return;
    const problems = offeringProgramProblems(next, await this.providerLinks(h.db, h.ctx, [next.training_provider_id]));
    if (problems.length) throw invalid(problems);
  }

  // ---- course registrations ------------------------------------------------------------------------

  async courseRegistrationValidate(h: HookContext) {
    // A registration with credits cannot be deleted: the credits name it (the kit answers 409 referenced_by).
    if (h.op === 'delete') return;
    const next = h.next!;
    await this.checkOffering(h, 'courseOfferings', 'course_offering_id', 'course_id', 'course offering');
    Object.assign(next, impliedCourseRegistrationFields(next, this.now()));
    await this.checkSeat(h, 'courseOfferings', 'courseRegistrations', 'course_offering_id', 'course offering');
    if (completionChange(h.old, next) === 'uncompleted') {
      // Its credits will be archived (after the write): refuse now if an application uses one.
      for (const c of await this.byColumn(h.db, h.ctx, 'credits', 'course_registration_id', next.id)) {
        if (c.status !== 'archived' && Number(c.quantity_used ?? 0) > 0) {
          throw conflict(
            `course registration ${next.id} cannot become ${next.status}: its credit ${c.id} is used by an application (quantity_used ${c.quantity_used}); withdraw or reject the application first`,
          );
        }
      }
    }
  }

  /** Completion creates the offering's (or course's) credits once; leaving completed archives them. */
  async courseRegistrationAfter(h: HookContext) {
    if (h.op === 'delete') return;
    const next = h.next!;
    const change = completionChange(h.old, next);
    if (!change) return;
    const credits = this.s.resource('credits');
    const actx = { ...h.ctx, via: change === 'completed' ? 'course completion' : 'course cancellation' };
    const existing = await this.byColumn(h.db, h.ctx, 'credits', 'course_registration_id', next.id);
    if (change === 'uncompleted') {
      for (const c of existing) {
        if (c.status === 'archived') continue;
        await credits.update(actx, c.id, { ...fieldsOf(c), status: 'archived' }, undefined, h.db);
      }
      return;
    }
    const offering = await this.get(h.db, h.ctx, 'courseOfferings', next.course_offering_id);
    if (!offering) return;
    const course = await this.get(
      h.db,
      h.ctx,
      'courses',
      offering.override_credit_assignment === true ? undefined : (offering.course_id ?? next.course_id),
    );
    const drafts = completionCredits(
      creditRules(offering as Rec, course as Rec | undefined),
      existing.map((c) => String(c.type_id)),
    );
    const date = String(next.completion_date ?? this.now().slice(0, 10));
    for (const d of drafts) {
      await credits.create(
        actx,
        {
          type_id: d.type_id,
          origin: 'course registration',
          course_registration_id: next.id,
          contact_id: next.student_id,
          date,
          quantity: d.quantity,
          quantity_used: 0,
          quantity_available: d.quantity,
          status: d.status,
          notes: `completed ${offering.name ?? 'course offering'} (${offering.id})`,
        },
        h.db,
      );
    }
  }

  // ---- exam registrations --------------------------------------------------------------------------

  async examRegistrationValidate(h: HookContext) {
    if (h.op === 'delete') return;
    const next = h.next!;
    await this.checkOffering(h, 'examOfferings', 'exam_offering_id', 'exam_id', 'exam offering');
    const exam = await this.get(h.db, h.ctx, 'exams', next.exam_id);
    try {
      Object.assign(
        next,
        impliedExamRegistrationFields(
          h.old as Partial<ExamRegistrationLike> | undefined,
          next,
          exam?.passing_score as number | undefined,
          this.now(),
        ),
      );
    } catch (e) {
      if (e instanceof ExamRuleError) throw conflict(e.message);
      throw e;
    }
    const why = examRegistrationTransitionError(h.old, next.status);
    if (why) throw conflict(why);
    if (h.op === 'create' && typeof next.process_id === 'string') {
      // One eligibility decision at a time per candidate and exam (two racing registrations would both pass).
      await nextValue(h.db, h.ctx.tenantId, `lock:examRegistrations.eligibility/${next.student_id}/${next.exam_id}`, 1);
      const e = await this.eligibility(h.db, h.ctx, String(next.student_id), String(next.exam_id));
      const process = await this.get(h.db, h.ctx, 'examRegProcesses', next.process_id);
      if (process) {
        const refused = processUseError(process as ExamRegProcessLike, e);
        if (refused) throw conflict(refused);
      }
    }
    await this.checkSeat(h, 'examOfferings', 'examRegistrations', 'exam_offering_id', 'exam offering');
    // An outcome reached now queues the offering's (else the exam's) letter for the candidate.
    if ((next.status === 'passed' || next.status === 'failed') && h.old?.status !== next.status) {
      const offering = await this.get(h.db, h.ctx, 'examOfferings', next.exam_offering_id);
      const letterId = letterFor(next.status, offering as Rec | undefined, exam as Rec | undefined);
      const notice = letterId ? await this.get(h.db, h.ctx, 'examNotices', letterId) : undefined;
      if (notice) {
        const email = (notice.email ?? {}) as Rec;
        next.notices = [
          ...((next.notices as Rec[] | undefined) ?? []),
          {
            date: this.now(),
            exam_notice_id: notice.id,
            kind: next.status === 'passed' ? 'pass letter' : 'fail letter',
            status: 'queued',
            ...(next.email_address ? { email_address: next.email_address } : {}),
            ...(email.subject ? { subject: email.subject } : {}),
            ...(typeof next.score === 'number' ? { score: next.score } : {}),
          },
        ];
      }
    }
    // Each letter queued by this write is sent, or marked not sent with the reason (switched off, …).
    await decideExamLetters(h);
  }

  private async eligibility(db: Db, ctx: RequestContext, contactId: string, examId: string) {
    const regs = (await this.byColumn(db, ctx, 'examRegistrations', 'student_id', contactId)).filter((r) => r.exam_id === examId);
    const processes = await this.table('examRegProcesses').page(db, ctx.tenantId, [], undefined, ALL);
    return examEligibility(examId, regs as unknown as ExamRegistrationLike[], processes as unknown as ExamRegProcessLike[]);
  }

  /**
   * Whether the contact may register for the exam now (a first attempt or a retest), without the
   * offerings and seats `eligible` works out; an unknown exam is a 404.
   */
  async mayRegister(ctx: RequestContext, contactId: string, examId: string): Promise<boolean> {
    const db = this.s.store.db;
    if (!(await this.get(db, ctx, 'exams', examId))) throw notFound('exam', examId);
    return mayRegister(await this.eligibility(db, ctx, contactId, examId));
  }

  /** GET /examRegProcesses/{t}/eligible/{contactId}/{examId} */
  async eligible(ctx: RequestContext, contactId: string, examId: string) {
    const db = this.s.store.db;
    const exam = await this.get(db, ctx, 'exams', examId);
    if (!exam) throw notFound('exam', examId);
    const e = await this.eligibility(db, ctx, contactId, examId);
    const offerings: Rec[] = [];
    if (e.type) {
      for (const o of await this.byColumn(db, ctx, 'examOfferings', 'exam_id', examId)) {
        if (o.is_active === false) continue;
        const taken =
          seatsLeft(o as OfferingLike, 0) === undefined
            ? 0
            : (await this.byColumn(db, ctx, 'examRegistrations', 'exam_offering_id', o.id)).filter(holdsSeat).length;
        const left = seatsLeft(o as OfferingLike, taken);
        const fee = e.type === 'retest' ? (o.retest_fee_id ?? o.fee_id) : o.fee_id;
        offerings.push({
          exam_offering_id: o.id,
          name: o.name,
          date: o.date,
          ...(fee ? { fee_id: fee } : {}),
          ...(left !== undefined ? { seats_left: left } : {}),
        });
      }
    }
    return {
      contact_id: contactId,
      exam_id: examId,
      eligible: mayRegister(e),
      type: e.type,
      reason: e.reason,
      processes: e.processes,
      offerings,
      ...(e.last_registration ? { last_registration: e.last_registration } : {}),
    };
  }

  // ---- credits -------------------------------------------------------------------------------------

  async creditValidate(h: HookContext) {
    if (h.next) Object.assign(h.next, impliedCreditFields(h.next));
  }

  // ---- activity types and activities ---------------------------------------------------------------

  async activityTypeValidate(h: HookContext) {
    if (!h.next) return;
    const problems = calculatorProblems((h.next.credit_calculator_options ?? {}) as CalculatorOptions);
    if (problems.length) throw invalid(problems);
  }

  async activityValidate(h: HookContext) {
    if (h.op === 'delete') return;
    const next = h.next!;
    const type = await this.get(h.db, h.ctx, 'activityTypes', next.type_id);
    const options = (type?.credit_calculator_options ?? {}) as CalculatorOptions;
    const hasFormulas = (options.formulas ?? []).some((f) => f.formula?.trim());
    if (hasFormulas && (next.credit_calculator_variables !== undefined || becomesVerified(h.old, next))) {
      try {
        Object.assign(next, calculateCredits(options, (next.credit_calculator_variables ?? {}) as Rec));
      } catch (e) {
        if (e instanceof CalculatorError) throw invalid([{ field: e.field, reason: e.reason }]);
        throw e;
      }
    }
    if (becomesVerified(h.old, next) && !((next.credits as Rec[] | undefined) ?? []).some((c) => c.quantity >= 0.01)) {
      throw conflict(
        `activity ${next.id} earns no credits (credits[] is empty${hasFormulas ? '' : ' and its type has no formula'}); nothing to verify`,
      );
    }
  }

  /** Verifying an activity creates its credits (once per credit type). */
  async activityAfter(h: HookContext) {
    if (h.op === 'delete' || !becomesVerified(h.old, h.next!)) return;
    const next = h.next!;
    const existing = new Set((await this.byColumn(h.db, h.ctx, 'credits', 'activity_id', next.id)).map((c) => String(c.type_id)));
    const byType = new Map<string, number>();
    for (const c of (next.credits as Rec[] | undefined) ?? [])
      byType.set(c.credit_type_id, (byType.get(c.credit_type_id) ?? 0) + Number(c.quantity));
    const day = String(next.date ?? '').slice(0, 10);
    const date = isCalendarDay(day) ? day : this.now().slice(0, 10);
    const credits = this.s.resource('credits');
    for (const [type_id, quantity] of byType) {
      if (existing.has(type_id) || quantity < 0.01) continue;
      await credits.create(
        { ...h.ctx, via: 'activity verification' },
        {
          type_id,
          origin: 'certification activity',
          activity_id: next.id,
          contact_id: next.contact_id,
          date,
          quantity,
          quantity_used: 0,
          quantity_available: quantity,
          status: 'verified',
          self_reported: true,
          notes: `activity ${next.name ?? next.id}`,
        },
        h.db,
      );
    }
  }

  /** GET /activities/{t}/canEdit/{id} */
  async canEdit(ctx: RequestContext, id: string) {
    const db = this.s.store.db;
    const activity = await this.get(db, ctx, 'activities', id);
    if (!activity) throw notFound('activity', id);
    const type = await this.get(db, ctx, 'activityTypes', activity.type_id);
    return { ...canEditActivity(activity as Rec, type as ActivityTypeEditing | undefined, this.now().slice(0, 10)), activity };
  }
}
