import { defineResource, search } from './kit/define.js';
import { bool, designed, num, req, str } from './kit/fields.js';

/**
 * App Reference Types: a reference list classifying application references (professional,
 * academic, character, employer verification). The reference shows nothing but the tag name; the
 * schema is the usual reference-list shape, designed.
 */
export const appReferenceTypes = defineResource({
  slug: 'appReferenceTypes',
  name: 'App Reference Types',
  singular: 'app reference type',
  typeName: 'AppReferenceType',
  table: 'app_reference_types',
  coverage: 'none in the reference; whole schema designed (reference list)',
  description: ['A reference list classifying application references (professional, academic, character, employer verification).'],
  fields: {
    name: designed(req(str()), 'a reference list entry is picked by name'),
    description: designed(str(), 'shown to applicants and referees'),
    is_active: designed(bool(), 'retired types stay for history but are not offered'),
    display_order: designed(num(), 'order in pick lists'),
  },
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    is_active: search.anyOf('is_active'),
  },
});
