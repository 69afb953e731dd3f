/**
 * The rules of applications, as plain functions over plain data: which status changes are allowed,
 * and which requirements of an application process an applicant meets. No I/O: the lifecycle service
 * loads the facts, calls these, and writes the outcome in one transaction.
 */
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

export interface ProcessLike {
  type?: string;
  auto_approve?: boolean;
  credit_requirements?: { credit_type_id: string; quantity: number }[];
  required_course_ids?: string[];
  required_exam_ids?: string[];
  reference_process_id?: string;
  required_reference_count?: number;
  application_fee_id?: string;
}

export interface CreditLike {
  id: string;
  type_id?: string;
  quantity: number;
  quantity_used?: number;
  status?: string;
  date?: string;
  expiration_date?: string;
  usages?: { application_id?: string; quantity: number; date?: string }[];
}

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
}

export type Requirement =
  | { kind: 'credits'; credit_type_id: string; required: number; earned: number; met: boolean; progress: number }
  | { kind: 'course'; course_id: string; met: boolean; progress: number }
  | { kind: 'exam'; exam_id: string; met: boolean; progress: number }
  | { kind: 'references'; required: number; completed: number; met: boolean; progress: number }
  | { kind: 'fee'; application_fee_id: string; met: boolean; progress: number };

export interface Evaluation {
  met: boolean;
  requirements: Requirement[];
}

/** What one credit still offers this application: its unused quantity plus what it already gave it. */
export function availableFor(c: CreditLike, appliedToThis: number): number {
  return Math.max(0, c.quantity - (c.quantity_used ?? 0)) + appliedToThis;
}

/** A credit counts when verified, not expired at the window's end, and earned inside the window. */
export function creditCounts(c: CreditLike, window: { from?: string; to?: string }): boolean {
  if (c.status !== 'verified') return false;
  if (window.from && c.date && c.date < window.from) return false;
  if (window.to && c.date && c.date > window.to) return false;
  if (c.expiration_date && window.to && c.expiration_date < window.to) return false;
  return true;
}

const ratio = (have: number, need: number) => (need <= 0 ? 1 : Math.min(1, have / need));
/** Credit quantities are decimals (0.7 + 0.1 must meet 0.8): compared with a tolerance. */
const EPSILON = 1e-9;
const atLeast = (have: number, need: number) => have + EPSILON >= need;

/** Every requirement of the process with met / unmet and progress (0..1). */
export function evaluateRequirements(process: ProcessLike, facts: ApplicantFacts): Evaluation {
  const requirements: Requirement[] = [];
  for (const r of process.credit_requirements ?? []) {
    const earned = facts.credits
      .filter((c) => c.type_id === r.credit_type_id && creditCounts(c, facts.window))
      .reduce((sum, c) => sum + availableFor(c, facts.appliedToThis[c.id] ?? 0), 0);
    const met = atLeast(earned, r.quantity);
    requirements.push({ kind: 'credits', credit_type_id: r.credit_type_id, required: r.quantity, earned, met, progress: met ? 1 : ratio(earned, r.quantity) });
  }
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
    requirements.push({ kind: 'references', required: refs, completed: facts.completedReferences, met: facts.completedReferences >= refs, progress: ratio(facts.completedReferences, refs) });
  }
  if (process.application_fee_id) {
    requirements.push({ kind: 'fee', application_fee_id: process.application_fee_id, met: facts.feePaid, progress: facts.feePaid ? 1 : 0 });
  }
  return { met: requirements.every((r) => r.met), requirements };
}

/**
 * Which credits to consume for the credit requirements: oldest first, each at most its available
 * quantity. Returns the allocation per credit id (including what this application already held),
 * or null when some credit type falls short.
 */
export function allocateCredits(process: ProcessLike, facts: ApplicantFacts): Record<string, number> | null {
  const alloc: Record<string, number> = {};
  for (const r of process.credit_requirements ?? []) {
    let need = r.quantity;
    const usable = facts.credits
      .filter((c) => c.type_id === r.credit_type_id && creditCounts(c, facts.window))
      .sort((a, b) => (a.date ?? '').localeCompare(b.date ?? '') || a.id.localeCompare(b.id));
    for (const c of usable) {
      if (need <= EPSILON) break;
      const take = Math.min(need, availableFor(c, facts.appliedToThis[c.id] ?? 0) - (alloc[c.id] ?? 0));
      if (take <= EPSILON) continue;
      alloc[c.id] = (alloc[c.id] ?? 0) + take;
      need -= take;
    }
    if (need > EPSILON) return null;
  }
  return alloc;
}

/** The status a submitted application takes: missing requirements, pending approval, or approved (auto). */
export function statusAfterSubmit(process: ProcessLike, evaluation: Evaluation): ApplicationStatus {
  if (!evaluation.met) return 'missing requirements';
  return process.auto_approve ? 'approved' : 'pending approval';
}
