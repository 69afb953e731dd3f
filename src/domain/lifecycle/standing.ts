/**
 * The standing of a certification on a day: the one definition that the certification record
 * (`standing`), the public verification, the directory search, the statistics and the lifecycle sweep
 * all use. Plain data in, plain data out; the day (YYYY-MM-DD, UTC) is an argument.
 *
 * The term's dates are those the programme's expiration rule set gave the certification when it was
 * activated (expiration_date, grace_period_end_date, reinstatement_end_date), so the programme is
 * not needed to tell the standing; it only decides what a lapse writes (lapseChanges).
 *
 * - `current`: active, and today is on or before its expiration date (or it does not expire);
 * - `in_grace`: active, after its expiration date, up to and including the last day it covers (the
 *   grace period end; the later of the two dates when both are set);
 * - `lapsed_reinstatable`: not valid (active past the last day it covers, or inactive), but it can
 *   still come back: today is on or before its reinstatement end date (reinstatement), or, for an
 *   inactive one, on or before the last day of its term (renewal);
 * - `lapsed`: not valid and past every window (or inactive without dates).
 * A suspended or retired certification has no standing (undefined): its status, not time, decides.
 *
 * An active certification whose standing is lapsed or lapsed_reinstatable is *due to lapse*: the
 * lifecycle sweep makes it inactive; until it runs, every reader already treats it as inactive
 * (effectiveStatus), so that the record's standing, verify, the directory and statistics agree.
 */
export const STANDINGS = ['current', 'in_grace', 'lapsed_reinstatable', 'lapsed'] as const;
export type Standing = (typeof STANDINGS)[number];

export interface StandingFacts {
  status?: unknown;
  expiration_date?: unknown;
  grace_period_end_date?: unknown;
  reinstatement_end_date?: unknown;
  [k: string]: unknown;
}

const day = (d: unknown): string | undefined => (typeof d === 'string' && /^\d{4}-\d{2}-\d{2}/.test(d) ? d.slice(0, 10) : undefined);

/** The last day the term covers: the grace period end when it is set (and not before the expiration date), else the expiration date. */
export function lastCoveredDay(c: StandingFacts): string | undefined {
  const exp = day(c.expiration_date);
  const grace = day(c.grace_period_end_date);
  if (exp && grace) return grace > exp ? grace : exp;
  return exp ?? grace;
}

/** The standing on `today` (YYYY-MM-DD); undefined for suspended, retired or unknown statuses. */
export function standing(c: StandingFacts, today: string): Standing | undefined {
  if (c.status !== 'active' && c.status !== 'inactive') return undefined;
  const last = lastCoveredDay(c);
  if (c.status === 'active' && (last === undefined || today <= last)) {
    const exp = day(c.expiration_date);
    return exp !== undefined && today > exp ? 'in_grace' : 'current';
  }
  const reinstatementEnd = day(c.reinstatement_end_date);
  if ((reinstatementEnd !== undefined && today <= reinstatementEnd) || (last !== undefined && today <= last)) return 'lapsed_reinstatable';
  return 'lapsed';
}

/** Valid on `today`: current or in grace. */
export const isValidStanding = (s: Standing | undefined) => s === 'current' || s === 'in_grace';

/** An active certification that is past the last day it covers: the sweep makes it inactive. */
export function dueToLapse(c: StandingFacts, today: string): boolean {
  return c.status === 'active' && !isValidStanding(standing(c, today));
}

/** The status readers show: `inactive` for a certification due to lapse, else the stored status. */
export function effectiveStatus(c: StandingFacts, today: string): string | undefined {
  return dueToLapse(c, today) ? 'inactive' : typeof c.status === 'string' ? c.status : undefined;
}

export interface LapseProgramme {
  lapse_status_reason_id?: unknown;
  [k: string]: unknown;
}

/**
 * What a lapse writes onto a certification due to lapse on `today`, or null when it is not due (no
 * longer active, renewed, reinstated …): status inactive, and the programme's lapse status reason
 * (lapse_status_reason_id), else `defaultReason` (the tenant's reason for lapses, see the sweep), else
 * the reason is left as it was.
 */
export function lapseChanges(
  c: StandingFacts,
  programme: LapseProgramme | undefined,
  defaultReason: string | undefined,
  today: string,
): Record<string, unknown> | null {
  if (!dueToLapse(c, today)) return null;
  const reason = typeof programme?.lapse_status_reason_id === 'string' ? programme.lapse_status_reason_id : defaultReason;
  return { status: 'inactive', ...(reason ? { status_reason_id: reason } : {}) };
}

export interface StatusReasonLike {
  id: string;
  name?: unknown;
  status?: unknown;
  is_active?: unknown;
}

/**
 * The status reason a lapse records when the programme names none: among the active reasons that
 * explain `inactive` (or any status), one whose name speaks of a lapse or an expiry ("Lapsed",
 * "Expired"), else the first reason for `inactive` by name (as a billing run's drop), else none.
 */
export function defaultLapseReason(reasons: StatusReasonLike[]): string | undefined {
  const usable = reasons.filter((r) => r.is_active !== false && (r.status === 'inactive' || r.status === undefined || r.status === null));
  const byName = (a: StatusReasonLike, b: StatusReasonLike) =>
    String(a.name ?? '').localeCompare(String(b.name ?? '')) || a.id.localeCompare(b.id);
  const named = usable.filter((r) => /laps|expir/i.test(String(r.name ?? ''))).sort(byName);
  if (named.length) return named[0]!.id;
  return usable.filter((r) => r.status === 'inactive').sort(byName)[0]?.id;
}
