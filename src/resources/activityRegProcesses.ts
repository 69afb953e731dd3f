import { defineResource, search } from './kit/define.js';
import { bool, designed, list, ref, req, str } from './kit/fields.js';

/**
 * Activity Reg Processes: the process through which contacts report activities (activities.process_id):
 * which activity types it accepts, the form they fill in, and whether a report is verified at once or
 * goes to staff review. The reference shows nothing but the tag name, so the whole schema is designed.
 *
 * Our choices:
 * - A small schema in the style of the API's other processes: name, description, is_active, portal
 *   display, the accepted activity types and programs, the reporting form and the review rule.
 * - No lookups: the only foreign keys are lists (activity types, programs), which cannot be looked up.
 */
export const activityRegProcesses = defineResource({
  slug: 'activityRegProcesses',
  name: 'Activity Reg Processes',
  singular: 'activity reg process',
  typeName: 'ActivityRegProcess',
  table: 'activity_reg_processes',
  coverage: 'none in the reference; whole schema designed',
  fields: {
    name: designed(req(str()), 'every process is picked by name in the console and the portal'),
    description: designed(str(), 'shown to members in the portal'),
    is_active: designed(bool(), 'retired processes stay for history but accept no new reports'),
    display_in_portal: designed(bool(), 'members report activities themselves in the portal'),
    activity_type_ids: designed(list(ref('activityTypes')), 'the activity types this process accepts; empty = any'),
    program_ids: designed(list(ref('programs')), 'the programs whose holders may report through it; empty = any'),
    form_id: designed(ref('external:forms'), 'the form a member fills in to report an activity'),
    require_file_upload: designed(bool(), 'activities carry file_upload_uri (proof of attendance)'),
    auto_verify: designed(bool(), 'activities reported through it are verified at once instead of going under review'),
  },
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    is_active: search.anyOf('is_active'),
    display_in_portal: search.anyOf('display_in_portal'),
  },
  description: ['Activities point here through process_id (the process an activity was reported through).'],
});
