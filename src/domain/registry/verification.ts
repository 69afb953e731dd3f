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

const isDate = (s: unknown): s is string => typeof s === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(s);

export function lastCoveredDay(c: VerifiableCertification): string | undefined {
  const exp = isDate(c.expiration_date) ? c.expiration_date : undefined;
  const grace = isDate(c.grace_period_end_date) ? c.grace_period_end_date : undefined;
  if (exp && grace) return grace > exp ? grace : exp;
  return exp ?? grace;
}

/** `today` is a YYYY-MM-DD date (the app clock's, UTC). */
export function verdict(c: VerifiableCertification, today: string): Verdict {
  const until = lastCoveredDay(c);
  const active = c.status === 'active';
  const covered = until === undefined || today <= until;
  const exp = isDate(c.expiration_date) ? c.expiration_date : undefined;
  const valid = active && covered;
  return {
    valid,
    in_grace_period: valid && exp !== undefined && today > exp,
    lapsed: active && !covered,
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
