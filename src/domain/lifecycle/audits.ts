// one module per function: the date-fns index loads ~250 modules at start-up
import { addDays } from 'date-fns/addDays';
import { format } from 'date-fns/format';
import { parseISO } from 'date-fns/parseISO';

/**
 * Random CE audits, as plain functions: an application process may set an audit rate (a percentage);
 * when one of its applications is submitted with its requirements met, a draw in [0, DRAW_RANGE)
 * selects it when the draw falls below the rate (in hundredths of a percent). A selected application
 * carries an audit (requested -> submitted -> passed | failed) and cannot be approved until it passed.
 * The draw itself (crypto.randomInt) is the service's; these functions only judge it.
 */
export const AUDIT_STATUSES = ['not selected', 'requested', 'submitted', 'passed', 'failed'] as const;
export type AuditStatus = (typeof AUDIT_STATUSES)[number];
/** What staff record through the audit route. */
export const AUDIT_OUTCOMES = ['submitted', 'passed', 'failed'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** Draws are whole numbers in [0, DRAW_RANGE): a rate counts in hundredths of a percent. */
export const DRAW_RANGE = 10_000;
/** Documents are due this many days after the audit is requested unless the process says otherwise. */
export const DEFAULT_DOCUMENTS_DUE_DAYS = 30;

export interface AuditLike {
  rate?: number;
  draw?: number;
  selected?: boolean;
  status?: string;
  documents_due_date?: string;
  outcome_reason?: string;
  [k: string]: unknown;
}

/** How many of the DRAW_RANGE draws select at `rate` percent (0..100, to 0.01 %). */
export function auditThreshold(rate: number): number {
  if (!Number.isFinite(rate) || rate <= 0) return 0;
  if (rate >= 100) return DRAW_RANGE;
  return Math.round(rate * (DRAW_RANGE / 100));
}

/** Whether a draw in [0, DRAW_RANGE) selects the application at `rate` percent. */
export function auditSelected(rate: number, draw: number): boolean {
  if (!Number.isInteger(draw) || draw < 0 || draw >= DRAW_RANGE)
    throw new RangeError(`an audit draw is a whole number in [0, ${DRAW_RANGE}), got ${draw}`);
  return draw < auditThreshold(rate);
}

/** The due date of the audit documents: `dueDays` after `today` (YYYY-MM-DD). */
export function auditDueDate(today: string, dueDays: number | undefined): string {
  const days = typeof dueDays === 'number' && Number.isFinite(dueDays) && dueDays > 0 ? Math.floor(dueDays) : DEFAULT_DOCUMENTS_DUE_DAYS;
  return format(addDays(parseISO(today.slice(0, 10)), days), 'yyyy-MM-dd');
}

/**
 * The audit record a submit writes: the draw (rate, value, result) always, and when selected the
 * requested audit with its documents due date.
 */
export function auditAfterDraw(rate: number, draw: number, now: string, dueDays?: number): AuditLike {
  const selected = auditSelected(rate, draw);
  const base = { rate, draw, selected, drawn_at: now };
  if (!selected) return { ...base, status: 'not selected' };
  return { ...base, status: 'requested', requested_at: now, documents_due_date: auditDueDate(now, dueDays) };
}

const NEXT: Record<AuditStatus, AuditOutcome[]> = {
  'not selected': [],
  requested: ['submitted', 'passed', 'failed'],
  submitted: ['passed', 'failed'],
  passed: [],
  failed: [],
};

/** Why the audit cannot move to `to`, or null (requested -> submitted -> passed | failed). */
export function auditTransitionError(audit: AuditLike | undefined, to: string): string | null {
  if (!(AUDIT_OUTCOMES as readonly string[]).includes(to)) return `an audit outcome is one of ${AUDIT_OUTCOMES.join(', ')}`;
  if (audit?.selected !== true) return 'the application was not selected for an audit';
  const from = (audit.status ?? 'requested') as AuditStatus;
  const allowed = Object.hasOwn(NEXT, from) ? NEXT[from] : undefined;
  if (!allowed) return `unknown audit status "${from}"`;
  if (allowed.includes(to as AuditOutcome)) return null;
  if (!allowed.length) return `the audit is already ${from}`;
  return `an audit cannot go from ${from} to ${to} (from ${from}: ${allowed.join(', ')})`;
}

/** Why an application may not be approved because of its audit, or null. */
export function auditApprovalError(audit: AuditLike | undefined): string | null {
  if (audit?.selected !== true || audit.status === 'passed') return null;
  const due = audit.documents_due_date ? ` (documents due ${audit.documents_due_date})` : '';
  return `the application was selected for a CE audit, which is ${audit.status ?? 'requested'}${due}; it can be approved once the audit passed`;
}
