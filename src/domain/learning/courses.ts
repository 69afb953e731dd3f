import { transitionError, type Transitions } from './transitions.js';
import type { FieldValues } from '../../resources/kit/fields.js';
import type { courseRegistrationFields } from '../../resources/courseRegistrations.js';

/**
 * Course registrations: their status machine, what a write implies (cancellation date <-> status
 * cancelled, 100 % completion -> completed), and the credits a completion earns. Pure functions over
 * plain records; src/services/learning.ts applies them inside the registration's write.
 */
export const COURSE_REGISTRATION_NEXT: Transitions = {
  draft: ['registered', 'completed', 'cancelled'],
  registered: ['completed', 'no show', 'cancelled'],
  'no show': ['registered', 'completed', 'cancelled'],
  completed: ['cancelled'],
  cancelled: [],
};

export const courseRegistrationTransitionError = (old: { status?: unknown } | undefined, to: string | undefined) =>
  transitionError('course registration', COURSE_REGISTRATION_NEXT, old, to, 'draft');

/** A course registration as these rules read it: the courseRegistrations resource's fields, typed from its schema. */
export type CourseRegistrationLike = Partial<FieldValues<typeof courseRegistrationFields>> & { id?: string };

/**
 * The fields a write implies: a cancellation date means cancelled (and cancelling stamps the date);
 * reaching 100 % means completed (stamped with the completion date). Returns only what changes.
 */
export function impliedCourseRegistrationFields(next: CourseRegistrationLike, now: string): Partial<CourseRegistrationLike> {
  const out: Partial<CourseRegistrationLike> = {};
  let status = next.status;
  if (next.cancellation_date && status !== 'cancelled') status = out.status = 'cancelled';
  if (status === 'cancelled' && !next.cancellation_date) out.cancellation_date = now;
  if (status !== 'cancelled' && status !== 'completed' && (next.completion_percentage ?? 0) >= 100) status = out.status = 'completed';
  if (status === 'completed' && !next.completion_date) out.completion_date = now.slice(0, 10);
  return out;
}

export const isCompleted = (r: CourseRegistrationLike | undefined) => r?.status === 'completed';

/** What a write does to the credits of the registration: create them, archive them, or nothing. */
export function completionChange(
  old: CourseRegistrationLike | undefined,
  next: CourseRegistrationLike,
): 'completed' | 'uncompleted' | null {
  if (isCompleted(next) && !isCompleted(old)) return 'completed';
  if (isCompleted(old) && !isCompleted(next)) return 'uncompleted';
  return null;
}

export interface CreditRule {
  credit_type_id?: string;
  quantity?: number;
  automatically_verify?: boolean;
}

/** The offering's credits_to_assign when it overrides the course's rules, else the course's own. */
export function creditRules(
  offering: { override_credit_assignment?: boolean; credits_to_assign?: CreditRule[] },
  course: { credits_to_assign?: CreditRule[] } | undefined,
): CreditRule[] {
  return (offering.override_credit_assignment === true ? offering.credits_to_assign : course?.credits_to_assign) ?? [];
}

export interface CreditDraft {
  type_id: string;
  quantity: number;
  status: 'verified' | 'submitted';
}

/**
 * One credit per credit type (rules of the same type add up; verified only when every rule of the
 * type verifies automatically); rules without a type or below the smallest credit (0.01) give none;
 * types already credited to the registration (`existing`) are skipped, so completing twice never
 * credits twice.
 */
export function completionCredits(rules: CreditRule[], existing: Iterable<string> = []): CreditDraft[] {
  const have = new Set(existing);
  const byType = new Map<string, CreditDraft>();
  for (const r of rules) {
    if (!r.credit_type_id || typeof r.quantity !== 'number' || !(r.quantity > 0)) continue;
    const c = byType.get(r.credit_type_id);
    const status = r.automatically_verify === true ? 'verified' : 'submitted';
    if (!c) byType.set(r.credit_type_id, { type_id: r.credit_type_id, quantity: r.quantity, status });
    else {
      c.quantity += r.quantity;
      if (status === 'submitted') c.status = 'submitted';
    }
  }
  return [...byType.values()].filter((c) => c.quantity >= 0.01 && !have.has(c.type_id));
}

/** The rule of every course registration write (beforeWrite): the status change, with the implied status. */
export function courseRegistrationWriteError(old: CourseRegistrationLike | undefined, next: CourseRegistrationLike): string | null {
  const implied = impliedCourseRegistrationFields(next, '1970-01-01T00:00:00.000Z').status ?? next.status;
  return courseRegistrationTransitionError(old, implied);
}
