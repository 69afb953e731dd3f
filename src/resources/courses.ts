import { defineResource, search } from './kit/define.js';
import { bool, designed, list, ref, req, str } from './kit/fields.js';
import { creditToAssign, customFieldValues } from './blocks.js';

/**
 * Courses: the catalog definition of a course (what is taught and what completing it earns). Its
 * scheduled runs are Course Offerings, the products sold for it Course Fees, the instructors approved
 * for it are listed on Course Instructors, and Course Registrations point at both the course and the
 * offering. The reference shows no Courses page: only id and name are assumed from the API pattern.
 *
 * Our choices (all designed, optional except name):
 * - course_type_id and program_ids, as on the offerings (which copy them from their course);
 * - credits_to_assign: the default credit-assignment rules an offering can override
 *   (override_credit_assignment), with the offering's shape (credit type, quantity, auto-verify);
 * - portal display fields (display_in_portal_as, short_description, description) as on the sibling
 *   exams and offerings, is_active, and custom_field_values as every record of the API has.
 */
export const courses = defineResource({
  slug: 'courses',
  name: 'Courses',
  singular: 'course',
  typeName: 'Course',
  table: 'courses',
  coverage:
    'none in the reference beyond name (assumed); type, programmes, default credit rules, portal text, is_active and custom fields designed',
  fields: {
    name: req(str()),
    course_type_id: designed(ref('courseTypes'), 'offerings carry course_type_id; the course is where the classification belongs'),
    program_ids: designed(list(ref('programs')), 'offerings carry program_ids; the programmes a course counts toward'),
    display_in_portal_as: designed(str(), 'portal name, as on exams and reg processes'),
    short_description: designed(str(), 'as on course offerings'),
    description: designed(str(), 'as on course offerings and exams'),
    credits_to_assign: designed(
      list(creditToAssign('the credit created for a completed registration starts verified')),
      "the default credit-assignment rules an offering overrides with override_credit_assignment; same shape as the offering's",
    ),
    is_active: designed(bool(), 'retire a course without deleting its history'),
    custom_field_values: designed(customFieldValues({ plainId: true }), 'every record of the API carries custom field values'),
  },
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    course_type_id: search.anyOf('course_type_id'),
    is_active: search.anyOf('is_active'),
  },
  lookups: [{ segment: 'courseType', field: 'course_type_id', summary: 'List the courses of a course type' }],
  description: [
    'Offerings can override "the credit assignment rules for this course": a course therefore carries default credits_to_assign (credit type, quantity, automatically_verify), used for credits when a registration in an offering without override completes.',
  ],
});
