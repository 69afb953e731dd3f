import { defineResource, search } from './kit/define.js';
import { bool, designed, req, str } from './kit/fields.js';

/**
 * Credit Types: the kind and unit of continuing-education credit (e.g. "CEU - Clinical", "Ethics
 * hours"). Credits carry one (credits.type_id), and course offerings and courses say how many of
 * which type a completed registration earns (credits_to_assign[].credit_type_id); application
 * processes require credits by type. The reference shows no page for it.
 *
 * Our choices: id and name as every reference list of this API; description, the unit the quantity
 * is counted in, and is_active are designed.
 */
export const creditTypes = defineResource({
  slug: 'creditTypes',
  name: 'Credit Types',
  singular: 'credit type',
  typeName: 'CreditType',
  table: 'credit_types',
  coverage: 'none in the reference beyond name (assumed from the API-wide pattern); description, unit and is_active designed',
  fields: {
    name: req(str()),
    description: designed(str(), 'a reference list entry needs a longer explanation than its name'),
    unit: designed(str({ description: 'what a quantity of 1 means, e.g. "hour", "CEU", "point"' }), 'the catalog describes a credit type as the unit and kind of credit; quantities need a unit to be read'),
    is_active: designed(bool(), 'retire a type without deleting it; every other reference list of the API has the flag'),
  },
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    is_active: search.anyOf('is_active'),
  },
  notes: [
    'No Credit Types page exists in the reference: the slug, the standard operations and the id/name fields follow the API-wide pattern and the references from credits (type_id) and course offerings (credits_to_assign[].credit_type_id).',
    'description, unit and is_active are designed; name is required as for every reference list.',
  ],
});
