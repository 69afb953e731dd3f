import { defineResource, search } from './kit/define.js';
import { anyObject, bool, list, num, obj, req, str } from './kit/fields.js';

/**
 * Exam Sites: a named place with an address where exams can be held. Fields complete in the
 * reference except the address sub-fields (only city and country were visible).
 *
 * Our choices: address takes the shared Rhythm address shape shown on Course Offerings, country checked
 * as an ISO 3166-1 alpha-2 code; the search body (name, is_active, city, state, country) is designed.
 */
const customFieldValue = () =>
  obj({
    custom_field_id: str(),
    string_value: str(),
    numeric_value: num(),
    boolean_value: bool(),
    file_url_value: str(),
    list_value: list(str()),
    table_value: list(anyObject()),
  });

const address = () =>
  obj({
    line1: str(),
    line2: str(),
    line3: str(),
    city: str(),
    state: str(),
    postal_code: str(),
    county: str(),
    country: str({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2 code' }),
    country_name: str(),
    latitude: num(),
    longitude: num(),
    time_zone_id: str(),
  });

export const examSites = defineResource({
  slug: 'examSites',
  name: 'Exam Sites',
  singular: 'exam site',
  typeName: 'ExamSite',
  table: 'exam_sites',
  coverage: 'fields complete (reference) but address sub-fields (shared address shape); search designed',
  fields: {
    name: req(str()),
    address: address(),
    is_active: bool(),
    custom_field_values: list(customFieldValue()),
  },
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    is_active: search.anyOf('is_active'),
    'address.city': search.contains('address.city'),
    'address.state': search.anyOf('address.state'),
    'address.country': search.anyOf('address.country'),
  },
  notes: [
    'A small reference record: a named place with an address where exams are held.',
    'Only address.city and address.country were visible; the other sub-fields follow the shared address of Course Offerings. country is an ISO 3166-1 alpha-2 enum in the reference, checked here by pattern.',
    'No field seen elsewhere points at exam sites: offerings and registrations use testing_facility_id / training_location_id.',
    'Search body designed (name, is_active, address city / state / country).',
  ],
});
