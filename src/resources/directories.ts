import { defineResource, search } from './kit/define.js';
import { anyObject, bool, designed, list, num, obj, oneOf, ref, req, str } from './kit/fields.js';
import { CERTIFICATION_STATUSES, eligibilityCriteria } from './blocks.js';

/**
 * Directories: a published, configurable portal listing of certified people (the public registry
 * used to verify a certification): which fields can be searched and shown, how results and entries
 * render, an optional radius search, who may use it (public, or eligibility criteria), and which
 * records appear (query filter). Same schema as the Membership API's Directories. Partial in the
 * reference: top-level fields seen through query_filter_rules; eligibility_criteria cut inside
 * age_restrictions; query_filter_rules shape not seen.
 *
 * Our choices where the reference is ambiguous:
 * - custom_search_results_template, custom_directory_entry_template, radius_search_options,
 *   eligibility_criteria and query_filter_rules are marked required in the reference although each
 *   belongs to a toggle; each is required only when its toggle says so (conditionalRequired below).
 *   searchable_fields stays required (non-empty): a directory without search criteria is meaningless.
 * - eligibility_criteria accepts properties after the visible cut as sent; age_restrictions
 *   sub-fields are designed; query_filter_rules is free-form (a rules tree whose shape is not shown).
 * - The search body is not in the reference; ours is designed.
 * - Designed for serving the registry (src/http/public.ts, rules in src/domain/registry/): program_ids
 *   and certification_statuses say which certifications the directory lists.
 */
export const directories = defineResource({
  slug: 'directories',
  name: 'Directories',
  singular: 'directory',
  typeName: 'Directory',
  table: 'directories',
  coverage: 'partial (reference, through query_filter_rules); toggle-bound requirements, age restrictions and search designed',
  fields: {
    name: req(str()),
    is_public: bool(),
    display_mode: oneOf(['search', 'list']),
    searchable_fields: req(
      list(
        obj({
          name: str({ description: 'the field searched' }),
          label: str(),
          group_name: str(),
        }),
        { nonEmpty: true },
      ),
    ),
    additional_fields: list(str()),
    enable_custom_search_results_template: bool(),
    // Required in the reference; only when enable_custom_search_results_template is true (conditionalRequired).
    custom_search_results_template: str(),
    directory_entry_mode: oneOf(['do not show', 'use default', 'custom']),
    // Required in the reference; only when directory_entry_mode is "custom" (conditionalRequired).
    custom_directory_entry_template: str(),
    enable_radius_search: bool(),
    // Required in the reference; only when enable_radius_search is true (conditionalRequired).
    radius_search_options: obj({
      postal_code_field: str(),
      radius_options: list(num({ above: 0 })),
    }),
    enable_eligibility_criteria: bool(),
    // Required in the reference; only when enable_eligibility_criteria is true (conditionalRequired).
    eligibility_criteria: eligibilityCriteria({
      description:
        'shared Rhythm eligibility criteria; the reference is cut inside age_restrictions, so later properties are accepted as sent',
      logicOperator: 'how the criteria combine; sample value "and"',
      ageRestrictions: 'sub-fields cut in the reference; the sibling fee schemas carry minimum_age / maximum_age',
    }),
    enable_messaging: bool(),
    enable_query_filter: bool(),
    // Required in the reference; only when enable_query_filter is true (conditionalRequired).
    query_filter_rules: anyObject({ description: 'rules selecting the records listed; shape not in the reference' }),
    program_ids: designed(
      list(ref('programs')),
      'the programmes whose certifications the directory lists; absent or empty = every programme',
    ),
    certification_statuses: designed(
      list(oneOf(CERTIFICATION_STATUSES)),
      'the certification statuses the directory lists; absent or empty = active only',
    ),
  },
  conditionalRequired: [
    { field: 'custom_search_results_template', when: { enable_custom_search_results_template: true } },
    { field: 'custom_directory_entry_template', when: { directory_entry_mode: 'custom' } },
    { field: 'radius_search_options', when: { enable_radius_search: true } },
    { field: 'eligibility_criteria', when: { enable_eligibility_criteria: true } },
    { field: 'query_filter_rules', when: { enable_query_filter: true } },
  ],
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    is_public: search.anyOf('is_public'),
    display_mode: search.anyOf('display_mode'),
  },
  description: [
    'A directory is a portal search page over certification records; display_mode "search" shows criteria first, "list" shows results at once.',
    'searchable_fields (non-empty) are the criteria inputs (field name, label, group); additional_fields are extra result columns.',
    'is_public=true opens it to anonymous users; otherwise enable_eligibility_criteria + eligibility_criteria restrict who may view it (members by type, package or status, section, chapter and committee members, certificants of given programmes, status, organization and age restrictions).',
    'Rendering: custom_search_results_template, directory_entry_mode + custom_directory_entry_template. Radius search: distance from a postal-code field with fixed radius choices. enable_query_filter + query_filter_rules restrict which records appear (else a default filter); enable_messaging lets users contact listed people.',
    'Served: a directory lists certifications (holder data is copied onto each one): those of program_ids (default every programme) in certification_statuses (default active). A directory with is_public is searched without a token at GET /public/directories/{tenantId}/{id}/search?<criterion>=<value>; any directory with a token (read scope) at GET /directories/{tenantId}/{id}/entries. A directory that is not public is a 404 on the public route.',
    'Criteria are the searchable_fields names (strings: case-insensitive contains; number: exact whole number; status, program_id and dates: exact). Entries show the certificate number and programme plus the searchable and additional fields, and nothing else; only registry fields can be published (name, first_name, last_name, certificate_name, job_title, city, state, country, email_address, number, program_id, status, standing, certification_date, expiration_date, renewal_date), other names are ignored. status and standing are those of today: a certification past the end of its grace period is listed and shown as inactive (lapsed) even before the lifecycle sweep has written it. An e-mail address appears only when email_address is listed.',
    'display_mode "search" (the default) needs at least one criterion; "list" lists every entry, paged.',
    'With enable_eligibility_criteria, the criteria about certifications narrow the entries: certificants + certification_options.program_ids (those programmes) and enable_status_restriction + status_restrictions (those certification statuses). Criteria about members, committees, organizations and age are not evaluated (this server has no membership data): the token is the gate.',
    'Not served yet: custom templates, radius search, messaging and query_filter_rules are stored but not applied.',
  ],
});
