import { defineResource, search } from './kit/define.js';
import { bool, designed, num, oneOf, ref, req, str } from './kit/fields.js';
import { APPLICATION_STATUSES } from './blocks.js';

/**
 * App Status Reasons: a configurable reason that qualifies an application's status ("missing
 * transcript", "incomplete payment"). Staff pick a reason and a notice to send from an application;
 * billing runs and application notices filter on reasons. The reference shows nothing but the tag
 * name; the schema is designed.
 *
 * Our choices:
 * - `status`: the application status the reason explains (the Applications status enum); absent =
 *   usable with any status.
 * - `application_notice_id`: the notice proposed when staff choose this reason.
 */
export const appStatusReasons = defineResource({
  slug: 'appStatusReasons',
  name: 'App Status Reasons',
  singular: 'app status reason',
  typeName: 'AppStatusReason',
  table: 'app_status_reasons',
  coverage: 'none in the reference; whole schema designed',
  fields: {
    name: designed(req(str()), 'a reason is picked by name'),
    description: designed(str(), 'what the reason means, for staff'),
    status: designed(oneOf(APPLICATION_STATUSES), 'the application status this reason explains; absent = any'),
    application_notice_id: designed(ref('applicationNotices'), 'notice proposed when staff pick this reason'),
    is_active: designed(bool(), 'retired reasons stay on old applications but are not offered'),
    display_order: designed(num(), 'order in pick lists'),
  },
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    status: search.anyOf('status'),
    is_active: search.anyOf('is_active'),
  },
  description: ["Distinct from Status Reasons, which explain a certification's status."],
});
