import { defineResource, search } from './kit/define.js';
import { date, dateTime, designed, int, obj, ref, str } from './kit/fields.js';

/**
 * Statistics: computed counts of certifications and applications per programme and status, the
 * figures of the Certifications dashboard. Read-only: the reference shows only GET by id; the server
 * computes these records and clients read them. The reference shows nothing of the schema, so what a
 * statistic returns is designed.
 *
 * Our choices:
 * - One record per programme (program_id) plus one for the whole tenant (no program_id), each with the
 *   moment it was computed (as_of).
 * - Counts are grouped in objects by the status enums of Certifications and Applications, plus an
 *   expiring-soon block for renewal planning.
 * - The standard write routes exist in the kit; the computation and refusing client writes are left
 *   to the domain issue.
 */
const count = () => int({ minimum: 0 });
const why = 'computed figures; the reference publishes no schema';

export const statistics = defineResource({
  slug: 'statistics',
  name: 'Statistics',
  singular: 'statistic',
  typeName: 'Statistic',
  table: 'statistics',
  coverage: 'designed: the reference shows only a read by id; computed, read-only counts per programme',
  fields: {
    program_id: designed(ref('programs'), 'programme counted; absent for the whole tenant'),
    name: designed(str(), 'label of the figure set (programme name or "All programs")'),
    as_of: designed(dateTime(), 'when the counts were computed'),
    certifications: designed(
      obj({
        total: count(),
        active: count(),
        inactive: count(),
        suspended: count(),
        retired: count(),
      }),
      'certifications by status',
    ),
    applications: designed(
      obj({
        total: count(),
        draft: count(),
        missing_requirements: count(),
        pending_approval: count(),
        approved: count(),
        rejected: count(),
        activated: count(),
        withdrawn: count(),
        expired: count(),
      }),
      'applications by status',
    ),
    expiring: designed(
      obj({
        next_30_days: count(),
        next_60_days: count(),
        next_90_days: count(),
      }),
      'active certifications expiring soon (renewal planning)',
    ),
    period_start: designed(date(), 'first day of the period the new_* counts cover'),
    period_end: designed(date(), 'last day of the period the new_* counts cover'),
    new_certifications: designed(count(), 'certifications activated in the period'),
    renewals: designed(count(), 'certifications renewed in the period'),
    reinstatements: designed(count(), 'certifications reinstated in the period'),
    terminations: designed(count(), 'certifications terminated in the period'),
  },
  search: {
    ids: search.ids(),
    program_id: search.anyOf('program_id'),
    as_of: search.range('as_of'),
  },
  lookups: [{ segment: 'program', field: 'program_id', summary: 'Read the statistics of a programme' }],
  notes: [
    'Computed and read-only: the reference shows only GET /statistics/{tenantId}/{id}; the server computes the records and the domain issue refuses client writes.',
    'The schema is designed: one record per programme (program_id) and one for the tenant (no program_id), with certifications by status, applications by status, certifications expiring in 30/60/90 days, and period counts (new, renewed, reinstated, terminated).',
    'as_of tells when the figures were computed; they are a snapshot, not live counts.',
  ],
});
