import { defineResource, search } from './kit/define.js';
import { bool, list, oneOf, ref, req, str } from './kit/fields.js';
import { customFieldValues, emailMessage } from './blocks.js';

/**
 * Application Notices: an e-mail template sent to applicants (by staff, on events and by billing runs:
 * application_notice_id and reminder_notice_id of the application_* option blocks). A notice can be
 * limited to some programs, application statuses and application status reasons, each restriction
 * switched by its boolean. The whole top-level schema is from the reference.
 *
 * Our choices where the reference is ambiguous:
 * - restricted_program_ids is flagged required although it matters only when restrict_to_certain_programs
 *   is true; it is required only then (conditionalRequired below).
 * - The e-mail property's name is not printed in the reference (only its title "Email"); we use `email`
 *   and the API's shared e-mail shape seen on application processes.
 */
/** The application lifecycle as this resource enumerates it. */
const NOTICE_STATUSES = ['draft', 'missing requirements', 'pending approval', 'rejected', 'approved', 'activated'] as const;

export const applicationNotices = defineResource({
  // A template that does not render is refused (400 naming email.subject / email.body).
  hooks: { validate: (h) => h.services.notices.templateValidate(h) },
  slug: 'applicationNotices',
  name: 'Application Notices',
  singular: 'application notice',
  typeName: 'ApplicationNotice',
  table: 'application_notices',
  coverage: 'partial (reference: full top-level create body; e-mail property name and sub-fields inferred); search designed',
  fields: {
    name: req(str()),
    restrict_to_certain_programs: bool(),
    restricted_program_ids: list(ref('programs')),
    restrict_to_certain_statuses: bool(),
    applicable_statuses: list(oneOf(NOTICE_STATUSES)),
    restrict_to_certain_status_reasons: bool(),
    applicable_status_reason_ids: list(ref('appStatusReasons')),
    email: req(emailMessage()),
    is_active: bool(),
    custom_field_values: customFieldValues(),
  },
  // Required by the reference, meaningful only when the restriction is on.
  conditionalRequired: [{ field: 'restricted_program_ids', when: { restrict_to_certain_programs: true } }],
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    is_active: search.anyOf('is_active'),
    restrict_to_certain_programs: search.anyOf('restrict_to_certain_programs'),
    restrict_to_certain_statuses: search.anyOf('restrict_to_certain_statuses'),
  },
  description: [
    'Each restriction (programs, statuses, status reasons) applies only when its restrict_to_certain_* flag is true.',
    'restricted_program_ids is required only when restrict_to_certain_programs is true.',
  ],
});
