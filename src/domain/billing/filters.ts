/**
 * The candidate filters every billing-run options block shares (programs, training providers, status
 * reasons, application types) and the expiration window. Pure: the service loads the candidates and
 * asks these rules which ones the run acts on.
 */

export type Restriction = 'include' | 'exclude' | 'none';

/**
 * Whether a candidate's value (or values: a certification may name several training providers)
 * passes a restriction list. include: some value is listed, so a candidate without one fails;
 * exclude: no value is listed. No restriction, 'none' or an empty list filters nothing, as an
 * options block that names no ids.
 */
export function passesRestriction(
  value: string | undefined | (string | undefined)[],
  restriction: Restriction | undefined,
  ids: string[] | undefined,
): boolean {
  if (!ids?.length || (restriction !== 'include' && restriction !== 'exclude')) return true;
  const values = (Array.isArray(value) ? value : [value]).filter((v): v is string => v !== undefined);
  const listed = values.some((v) => ids.includes(v));
  return restriction === 'include' ? listed : !listed;
}

export interface CandidateLike {
  program_id?: string;
  training_provider_ids?: (string | undefined)[];
  status_reason_id?: string;
  /** Applications only: certifications have no type, so the application-type filter skips them. */
  application_type?: string;
}

/** Whether a candidate passes every filter of an options block (no block: no filter). */
export function passesOptions(candidate: CandidateLike, options: Record<string, any> | undefined): boolean {
  if (!options) return true;
  const { program_id, training_provider_ids, status_reason_id, application_type } = candidate;
  if (!passesRestriction(program_id, options.program_restriction, options.program_ids)) return false;
  if (!passesRestriction(training_provider_ids, options.training_provider_restriction, options.training_provider_ids)) return false;
  if (options.restrict_status_reasons === true && !passesRestriction(status_reason_id, 'include', options.status_reason_ids)) return false;
  if (
    options.restrict_application_types === true &&
    application_type !== undefined &&
    !passesRestriction(application_type, 'include', options.application_types)
  )
    return false;
  return true;
}

/** Whether a day lies in [start, end] (YYYY-MM-DD prefixes, so date-times compare by day); an open bound is unbounded, no day is never in. */
export function inWindow(date: string | undefined, start: string | undefined, end: string | undefined): boolean {
  if (!date) return false;
  const d = date.slice(0, 10);
  if (start && d < start.slice(0, 10)) return false;
  if (end && d > end.slice(0, 10)) return false;
  return true;
}
