// one module per function: the date-fns index loads ~250 modules at start-up
import { addDays } from 'date-fns/addDays';
import { format } from 'date-fns/format';
import { parseISO } from 'date-fns/parseISO';
import { reinstatementError, type CertificationLike } from './certifications.js';
import { selectOptions, type ExpirationRuleSetLike, type Facts } from './expiration.js';

/**
 * When a renewal or a reinstatement may be applied for. Plain functions, no I/O, no clock: the
 * lifecycle service asks them at every step of an application (generate, submit, approve, activate),
 * so that an application that could never be activated is refused before it consumes credits.
 *
 * A renewal window opens `renewal_period` days before the certification's expiration date (the
 * programme's default_renewal_period; no opening limit when it is not set) and closes at the end of its
 * grace period. After that the certification has lapsed and only a reinstatement brings it back
 * (reinstatementError: after the grace period, up to the reinstatement end of the rule set).
 */
const DAY = /^\d{4}-\d{2}-\d{2}/;
const day = (d: string, n: number) => format(addDays(parseISO(d), n), 'yyyy-MM-dd');
const ymd = (v: unknown): string | undefined => (typeof v === 'string' && DAY.test(v) ? v.slice(0, 10) : undefined);

export interface RenewalWindow {
  /** First day a renewal may be applied for; undefined when there is no opening limit. */
  opens?: string;
  /** The certification's expiration date. */
  expires: string;
  /** Last day (the end of the grace period). */
  closes: string;
  /** The renewal period the window opens with (days before expiration). */
  period?: number;
}

/** Days of grace after expiration under the rule set (0 without a rule set). */
export function graceDays(ruleSet: ExpirationRuleSetLike | undefined, facts: Facts): number {
  if (!ruleSet) return 0;
  const g = selectOptions(ruleSet, facts).options.grace_period;
  return typeof g === 'number' && Number.isFinite(g) && g > 0 ? Math.floor(g) : 0;
}

/**
 * The renewal window of a certification, or null when it has no expiration date (nothing to renew
 * against). The window closes on the certification's grace_period_end_date, or, when it has none,
 * on its expiration date plus the rule set's grace period.
 */
export function renewalWindow(
  cert: CertificationLike,
  ruleSet: ExpirationRuleSetLike | undefined,
  facts: Facts,
  renewalPeriod?: number | null,
): RenewalWindow | null {
  const expires = ymd(cert.expiration_date);
  if (!expires) return null;
  const stored = ymd(cert.grace_period_end_date);
  const closes = stored && stored >= expires ? stored : day(expires, graceDays(ruleSet, facts));
  if (typeof renewalPeriod !== 'number' || !Number.isFinite(renewalPeriod) || renewalPeriod < 0) return { expires, closes };
  const period = Math.floor(renewalPeriod);
  return { opens: day(expires, -period), expires, closes, period };
}

/**
 * Whether a reinstatement costs the renewal price: the rule set's options for these facts allow
 * reinstatement with give_renewal_pricing_during_reinstatement_period (the caller checks that the
 * certification is inside its reinstatement period: standing lapsed_reinstatable).
 */
export function renewalPricingInReinstatement(ruleSet: ExpirationRuleSetLike | undefined, facts: Facts): boolean {
  if (!ruleSet) return false;
  const { options } = selectOptions(ruleSet, facts);
  return options.allow_reinstatement === true && options.reinstatement_options?.give_renewal_pricing_during_reinstatement_period === true;
}

/** The reinstatement end of a lapsed certification (its stored one, else the rule set's), or null when not allowed. */
function reinstatementEnd(
  cert: CertificationLike,
  ruleSet: ExpirationRuleSetLike | undefined,
  facts: Facts,
  graceEnd: string,
): string | null {
  const stored = ymd(cert.reinstatement_end_date);
  if (stored) return stored;
  if (!ruleSet) return null;
  const { options } = selectOptions(ruleSet, facts);
  if (!options.allow_reinstatement) return null;
  return day(graceEnd, Math.max(0, Math.floor(options.reinstatement_options?.reinstatement_period ?? 0)));
}

/**
 * Why the certification cannot be renewed on `today`, or null when `today` is inside its renewal
 * window. The message names the window and its dates; a lapsed certification is pointed to
 * reinstatement (with its reinstatement window when it is still open).
 */
export function renewalWindowError(
  cert: CertificationLike,
  ruleSet: ExpirationRuleSetLike | undefined,
  facts: Facts,
  renewalPeriod: number | null | undefined,
  today: string,
): string | null {
  const w = renewalWindow(cert, ruleSet, facts, renewalPeriod);
  if (!w) return null;
  const who = `certification ${cert.id ?? ''}`.trim();
  if (w.opens && today < w.opens) {
    return `${who} cannot be renewed yet: its renewal window runs from ${w.opens} (${w.period} days before it expires on ${w.expires}) to ${w.closes} (the end of its grace period)`;
  }
  if (today > w.closes) {
    const end = reinstatementEnd(cert, ruleSet, facts, w.closes);
    const rein =
      end === null
        ? " (its programme's rule set does not allow reinstatement)"
        : today > end
          ? ` (its reinstatement window closed on ${end})`
          : ` (its reinstatement window runs from ${day(w.closes, 1)} to ${end})`;
    return `${who} cannot be renewed: its renewal window${w.opens ? ` (${w.opens} to ${w.closes})` : ''} closed at the end of its grace period on ${w.closes}; it lapsed after its grace period, apply for reinstatement instead${rein}`;
  }
  return null;
}

/**
 * Why an application of `type` for `cert` cannot go ahead on `today` (renewal: its renewal window;
 * reinstatement: its reinstatement window), or null. Other types have no window.
 */
export function applicationWindowError(
  type: string | undefined,
  cert: CertificationLike,
  ruleSet: ExpirationRuleSetLike | undefined,
  facts: Facts,
  renewalPeriod: number | null | undefined,
  today: string,
): string | null {
  if (type === 'renewal') return renewalWindowError(cert, ruleSet, facts, renewalPeriod, today);
  if (type === 'reinstatement') {
    const why = reinstatementError(cert, ruleSet, facts, today);
    return why ? `certification ${cert.id ?? ''} cannot be reinstated: ${why}` : null;
  }
  return null;
}
