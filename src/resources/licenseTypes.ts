import { defineResource, search } from './kit/define.js';
import { bool, designed, num, req, str } from './kit/fields.js';

/**
 * License Types: a reference list of the kinds of professional licenses (e.g. "State RN license")
 * that certification records and application requirements can name. The reference shows nothing but
 * the name of this resource, so the whole schema is designed, in the shape of the API's other
 * reference lists (name, code, description, active flag, display order).
 *
 * Our choices:
 * - jurisdiction is free text (a state, province or country) rather than a code list: licenses are
 *   issued by bodies whose naming varies.
 * - No field of another resource is known to point here, so no lookup route is served.
 */
export const licenseTypes = defineResource({
  slug: 'licenseTypes',
  name: 'License Types',
  singular: 'license type',
  typeName: 'LicenseType',
  table: 'license_types',
  coverage: 'designed: the reference publishes no schema for License Types',
  description: [
    'A reference list of the kinds of professional licence (e.g. "State RN license") that certification records and application requirements can name.',
  ],
  fields: {
    name: designed(req(str()), 'every reference list has a display name'),
    code: designed(str(), 'short code for imports and reports'),
    description: designed(str(), 'what the license is'),
    issuing_authority: designed(str(), 'body that issues the license (e.g. a state board)'),
    jurisdiction: designed(str(), 'state, province or country where the license is valid'),
    display_order: designed(num(), 'order in pick lists, as programs use'),
    is_active: designed(bool(), 'inactive types stay on old records but leave pick lists'),
  },
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    code: search.anyOf('code'),
    jurisdiction: search.contains('jurisdiction'),
    is_active: search.anyOf('is_active'),
  },
});
