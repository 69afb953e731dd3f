import { defineResource, search } from './kit/define.js';
import { bool, BOUNDS, date, designed, email, list, num, obj, ref, req, str } from './kit/fields.js';
import { customFieldValues } from './blocks.js';

/**
 * Instructors: a person who teaches courses, independent of the training-provider contracts kept in
 * Course Instructors. The reference shows nothing but the name of this resource, so the whole schema
 * is designed.
 *
 * Our choices:
 * - An instructor is a contact (contact_id, external) with display copies of name and e-mail, as
 *   certifications keep copies of their holder's contact data.
 * - training_provider_id is optional: an instructor may teach for the association itself.
 * - Qualifications are a list of course approvals with validity dates, the shape Course Instructors
 *   uses for its courses[] (course_id, valid_from, valid_until).
 * - Course offerings point instructor_id at Course Instructors; this resource is not referenced by
 *   any field we know of.
 */
const why = 'not in the reference (resource schema not published)';

export const instructors = defineResource({
  slug: 'instructors',
  name: 'Instructors',
  singular: 'instructor',
  typeName: 'Instructor',
  table: 'instructors',
  coverage: 'designed: the reference publishes no schema for Instructors',
  fields: {
    contact_id: designed(req(ref('external:contacts')), 'an instructor is a person kept in the contacts API'),
    name: designed(req(str()), 'display copy of the contact name for lists and search'),
    email_address: designed(email(), 'display copy of the contact e-mail'),
    phone: designed(str(), why),
    training_provider_id: designed(ref('trainingProviders'), 'provider the instructor teaches for, if any'),
    bio: designed(str(), 'biography shown with course offerings in the portal'),
    courses: designed(
      list(
        obj(
          {
            course_id: req(ref('courses')),
            valid_from: date(),
            valid_until: date(),
          },
          { ordered: [['valid_from', 'valid_until']] },
        ),
      ),
      'courses the instructor is approved to teach, as in Course Instructors',
    ),
    pay_rate: designed(num(BOUNDS.money), 'contracted rate, as in Course Instructors'),
    is_active: designed(bool(), 'Rhythm records are switched off with is_active'),
    notes: designed(str(), why),
    custom_field_values: designed(customFieldValues(), 'the custom-field block every Rhythm record carries'),
  },
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    email_address: search.contains('email_address'),
    contact_id: search.anyOf('contact_id'),
    training_provider_id: search.anyOf('training_provider_id'),
    is_active: search.anyOf('is_active'),
  },
  lookups: [
    { segment: 'contact', field: 'contact_id', summary: 'List the instructor records of a contact' },
    { segment: 'trainingProvider', field: 'training_provider_id', summary: 'List the instructors of a training provider' },
  ],
  description: [
    'Distinct from Course Instructors (training_provider_id, courses[{course_id, valid_from, valid_until}], contract_uri, pay_rate): course offerings point instructor_id / additional_instructor_ids at Course Instructors, not here.',
    'contact_id is required: an instructor is a person; name and email_address are display copies of the contact data.',
    'courses[] lists the courses the instructor is approved to teach, each approval bounded by optional valid_from / valid_until dates.',
  ],
});
