import { defineResource, search } from './kit/define.js';
import { bool, designed, num, oneOf, req, str } from './kit/fields.js';
import { CERTIFICATION_STATUSES } from './blocks.js';

/**
 * Status Reasons: configurable reasons that explain why a certification is in its status (e.g.
 * "Non-payment" for suspended, "Deceased" for retired). Certifications carry one next to their status;
 * every billing-run options block filters on them. The reference shows nothing but the resource's name
 * and use, so the schema is designed (name, the status it explains, active flag).
 *
 * Our choices:
 * - status names the certification status the reason explains; it is optional, and a reason without
 *   one may be used with any status.
 * - Application status reasons are a separate resource (appStatusReasons).
 */
const why = 'not in the reference (resource schema not published)';

export const statusReasons = defineResource({
  slug: 'statusReasons',
  name: 'Status Reasons',
  singular: 'status reason',
  typeName: 'StatusReason',
  table: 'status_reasons',
  coverage: 'designed: the reference shows only the resource and its use by certifications and billing runs',
  fields: {
    name: designed(req(str()), 'every reason has a display name'),
    status: designed(oneOf(CERTIFICATION_STATUSES), 'the certification status this reason explains'),
    description: designed(str(), why),
    display_order: designed(num(), 'order in pick lists'),
    is_active: designed(bool(), 'inactive reasons stay on old records but leave pick lists'),
  },
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    status: search.anyOf('status'),
    is_active: search.anyOf('is_active'),
  },
  description: [
    'Explains why a certification is in its status (active, inactive, suspended, retired); certifications carry the reason id next to status.',
    'Billing runs filter candidates on them (restrict_status_reasons + status_reason_ids in every options block).',
    'Application status reasons are a separate resource (appStatusReasons).',
  ],
});
