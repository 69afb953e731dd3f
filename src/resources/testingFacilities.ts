import { defineResource, search } from './kit/define.js';
import { bool, designed, req, str } from './kit/fields.js';
import { address, customFieldValues } from './blocks.js';

/**
 * Testing Facilities: standalone exam sites, not tied to a training provider; exam offerings whose
 * location is "testing facility" point here (testing_facility_id). Field names and types are from the
 * reference's create example; its required flags were not visible.
 *
 * Our choices:
 * - name is required: a facility is chosen by name in every screen (the reference flag was not visible).
 * - address.country is an ISO 3166-1 alpha-2 code list in the reference (only 'AF' was captured); we
 *   keep it an open string rather than copy a partial list.
 */
export const testingFacilities = defineResource({
  slug: 'testingFacilities',
  name: 'Testing Facilities',
  singular: 'testing facility',
  typeName: 'TestingFacility',
  table: 'testing_facilities',
  coverage: 'partial (reference: all fields from the create example); required flag on name and search body designed',
  description: [
    'A standalone exam site, not tied to a training provider: exam offerings held at a testing facility name it (testing_facility_id).',
  ],
  fields: {
    name: designed(req(str()), 'required flag not visible in the reference; a facility is picked by name'),
    address: address(),
    notes: str(),
    is_active: bool(),
    custom_field_values: customFieldValues(),
  },
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    is_active: search.anyOf('is_active'),
    city: search.contains('address.city'),
    state: search.anyOf('address.state'),
    country: search.anyOf('address.country'),
  },
});
