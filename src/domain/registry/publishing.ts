import type { FieldError } from '../../core/errors.js';
import type { RecordOf } from '../../resources/kit/define.js';
import type { directories } from '../../resources/directories.js';

/**
 * What a directory may publish and search: the rules of the public registry, as plain functions.
 *
 * A directory lists certifications (the holder's name, place and contact data are copied onto each
 * certification). It names its search criteria (`searchable_fields[].name`) and its extra result
 * columns (`additional_fields`); together these are its published fields. Only certification fields
 * meant for a registry can be published (DIRECTORY_FIELDS): internal ids (the certification's own,
 * contact, organization, customer, status reason, application …) and billing data never are, whatever
 * a directory names. An e-mail address is published only when the directory lists `email_address`.
 * Every entry also carries its certificate number and programme (the key an employer verifies).
 */

/** How a published field is searched: case-insensitive "contains", a number, or an exact value. */
export type FieldKind = 'contains' | 'number' | 'exact';

export const DIRECTORY_FIELDS: Readonly<Record<string, FieldKind>> = Object.freeze({
  name: 'contains',
  first_name: 'contains',
  last_name: 'contains',
  certificate_name: 'contains',
  job_title: 'contains',
  city: 'contains',
  state: 'contains',
  country: 'contains',
  email_address: 'contains',
  number: 'number',
  program_id: 'exact',
  status: 'exact',
  // today's standing (current, in_grace, lapsed_reinstatable, lapsed): computed, see domain/lifecycle/standing.ts
  standing: 'exact',
  certification_date: 'exact',
  expiration_date: 'exact',
  renewal_date: 'exact',
});

/** Query parameters that are paging, not criteria. */
export const PAGING_PARAMS = ['limit', 'exclusiveStartKey'] as const;

const CERTIFICATION_STATUSES = ['active', 'inactive', 'suspended', 'retired'];

/** A directory as these rules read it: the directories resource's fields, typed from its schema. */
export type DirectoryLike = Partial<RecordOf<typeof directories>>;

const publishable = (name: unknown): name is string => typeof name === 'string' && Object.hasOwn(DIRECTORY_FIELDS, name);
const unique = (xs: string[]) => [...new Set(xs)];

/** The criteria a directory offers: its searchable fields that may be published, in its order. */
export function searchableFields(d: DirectoryLike): string[] {
  return unique((d.searchable_fields ?? []).map((f) => f?.name).filter(publishable));
}

/** The fields an entry shows: the searchable fields, then the additional fields (publishable ones only). */
export function publishedFields(d: DirectoryLike): string[] {
  return unique([...searchableFields(d), ...(d.additional_fields ?? []).filter(publishable)]);
}

/** The names a directory lists that can never be published (reported to its editors, ignored here). */
export function unpublishableFields(d: DirectoryLike): string[] {
  const named = [...(d.searchable_fields ?? []).map((f) => f?.name), ...(d.additional_fields ?? [])];
  return unique(named.filter((n): n is string => typeof n === 'string' && !publishable(n)));
}

export interface Criterion {
  field: string;
  kind: FieldKind;
  value: string | number;
}

/**
 * Query parameters -> criteria. Each parameter must be one of the directory's searchable fields (or a
 * paging parameter); an empty value is no criterion. A number field takes a whole number. In search
 * mode (display_mode "search", the default) at least one criterion is needed: the registry answers
 * questions, it does not hand out its whole list; in "list" mode no criterion lists every entry.
 */
export function parseCriteria(query: Record<string, unknown>, d: DirectoryLike): { criteria: Criterion[]; errors: FieldError[] } {
  const allowed = new Set(searchableFields(d));
  const criteria: Criterion[] = [];
  const errors: FieldError[] = [];
  for (const [key, raw] of Object.entries(query)) {
    if ((PAGING_PARAMS as readonly string[]).includes(key)) continue;
    if (!allowed.has(key)) {
      errors.push({ field: key, reason: `is not a search criterion of this directory (criteria: ${[...allowed].join(', ') || 'none'})` });
      continue;
    }
    if (typeof raw !== 'string') {
      errors.push({ field: key, reason: 'must be given once, as text' });
      continue;
    }
    const value = raw.trim();
    if (value === '') continue;
    if (value.length > 200) {
      errors.push({ field: key, reason: 'must be at most 200 characters' });
      continue;
    }
    const kind = DIRECTORY_FIELDS[key]!;
    if (kind === 'number') {
      if (!/^\d{1,15}$/.test(value)) {
        errors.push({ field: key, reason: 'must be a whole number' });
        continue;
      }
      criteria.push({ field: key, kind, value: Number(value) });
    } else {
      criteria.push({ field: key, kind, value });
    }
  }
  if (!errors.length && !criteria.length && (d.display_mode ?? 'search') !== 'list') {
    errors.push({ field: '(query)', reason: `this directory searches: give at least one criterion (${[...allowed].join(', ')})` });
  }
  return { criteria, errors };
}

export interface ListingScope {
  /** Certification statuses listed (never empty unless nothing is listed). */
  statuses: string[];
  /** Programmes listed; undefined = every programme. */
  programIds?: string[];
}

const intersect = (a: string[] | undefined, b: string[]) => (a ? a.filter((x) => b.includes(x)) : [...b]);

/**
 * Which certifications a directory lists: `certification_statuses` (default: active only) of
 * `program_ids` (default: every programme). Eligibility criteria, when enabled, narrow this further
 * with what they say about certifications: `certificants` + `certification_options.program_ids`
 * (those programmes only) and `enable_status_restriction` + `status_restrictions` (those
 * certification statuses only). Criteria about members, committees, organizations or age concern
 * people this server does not know; they are not evaluated (the token is the gate).
 */
export function listingScope(d: DirectoryLike): ListingScope {
  let statuses = unique(
    (d.certification_statuses?.length ? d.certification_statuses : ['active']).filter((s) => CERTIFICATION_STATUSES.includes(s)),
  );
  let programIds = d.program_ids?.length ? unique(d.program_ids) : undefined;
  const ec = d.enable_eligibility_criteria ? d.eligibility_criteria : undefined;
  if (ec) {
    const programs = ec.certification_options?.program_ids;
    if (ec.certificants && programs?.length) programIds = intersect(programIds, programs);
    if (ec.enable_status_restriction && ec.status_restrictions?.length) statuses = intersect(statuses, ec.status_restrictions);
  }
  return { statuses, ...(programIds ? { programIds } : {}) };
}

/** True when the scope can list nothing (no status, or no programme left). */
export const listsNothing = (s: ListingScope) => !s.statuses.length || (s.programIds !== undefined && !s.programIds.length);

export interface DirectoryEntry {
  program: { id: string; name?: string };
  number: number;
  [field: string]: unknown;
}

/**
 * One entry of a directory: the certificate number and programme, then the published fields the
 * certification has (absent ones are left out). program_id, when published, is the `program` block.
 */
export function entryOf(cert: Record<string, unknown>, published: string[], programName: string | undefined): DirectoryEntry {
  const entry: DirectoryEntry = {
    program: { id: String(cert.program_id), ...(programName !== undefined ? { name: programName } : {}) },
    number: cert.number as number,
  };
  for (const f of published) {
    if (f === 'program_id' || f === 'number') continue;
    const v = cert[f];
    if (v !== undefined && v !== null) entry[f] = v;
  }
  return entry;
}
