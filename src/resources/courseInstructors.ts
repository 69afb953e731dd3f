import { defineResource, search } from './kit/define.js';
import { bool, BOUNDS, date, list, num, obj, ref, req, str } from './kit/fields.js';
import { customFieldValues } from './blocks.js';

/**
 * Course Instructors: a person approved by one training provider to teach courses, with the period of
 * each approval, a contract and a pay rate. Course offerings point at them (instructor_id,
 * additional_instructor_ids). Fields complete in the reference (a full create sample was seen).
 *
 * Our choices where the reference is ambiguous:
 * - contract_uri is typed with format "file" in the reference; that is not a JSON Schema format, so it
 *   is a plain string (a link to the stored file).
 * - The record has no contact or name field; the reference suggests the id doubles as the
 *   instructor's contact id. We keep the reference's fields only (see notes).
 * - The search body is not in the reference; ours filters by training provider and is_active.
 */
export const courseInstructors = defineResource({
  slug: 'courseInstructors',
  name: 'Course Instructors',
  singular: 'course instructor',
  typeName: 'CourseInstructor',
  table: 'course_instructors',
  coverage: 'fields complete (reference); search body and lookup designed',
  fields: {
    training_provider_id: req(ref('trainingProviders')),
    courses: list(
      obj(
        {
          course_id: ref('courses'),
          valid_from: date(),
          valid_until: date(),
        },
        { ordered: [['valid_from', 'valid_until']] },
      ),
    ),
    contract_uri: str({ description: 'link to the contract file (format "file" in the reference)' }),
    pay_rate: num(BOUNDS.money),
    notes: str(),
    is_active: bool(),
    custom_field_values: customFieldValues({ plainId: true }),
  },
  search: {
    ids: search.ids(),
    training_provider_id: search.anyOf('training_provider_id'),
    is_active: search.anyOf('is_active'),
  },
  lookups: [{ segment: 'trainingProvider', field: 'training_provider_id', summary: 'List the instructors of a training provider' }],
  description: [
    'An instructor belongs to one training provider; courses[] lists the courses they may teach, each approval bounded by valid_from / valid_until.',
    'contract_uri is a link to a file; pay_rate is the contracted rate.',
  ],
});
