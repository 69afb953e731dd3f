import { defineResource, search } from './kit/define.js';
import { bool, designed, list, num, ref, req, str } from './kit/fields.js';
import { customFieldValues } from './blocks.js';

/**
 * Exams: an examination candidates sit to earn or keep a certification. Its scheduled sittings are
 * Exam Offerings, its prices Exam Fees; registrations, offerings and fees all require exam_id. The
 * reference has no Exams page: the five fields below were seen only in the exam items of the public
 * online-store answer (Exam Fees).
 *
 * Our choices where the reference is silent (all designed and optional):
 * - name is required, as every named record of the API;
 * - pass_letter_id / fail_letter_id: the exam's own letters, which an offering's letters override
 *   (stated on Exam Offerings);
 * - passing_score (how a score becomes passed / failed), program_ids, is_active and
 *   custom_field_values.
 */
export const exams = defineResource({
  slug: 'exams',
  name: 'Exams',
  singular: 'exam',
  typeName: 'Exam',
  table: 'exams',
  coverage:
    'not found in the reference: 5 fields seen in the online-store answer; letters, passing score, programmes, is_active and custom fields designed',
  fields: {
    name: req(str()),
    description: str(),
    display_in_portal_as: str(),
    universal_shopping_cart_image_uri: str(),
    pass_letter_id: designed(ref('examNotices'), 'offerings say the exam has its own pass letter, which theirs override'),
    fail_letter_id: designed(ref('examNotices'), 'offerings say the exam has its own fail letter, which theirs override'),
    passing_score: designed(num({ min: 0 }), 'the score at or above which a registration is passed'),
    program_ids: designed(list(ref('programs')), 'the programmes the exam counts toward (application requirements)'),
    is_active: designed(bool(), 'retire an exam without deleting its history'),
    custom_field_values: designed(customFieldValues({ plainId: true }), 'every record of the API carries custom field values'),
  },
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    is_active: search.anyOf('is_active'),
  },
  description: ["Exam notices sent after scoring: the offering's pass/fail letter when set, else the exam's."],
});
