import { defineResource, search } from './kit/define.js';
import { bool, designed, list, oneOf, ref, req, str } from './kit/fields.js';
import { customFieldValues, emailMessage, EXAM_REGISTRATION_STATUSES } from './blocks.js';

/**
 * Exam Notices: e-mail templates sent to exam registrants: the pass and fail letters that exams and
 * offerings point at (pass_letter_id / fail_letter_id), and notices on registration events. The
 * reference has no page for it; every field is designed, after Application Notices of the same API.
 *
 * Our choices (all designed):
 * - name and the e-mail (subject and body required, the API's shared e-mail object) are required;
 * - optional restrictions, each with its toggle as on Application Notices: to some exams
 *   (restricted_exam_ids) and to some exam registration statuses (applicable_statuses); each list is
 *   required only when its toggle is on (conditionalRequired below);
 * - is_active and custom_field_values.
 */
export const examNotices = defineResource({
  // A template that does not render is refused (400 naming email.subject / email.body).
  hooks: { validate: (h) => h.services.notices.templateValidate(h) },
  slug: 'examNotices',
  name: 'Exam Notices',
  singular: 'exam notice',
  typeName: 'ExamNotice',
  table: 'exam_notices',
  coverage: 'not found in the reference; every field designed after Application Notices',
  fields: {
    name: req(designed(str(), 'every notice has a name to be picked from a list')),
    restrict_to_certain_exams: designed(bool(), 'as restrict_to_certain_programs on Application Notices'),
    // Required only when restrict_to_certain_exams is true (conditionalRequired).
    restricted_exam_ids: designed(list(ref('exams'), { nonEmpty: true }), 'the exams the notice applies to'),
    restrict_to_certain_statuses: designed(bool(), 'as on Application Notices'),
    // Required only when restrict_to_certain_statuses is true (conditionalRequired).
    applicable_statuses: designed(
      list(oneOf(EXAM_REGISTRATION_STATUSES), { nonEmpty: true }),
      'the exam registration statuses the notice is sent for, as applicable_statuses on Application Notices',
    ),
    email: req(designed(emailMessage(), "the API's shared e-mail object, as on Application Notices")),
    is_active: designed(bool(), 'as on Application Notices'),
    custom_field_values: designed(customFieldValues({ plainId: true }), 'every record of the API carries custom field values'),
  },
  conditionalRequired: [
    { field: 'restricted_exam_ids', when: { restrict_to_certain_exams: true } },
    { field: 'applicable_statuses', when: { restrict_to_certain_statuses: true } },
  ],
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    is_active: search.anyOf('is_active'),
    restrict_to_certain_exams: search.anyOf('restrict_to_certain_exams'),
  },
  description: [
    'Unlike Application Notices (where the restricted list is required even when off), the restricted lists are required only when their toggle is on.',
  ],
});
