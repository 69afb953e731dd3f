import { defineResource, search } from './kit/define.js';
import { bool, req, str } from './kit/fields.js';
import { address, customFieldValues } from './blocks.js';

/**
 * Exam Sites: a named place with an address where exams can be held. Fields complete in the
 * reference except the address sub-fields (only city and country were visible).
 *
 * Our choices: address takes the shared Rhythm address shape shown on Course Offerings, country checked
 * as an ISO 3166-1 alpha-2 code; the search body (name, is_active, city, state, country) is designed.
 */
export const examSites = defineResource({
  slug: 'examSites',
  name: 'Exam Sites',
  singular: 'exam site',
  typeName: 'ExamSite',
  table: 'exam_sites',
  coverage: 'fields complete (reference) but address sub-fields (shared address shape); search designed',
  fields: {
    name: req(str()),
    address: address({ checkCountry: true }),
    is_active: bool(),
    custom_field_values: customFieldValues({ plainId: true }),
  },
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    is_active: search.anyOf('is_active'),
    'address.city': search.contains('address.city'),
    'address.state': search.anyOf('address.state'),
    'address.country': search.anyOf('address.country'),
  },
  description: [
    'No field seen elsewhere points at exam sites: offerings and registrations use testing_facility_id / training_location_id.',
  ],
});
