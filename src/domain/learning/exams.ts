import { transitionError, type Transitions } from './transitions.js';
import type { RecordOf } from '../../resources/kit/define.js';
import type { examRegistrations } from '../../resources/examRegistrations.js';

/**
 * Exam registrations: the status machine, the outcome of a score against the exam's passing score,
 * the letter to queue for the candidate, and which exam reg processes (register / retest) a contact
 * may use for an exam now. Pure functions; src/services/learning.ts applies them.
 */
export const EXAM_REGISTRATION_NEXT: Transitions = {
  draft: ['registered', 'cancelled'],
  registered: ['passed', 'failed', 'no show', 'cancelled'],
  // a re-scored sitting may change its outcome
  passed: ['failed'],
  failed: ['passed'],
  'no show': [],
  cancelled: [],
};

export const examRegistrationTransitionError = (old: { status?: unknown } | undefined, to: string | undefined) =>
  transitionError('exam registration', EXAM_REGISTRATION_NEXT, old, to, 'draft');

/** An exam registration as these rules read it: the examRegistrations resource's fields, typed from its schema. */
export type ExamRegistrationLike = Partial<RecordOf<typeof examRegistrations>> & { id: string };

/** passed when score >= passing score, else failed. */
export const scoreOutcome = (score: number, passingScore: number): 'passed' | 'failed' => (score >= passingScore ? 'passed' : 'failed');

export class ExamRuleError extends Error {}

/**
 * The fields a write implies: a cancellation date means cancelled (and cancelling stamps the date);
 * a score, when the exam has a passing score, decides passed / failed (never for a no show or a
 * cancelled registration: those are explicit). An explicit outcome the score contradicts is an
 * ExamRuleError.
 */
export function impliedExamRegistrationFields(
  old: Partial<ExamRegistrationLike> | undefined,
  next: Partial<ExamRegistrationLike>,
  passingScore: number | undefined,
  now: string,
): Partial<ExamRegistrationLike> {
  const out: Partial<ExamRegistrationLike> = {};
  let status = next.status;
  if (next.cancellation_date && status !== 'cancelled') status = out.status = 'cancelled';
  if (status === 'cancelled' && !next.cancellation_date) out.cancellation_date = now;
  if (typeof next.score !== 'number') return out;
  // Neither the score nor the status changes (a note is edited): the stored outcome stands.
  if (old && old.score === next.score && old.status === status) return out;
  // no show and cancelled are explicit: a score does not turn them into an outcome
  if (status === 'no show' || status === 'cancelled') return out;
  if (typeof passingScore !== 'number') return out;
  const outcome = scoreOutcome(next.score, passingScore);
  const explicit = status === 'passed' || status === 'failed' ? status : undefined;
  if (explicit && explicit !== outcome && (old?.status !== explicit || old?.score === next.score)) {
    throw new ExamRuleError(
      `score ${next.score} is ${outcome === 'passed' ? 'at or above' : 'below'} the passing score ${passingScore}: the registration ${outcome}, not ${explicit}`,
    );
  }
  if (status !== outcome) out.status = outcome;
  return out;
}

export interface LetterSource {
  pass_letter_id?: string;
  fail_letter_id?: string;
}

/** The letter for an outcome: the offering's, else the exam's (undefined when neither has one). */
export function letterFor(
  status: string | undefined,
  offering: LetterSource | undefined,
  exam: LetterSource | undefined,
): string | undefined {
  if (status === 'passed') return offering?.pass_letter_id ?? exam?.pass_letter_id;
  if (status === 'failed') return offering?.fail_letter_id ?? exam?.fail_letter_id;
  return undefined;
}

// ---- eligibility ------------------------------------------------------------------------------------

/**
 * An exam registration process as eligibility reads it. Written out: the definition's fields come from
 * registrationProcess() (resources/blocks.ts), shared with course reg processes, whose field names are
 * computed and so not typed.
 */
export interface ExamRegProcessLike {
  id: string;
  type?: string;
  is_active?: boolean;
  restrict_exams?: boolean;
  exam_ids?: string[];
  display_order?: number;
}

export interface Eligibility {
  /** register (first attempt), retest (after a fail or a no show), or null (none may be used now). */
  type: 'register' | 'retest' | null;
  reason: string;
  /** The processes of that type that serve this exam, by display_order. */
  processes: ExamRegProcessLike[];
  /** The contact's newest registration for the exam. */
  last_registration?: ExamRegistrationLike;
}

const OPEN = new Set(['draft', 'registered']);

/** May the contact register now: a kind of attempt is open to them and a process of that kind serves the exam. */
export const mayRegister = (e: Eligibility): boolean => e.type !== null && e.processes.length > 0;

/**
 * Which processes a contact may use now for an exam, given all their registrations for that exam
 * (ids are time-ordered): none while one is open or after a pass; retest after a fail or a no show;
 * register otherwise (no attempt yet, or only cancelled ones).
 */
export function examEligibility(examId: string, registrations: ExamRegistrationLike[], processes: ExamRegProcessLike[]): Eligibility {
  const regs = registrations.filter((r) => r.exam_id === undefined || r.exam_id === examId).sort((a, b) => a.id.localeCompare(b.id));
  const last = regs[regs.length - 1];
  const base = last ? { last_registration: last } : {};
  const open = regs.find((r) => OPEN.has(r.status ?? 'draft'));
  if (open)
    return { type: null, reason: `registration ${open.id} for this exam is still ${open.status ?? 'draft'}`, processes: [], ...base };
  const passed = regs.find((r) => r.status === 'passed');
  if (passed) return { type: null, reason: `the exam was passed (registration ${passed.id})`, processes: [], ...base };
  const attempts = regs.filter((r) => r.status === 'failed' || r.status === 'no show');
  const type = attempts.length ? 'retest' : 'register';
  const usable = processes
    .filter((p) => p.is_active !== false && p.type === type && (!p.restrict_exams || (p.exam_ids ?? []).includes(examId)))
    .sort((a, b) => (a.display_order ?? 0) - (b.display_order ?? 0) || a.id.localeCompare(b.id));
  const reason = attempts.length
    ? `${attempts.length} unsuccessful attempt${attempts.length > 1 ? 's' : ''} (last: ${attempts[attempts.length - 1]!.status}); a retest is due`
    : 'no attempt yet';
  return { type, reason: usable.length ? reason : `${reason}, but no active ${type} process serves this exam`, processes: usable, ...base };
}

/** Why a registration through `process` is not allowed now, given the eligibility, or null. */
export function processUseError(process: ExamRegProcessLike, e: Eligibility): string | null {
  if (e.type === null) return `no exam registration is possible now: ${e.reason}`;
  if (process.type !== e.type)
    return `process ${process.id} is a ${process.type} process, but this contact needs ${e.type === 'retest' ? 'a retest' : 'a first registration'} (${e.reason})`;
  if (!e.processes.some((p) => p.id === process.id)) return `process ${process.id} does not serve this exam or is retired`;
  return null;
}
