/**
 * The rules of applications, as plain functions over plain data: which status changes are allowed,
 * and which requirements of an application process an applicant meets. No I/O: the lifecycle service
 * loads the facts, calls these, and writes the outcome in one transaction.
 */
import { atLeast, availableFor, creditCounts, planCredits, type CreditLike, type CreditTypeLike, type TotalProgress } from './credits.js';
import type { FieldValues } from '../../resources/kit/fields.js';
import type { applicationProcessFields } from '../../resources/applicationProcesses.js';

export {
  availableFor,
  creditCounts,
  planCredits,
  type CreditLike,
  type CreditPlan,
  type CreditTotalLike,
  type CreditTypeLike,
  type TotalProgress,
} from './credits.js';
export type ApplicationStatus =
  | 'draft'
  | 'missing requirements'
  | 'pending approval'
  | 'approved'
  | 'rejected'
  | 'activated'
  | 'withdrawn'
  | 'expired';

export const OPEN_STATUSES: ApplicationStatus[] = ['draft', 'missing requirements', 'pending approval', 'approved'];

/** draft -> missing requirements | pending approval -> approved | rejected; approved -> activated; open -> withdrawn | expired. */
const NEXT: Record<ApplicationStatus, ApplicationStatus[]> = {
  draft: ['missing requirements', 'pending approval', 'withdrawn', 'expired'],
  'missing requirements': ['pending approval', 'withdrawn', 'expired'],
  'pending approval': ['approved', 'rejected', 'missing requirements', 'withdrawn', 'expired'],
  approved: ['activated', 'withdrawn', 'expired'],
  rejected: [],
  activated: [],
  withdrawn: [],
  expired: [],
};

/** Why `from -> to` is not allowed, or null when it is (staying in a status is always allowed). */
export function applicationTransitionError(from: string | undefined, to: string | undefined): string | null {
  const a = (from ?? 'draft') as ApplicationStatus;
  const b = (to ?? 'draft') as ApplicationStatus;
  if (a === b) return null;
  const allowed = Object.hasOwn(NEXT, a) ? NEXT[a] : undefined;
  if (!allowed) return `unknown application status "${a}"`;
  if (allowed.includes(b)) return null;
  if (!allowed.length) return `the application is ${a}; it can no longer change status`;
  return `an application cannot go from ${a} to ${b} (from ${a}: ${allowed.join(', ')})`;
}

// ---- requirements ---------------------------------------------------------------------------------

/** An application process as these rules read it: the applicationProcesses resource's fields, typed from its schema. */
export type ProcessLike = Partial<FieldValues<typeof applicationProcessFields>>;

export interface ApplicantFacts {
  /** The applicant's credits (any status; only verified ones count). */
  credits: CreditLike[];
  /** Courses the applicant completed (course ids). */
  completedCourseIds: string[];
  /** Exams the applicant passed (exam ids). */
  passedExamIds: string[];
  /** Completed references of this application. */
  completedReferences: number;
  feePaid: boolean;
  /** Credits count only when earned inside [from, to] (cycle window); either may be absent. */
  window: { from?: string; to?: string };
  /** Credits already applied to this application, by credit id. */
  appliedToThis: Record<string, number>;
  /** The tenant's credit types with their parents (needed for credit_totals over sub-types). */
  creditTypes?: CreditTypeLike[];
}

export type Requirement =
  | { kind: 'credits'; credit_type_id: string; required: number; earned: number; met: boolean; progress: number }
  | TotalProgress
  | { kind: 'course'; course_id: string; met: boolean; progress: number }
  | { kind: 'exam'; exam_id: string; met: boolean; progress: number }
  | { kind: 'references'; required: number; completed: number; met: boolean; progress: number }
  | { kind: 'fee'; application_fee_id: string; met: boolean; progress: number };

export interface Evaluation {
  met: boolean;
  requirements: Requirement[];
}

const ratio = (have: number, need: number) => (need <= 0 ? 1 : Math.min(1, have / need));

/** Every requirement of the process with met / unmet and progress (0..1). */
export function evaluateRequirements(process: ProcessLike, facts: ApplicantFacts): Evaluation {
  const requirements: Requirement[] = [];
  for (const r of process.credit_requirements ?? []) {
    const earned = facts.credits
      .filter((c) => c.type_id === r.credit_type_id && creditCounts(c, facts.window))
      .reduce((sum, c) => sum + availableFor(c, facts.appliedToThis[c.id] ?? 0), 0);
    const met = atLeast(earned, r.quantity);
    requirements.push({
      kind: 'credits',
      credit_type_id: r.credit_type_id,
      required: r.quantity,
      earned,
      met,
      progress: met ? 1 : ratio(earned, r.quantity),
    });
  }
  // Totals with their minimums: progress from the same allocation that submit consumes.
  if (process.credit_totals?.length) requirements.push(...planCredits(process, facts).totals);
  for (const course_id of process.required_course_ids ?? []) {
    const met = facts.completedCourseIds.includes(course_id);
    requirements.push({ kind: 'course', course_id, met, progress: met ? 1 : 0 });
  }
  for (const exam_id of process.required_exam_ids ?? []) {
    const met = facts.passedExamIds.includes(exam_id);
    requirements.push({ kind: 'exam', exam_id, met, progress: met ? 1 : 0 });
  }
  const refs = process.required_reference_count ?? (process.reference_process_id ? 1 : 0);
  if (refs > 0) {
    requirements.push({
      kind: 'references',
      required: refs,
      completed: facts.completedReferences,
      met: facts.completedReferences >= refs,
      progress: ratio(facts.completedReferences, refs),
    });
  }
  if (process.application_fee_id) {
    requirements.push({ kind: 'fee', application_fee_id: process.application_fee_id, met: facts.feePaid, progress: facts.feePaid ? 1 : 0 });
  }
  return { met: requirements.every((r) => r.met), requirements };
}

/**
 * Which credits to consume for the credit requirements and totals (planCredits in credits.ts: the
 * order is documented there): the quantity per credit id (including what this application already
 * held), or null when some requirement falls short.
 */
export function allocateCredits(process: ProcessLike, facts: ApplicantFacts): Record<string, number> | null {
  const plan = planCredits(process, facts);
  return plan.met ? plan.allocation : null;
}

/** The status a submitted application takes: missing requirements, pending approval, or approved (auto). */
export function statusAfterSubmit(process: ProcessLike, evaluation: Evaluation): ApplicationStatus {
  if (!evaluation.met) return 'missing requirements';
  return process.auto_approve ? 'approved' : 'pending approval';
}
