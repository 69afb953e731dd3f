/**
 * A certification's standing in words, for people (the registry's verify page and the PDF
 * certificate). The facts come from the verification (domain/registry/verification.ts, itself the
 * lifecycle's standing): this only words them, so the page, the JSON route and the record agree.
 */
export type StandingWord = 'current' | 'in_grace' | 'lapsed' | 'suspended' | 'retired' | 'inactive';

export interface VerificationFacts {
  valid: boolean;
  status: string;
  standing?: string;
  expiration_date?: string;
  grace_period_end_date?: string;
}

export interface StandingText {
  word: StandingWord;
  /** A short label ("Current", "In grace period" …). */
  label: string;
  /** One sentence a reader can act on. */
  sentence: string;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** 2026-09-23 → "23 September 2026" (the date as written, no time zone involved); anything else as it is. */
export function longDate(d: string | undefined): string | undefined {
  const m = typeof d === 'string' ? /^(\d{4})-(\d{2})-(\d{2})/.exec(d) : null;
  if (!m) return d;
  const month = MONTHS[Number(m[2]) - 1];
  return month ? `${Number(m[3])} ${month} ${m[1]}` : d;
}

/** The standing of a verified certificate in words: current (valid until …), in grace until …, lapsed, suspended, retired. */
export function standingInWords(v: VerificationFacts): StandingText {
  const exp = longDate(v.expiration_date);
  const grace = longDate(v.grace_period_end_date);
  if (v.status === 'suspended') return { word: 'suspended', label: 'Suspended', sentence: 'This licence is suspended: it is not valid.' };
  if (v.status === 'retired') return { word: 'retired', label: 'Retired', sentence: 'This licence is retired: it is no longer valid.' };
  if (v.valid && v.standing === 'in_grace') {
    return {
      word: 'in_grace',
      label: 'In grace period',
      sentence: `This licence expired on ${exp} and is in its grace period: it is valid until ${grace ?? exp}.`,
    };
  }
  if (v.valid) {
    // valid until the expiration date; the grace period after it is a courtesy, not the term
    const until = exp ?? grace;
    return {
      word: 'current',
      label: 'Current',
      sentence: until ? `This licence is current: valid until ${until}.` : 'This licence is current: it does not expire.',
    };
  }
  if (v.status === 'active' || v.status === 'inactive' || v.standing !== undefined) {
    return {
      word: 'lapsed',
      label: 'Lapsed',
      sentence: exp ? `This licence lapsed: it expired on ${exp} and is not valid.` : 'This licence lapsed: it is not valid.',
    };
  }
  return { word: 'inactive', label: 'Not valid', sentence: `This licence is not valid (status: ${v.status}).` };
}
