// one module per function: the date-fns index loads ~250 modules at start-up
import { addDays } from 'date-fns/addDays';
import { format } from 'date-fns/format';
import { parseISO } from 'date-fns/parseISO';
import { DomainError, computeExpiration, selectOptions, type ExpirationRuleSetLike, type Facts } from './expiration.js';
import type { RecordOf } from '../../resources/kit/define.js';
import type { certifications } from '../../resources/certifications.js';

/**
 * The rules of certifications: status changes, and what activating an application does to them
 * (a new certification, a renewal, a reinstatement, a transfer). Plain functions, no I/O.
 */
export type CertificationStatus = 'active' | 'inactive' | 'suspended' | 'retired';

const NEXT: Record<CertificationStatus, CertificationStatus[]> = {
  active: ['inactive', 'suspended', 'retired'],
  inactive: ['active', 'retired'],
  suspended: ['active', 'inactive', 'retired'],
  retired: [],
};

export function certificationTransitionError(from: string | undefined, to: string | undefined): string | null {
  if (from === undefined || from === to) return null;
  const allowed = Object.hasOwn(NEXT, from) ? NEXT[from as CertificationStatus] : undefined;
  if (!allowed) return `unknown certification status "${from}"`;
  if (allowed.includes(to as CertificationStatus)) return null;
  if (!allowed.length) return `the certification is ${from}; a retired certification cannot change status`;
  return `a certification cannot go from ${from} to ${to} (from ${from}: ${allowed.join(', ')})`;
}

/** A certification as these rules read it: the certifications resource's fields, typed from its schema. */
export type CertificationLike = Partial<RecordOf<typeof certifications>> & { id?: string; [k: string]: unknown };

const day = (d: string, n: number) => format(addDays(parseISO(d), n), 'yyyy-MM-dd');

/** The owner data an activation copies from the application onto the certification. */
export const OWNER_FIELDS = [
  'owner_type',
  'contact_id',
  'organization_id',
  'name',
  'first_name',
  'last_name',
  'email_address',
  'city',
  'state',
  'country',
] as const;

export function ownerCopy(application: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of OWNER_FIELDS) if (application[k] !== undefined && application[k] !== null) out[k] = application[k];
  const owner = application.owner_type === 'organization' ? application.organization_id : application.contact_id;
  if (owner !== undefined && owner !== null) out.customer_id = owner;
  if (out.name === undefined) {
    out.name =
      [application.first_name, application.last_name].filter(Boolean).join(' ') ||
      String(application.contact_id ?? application.organization_id ?? 'unnamed');
  }
  return out;
}

/** Expiration, grace end and reinstatement end of a term starting on `start`. */
export function term(ruleSet: ExpirationRuleSetLike | undefined, start: string, facts: Facts) {
  if (!ruleSet)
    throw new DomainError(
      'program.expiration_rule_set_id',
      'the programme has no expiration rule set, so no expiration date can be computed',
    );
  return computeExpiration(ruleSet, start, facts);
}

/**
 * The window in which a lapsed certification may be reinstated: after its grace period, up to the
 * reinstatement end of the term it lapsed from. Returns why not, or null when `today` is inside.
 */
export function reinstatementError(
  cert: CertificationLike,
  ruleSet: ExpirationRuleSetLike | undefined,
  facts: Facts,
  today: string,
): string | null {
  if (!cert.expiration_date) return 'the certification has no expiration date, so it cannot have lapsed';
  if (!ruleSet) return 'the programme has no expiration rule set';
  const { options } = selectOptions(ruleSet, facts);
  const graceEnd = day(cert.expiration_date, options.grace_period ?? 0);
  if (today <= graceEnd)
    return `the certification has not lapsed (it is valid, or in its grace period, until ${graceEnd}); renew it instead`;
  if (!options.allow_reinstatement) return "the programme's rule set does not allow reinstatement";
  const end = day(graceEnd, options.reinstatement_options?.reinstatement_period ?? 0);
  if (today > end) return `the reinstatement window closed on ${end}`;
  return null;
}
