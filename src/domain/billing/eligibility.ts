import { OPEN_STATUSES } from '../lifecycle/applications.js';

/**
 * Which records a billing run acts on, and whether they still qualify when the action is performed.
 * Refresh and execute ask the same functions, so a candidate and its re-check cannot disagree.
 * Dates are YYYY-MM-DD (their first ten characters); `today` is the run's day.
 */
type Rec = Record<string, unknown>;
const day = (d: unknown) => (typeof d === 'string' && d.length >= 10 ? d.slice(0, 10) : undefined);

/** Applications not decided yet: these expire when their date passes (approved ones wait for activation). */
export const EXPIRABLE_APPLICATION_STATUSES = ['draft', 'missing requirements', 'pending approval'];
/** Applications the applicant still has to complete: these get reminders. */
export const REMINDABLE_APPLICATION_STATUSES = ['draft', 'missing requirements'];

const statusOf = (app: Rec) => String(app.status ?? 'draft');

/** An open application whose expiration date has passed (the day after it). */
export function applicationExpired(app: Rec, today: string): boolean {
  const exp = day(app.expiration_date);
  return EXPIRABLE_APPLICATION_STATUSES.includes(statusOf(app)) && exp !== undefined && exp < today;
}

export function applicationRemindable(app: Rec): boolean {
  return REMINDABLE_APPLICATION_STATUSES.includes(statusOf(app));
}

/** An active certification past its expiration and its grace period (the day after the grace end). */
export function certificationDroppable(cert: Rec, today: string): boolean {
  const graceEnd = day(cert.grace_period_end_date) ?? day(cert.expiration_date);
  return cert.status === 'active' && graceEnd !== undefined && graceEnd < today;
}

/** The certifications that are renewing: named by a renewal application still open or approved. */
export function renewingCertificationIds(apps: Rec[]): Set<string> {
  const out = new Set<string>();
  for (const a of apps) {
    if (a.type === 'renewal' && typeof a.certification_id === 'string' && OPEN_STATUSES.includes(statusOf(a) as never))
      out.add(a.certification_id);
  }
  return out;
}

/**
 * The day a refresh prices renewals at (the late fee depends on the standing that day): the run's
 * scheduled_run_date when it is later than today (a run refreshed ahead of its day), else today. An
 * execution prices at its own day.
 */
export function pricingDay(run: Rec, today: string): string {
  const scheduled = day(run.scheduled_run_date);
  return scheduled !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(scheduled) && scheduled > today ? scheduled : today;
}
