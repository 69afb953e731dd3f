import { defineResource, search } from './kit/define.js';
import { bool, designed, num, req, str } from './kit/fields.js';

/**
 * Program Groups: a grouping of certification programmes for portal display and reporting (e.g.
 * "Nursing", "Specialty credentials"). The reference shows nothing but the name of this resource, so
 * the whole schema is designed.
 *
 * Our choices:
 * - Membership is kept on the program (programs.program_group_id, also designed), not as a list of
 *   program ids here: one source of truth, and GET /programs/{tenantId}/programGroup/{id} lists a
 *   group's programmes.
 * - display_in_portal / display_order mirror the programme's own portal fields.
 */
const why = 'not in the reference (resource schema not published)';

export const programGroups = defineResource({
  slug: 'programGroups',
  name: 'Program Groups',
  singular: 'program group',
  typeName: 'ProgramGroup',
  table: 'program_groups',
  coverage: 'designed: the reference publishes nothing but the resource name',
  fields: {
    name: designed(req(str()), 'every grouping has a display name'),
    description: designed(str(), why),
    display_in_portal: designed(bool(), 'mirrors programs.display_in_portal'),
    display_order: designed(num(), 'mirrors programs.display_order'),
    is_active: designed(bool(), why),
  },
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    display_in_portal: search.anyOf('display_in_portal'),
    is_active: search.anyOf('is_active'),
  },
  description: [
    "A programme joins a group through programs.program_group_id; list a group's programmes with the programs lookup by programGroup.",
  ],
});
