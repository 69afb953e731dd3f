import { isValidStanding, lastCoveredDay as coveredUntil, standing } from '../lifecycle/standing.js';

/**
 * Is certificate number N valid today? The rule an employer relies on, as plain functions.
 *
 * A certification is valid on a day when it is active and the day is on or before the last day it
 * covers: its grace period end when it has one (and that is not before the expiration date), else its
 * expiration date; an active certification without an expiration date does not expire. Between the
 * expiration date (exclusive) and the grace period end (inclusive) it is valid and in its grace
 * period. An active certification past that day has lapsed (a billing run's drop has not yet made it
 * inactive): not valid. Inactive, suspended and retired certifications are never valid.
 */
export interface VerifiableCertification {
  id?: string;
  status?: string;
  expiration_date?: string;
  grace_period_end_date?: string;
  [k: string]: unknown;
}

export interface Verdict {
  valid: boolean;
  in_grace_period: boolean;
  /** Active, but past the last day it covers. */
  lapsed: boolean;
  /** The last day it covers (grace end or expiration); absent when it does not expire. */
  valid_until?: string;
}

/** The last day it covers (grace end or expiration): the lifecycle's definition (domain/lifecycle/standing.ts). */
export const lastCoveredDay = (c: VerifiableCertification): string | undefined => coveredUntil(c);

/**
 * `today` is a YYYY-MM-DD date (the app clock's, UTC). The verdict is the certification's standing
 * (domain/lifecycle/standing.ts), the same one its record, the directory and the statistics show:
 * valid = current or in grace.
 */
export function verdict(c: VerifiableCertification, today: string): Verdict {
  const until = coveredUntil(c);
  const s = standing(c, today);
  const valid = isValidStanding(s);
  return {
    valid,
    in_grace_period: s === 'in_grace',
    lapsed: c.status === 'active' && !valid,
    ...(until !== undefined ? { valid_until: until } : {}),
  };
}

/**
 * Certificate numbers are per programme, but nothing stops two records from sharing one (a manual
 * create, a transfer). The answer is about the one that matters to a reader: a valid one first, then
 * an active one, then the newest (ids are time-ordered).
 */
export function pickCertificate<T extends VerifiableCertification>(certs: T[], today: string): T | undefined {
  const rank = (c: T) => (verdict(c, today).valid ? 2 : c.status === 'active' ? 1 : 0);
  let best: T | undefined;
  for (const c of certs) {
    if (!best) {
      best = c;
      continue;
    }
    const d = rank(c) - rank(best);
    if (d > 0 || (d === 0 && String(c.id ?? '') > String(best.id ?? ''))) best = c;
  }
  return best;
}
