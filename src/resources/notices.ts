import { defineResource, search } from './kit/define.js';
import { bool, designed, list, oneOf, ref, req, str } from './kit/fields.js';
import { CERTIFICATION_STATUSES, customFieldValues, emailMessage } from './blocks.js';

/**
 * Notices: e-mail templates about certifications (renewal reminders, drop notices, status changes),
 * sent on events and by billing runs (renewal_reminder_options.reminders[].reminder_notice_id,
 * drop_options.drop_notice_id). The reference shows nothing but the name of this resource; the
 * schema is designed after Application Notices, whose shape Rhythm's notice resources share,
 * with certification statuses and status reasons in place of application ones.
 *
 * Our choices:
 * - Each restriction list is required only when its switch is on (Application Notices flags its
 *   program list required always; a client must not invent a list for a restriction it does not use).
 * - The email block reuses the API's shared e-mail shape (from, from_name, reply_to, cc, bcc,
 *   subject and body required).
 */
const why = 'not in the reference; mirrors Application Notices';

export const notices = defineResource({
  // A template that does not render is refused (400 naming email.subject / email.body).
  hooks: { validate: (h) => h.services.notices.templateValidate(h) },
  slug: 'notices',
  name: 'Notices',
  singular: 'notice',
  typeName: 'Notice',
  table: 'notices',
  coverage: 'designed: the reference publishes no schema; shape taken from Application Notices',
  fields: {
    name: designed(req(str()), why),
    description: designed(str(), 'what the notice is for (renewal reminder, drop, …)'),
    restrict_to_certain_programs: designed(bool(), why),
    restricted_program_ids: designed(list(ref('programs'), { nonEmpty: true }), why),
    restrict_to_certain_statuses: designed(bool(), why),
    applicable_statuses: designed(
      list(oneOf(CERTIFICATION_STATUSES), { nonEmpty: true }),
      'certification statuses the notice may be sent for',
    ),
    restrict_to_certain_status_reasons: designed(bool(), why),
    applicable_status_reason_ids: designed(
      list(ref('statusReasons'), { nonEmpty: true }),
      'certification status reasons the notice may be sent for',
    ),
    email: designed(req(emailMessage()), 'the e-mail template; shared e-mail shape of the API'),
    is_active: designed(bool(), why),
    custom_field_values: designed(customFieldValues(), why),
  },
  // Each restriction list is required only when its switch is on.
  conditionalRequired: [
    { field: 'restricted_program_ids', when: { restrict_to_certain_programs: true } },
    { field: 'applicable_statuses', when: { restrict_to_certain_statuses: true } },
    { field: 'applicable_status_reason_ids', when: { restrict_to_certain_status_reasons: true } },
  ],
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    is_active: search.anyOf('is_active'),
    restrict_to_certain_programs: search.anyOf('restrict_to_certain_programs'),
    subject: search.contains('email.subject'),
  },
  description: [
    'Billing runs point here for renewal reminders (reminder_notice_id) and drops (drop_notice_id); application notices are a separate resource (applicationNotices).',
    'applicable_statuses are certification statuses (active, inactive, suspended, retired) and applicable_status_reason_ids point at statusReasons, since these notices concern certifications.',
    'restricted_program_ids, applicable_statuses and applicable_status_reason_ids are required (non-empty) only when their restrict_to_certain_* switch is true.',
    'email: subject and body are required; from, from_name, reply_to, cc and bcc are optional. Sending goes through the notices outbox.',
  ],
});
