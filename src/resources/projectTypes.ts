import { defineResource, search } from './kit/define.js';
import { bool, designed, num, ref, req, str } from './kit/fields.js';

/**
 * Project Types: a reference list of the kinds of credit-earning projects or self-reported work
 * (e.g. "Publication", "Volunteer project") on the continuing-education side. The reference shows
 * nothing but the name of this resource, so the whole schema is designed in the shape of the API's
 * other reference lists.
 *
 * Our choices:
 * - A project type may name the credit type its projects usually earn (default_credit_type_id), the
 *   one link to the credit model a screen would use; it is optional.
 */
export const projectTypes = defineResource({
  slug: 'projectTypes',
  name: 'Project Types',
  singular: 'project type',
  typeName: 'ProjectType',
  table: 'project_types',
  coverage: 'designed: the reference publishes nothing but the resource name',
  fields: {
    name: designed(req(str()), 'every reference list has a display name'),
    code: designed(str(), 'short code for imports and reports'),
    description: designed(str(), 'what counts as this kind of project'),
    default_credit_type_id: designed(ref('creditTypes'), 'credit type projects of this kind usually earn'),
    display_order: designed(num(), 'order in pick lists'),
    is_active: designed(bool(), 'inactive types stay on old records but leave pick lists'),
  },
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    code: search.anyOf('code'),
    default_credit_type_id: search.anyOf('default_credit_type_id'),
    is_active: search.anyOf('is_active'),
  },
  lookups: [{ segment: 'creditType', field: 'default_credit_type_id', summary: 'List the project types that default to a credit type' }],
  description: ['default_credit_type_id is optional; it only suggests the credit type of new projects.'],
});
