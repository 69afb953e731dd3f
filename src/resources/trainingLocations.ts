import { defineResource, search } from './kit/define.js';
import { bool, ref, req, str } from './kit/fields.js';
import { address, customFieldValues } from './blocks.js';

/**
 * Training Locations: a venue owned by one training provider, where course offerings and exam
 * offerings (location "training location") take place. Complete field list with required flags from
 * the reference; the address sub-fields come from the shared Rhythm address seen on Testing Facilities.
 *
 * Our choices:
 * - The lookup by training provider is inferred by the reference catalog and served.
 * - The search body is not in the reference; ours filters on provider, name, active flag and place.
 */
export const trainingLocations = defineResource({
  slug: 'trainingLocations',
  name: 'Training Locations',
  singular: 'training location',
  typeName: 'TrainingLocation',
  table: 'training_locations',
  coverage: 'fields complete (reference); address sub-fields from the shared address, search body designed',
  fields: {
    name: req(str()),
    training_provider_id: req(ref('trainingProviders')),
    address: address(),
    is_active: bool(),
    custom_field_values: customFieldValues(),
  },
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    training_provider_id: search.anyOf('training_provider_id'),
    is_active: search.anyOf('is_active'),
    city: search.contains('address.city'),
    state: search.anyOf('address.state'),
    country: search.anyOf('address.country'),
  },
  lookups: [{ segment: 'trainingProvider', field: 'training_provider_id', summary: 'List the locations of a training provider' }],
  description: [
    'A venue owned by one training provider (training_provider_id required).',
    'Exam offerings point here through training_location_id when their location is "training location"; course offerings too.',
    'GET /trainingLocations/{tenantId}/trainingProvider/{training_provider_id} is served.',
  ],
});
