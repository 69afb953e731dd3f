import { defineResource, search } from './kit/define.js';
import { bool, designed, req, str } from './kit/fields.js';

/**
 * Course Types: a reference list classifying courses and their offerings (e.g. "Initial training",
 * "Refresher", "Continuing education"); referenced by courses.course_type_id and
 * courseOfferings.course_type_id. The reference shows no page for it: only its name in the
 * navigation and the course_type_id references of other resources.
 *
 * Our choices: id and name as every reference list of this API; a description and an is_active flag
 * (so a type can be retired without breaking the courses that use it) are designed.
 */
export const courseTypes = defineResource({
  slug: 'courseTypes',
  name: 'Course Types',
  singular: 'course type',
  typeName: 'CourseType',
  table: 'course_types',
  coverage: 'none in the reference beyond name (assumed from the API-wide pattern); description and is_active designed',
  description: [
    'A reference list classifying courses and their offerings (e.g. "Initial training", "Refresher", "Continuing education"): course_type_id of courses and course offerings.',
  ],
  fields: {
    name: req(str()),
    description: designed(str(), 'a reference list entry needs a longer explanation than its name'),
    is_active: designed(bool(), 'retire a type without deleting it; every other reference list of the API has the flag'),
  },
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    is_active: search.anyOf('is_active'),
  },
});
