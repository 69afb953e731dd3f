import type { TSchema } from '@sinclair/typebox';
import { defineResource, search } from './kit/define.js';
import { date, dateTime, designed, int, list, obj, ref, str } from './kit/fields.js';
import { APPLICATION_STATUSES, CERTIFICATION_STATUSES } from './blocks.js';
import { BILLING_RUN_STATUSES } from '../domain/billing/runs.js';
import { actionAmountTotal, billingRunActions } from './billingRunActions.js';
import { STATISTICS_IDS, countKey } from '../domain/statistics.js';
import { AUDIT_STATUSES } from '../domain/lifecycle/audits.js';
import { STANDINGS } from '../domain/lifecycle/standing.js';

/**
 * Statistics: computed counts of certifications and applications per programme and status, the
 * figures of the Certifications dashboard, and of billing runs and their actions. The reference shows
 * only GET by id and nothing of the schema, so what a statistic returns is designed.
 *
 * Our choices:
 * - Two records are computed by the server on every read (built-in, see services/statistics.ts):
 *   `programs` (the tenant's figures at the top level, one figure set per programme in `programs`)
 *   and `billing` (billing runs by status, their actions by status and by type). Writing to them is a
 *   409. They are live counts over indexed columns, cheap enough for every dashboard load.
 * - Counts are grouped in objects keyed by the status enums of Certifications, Applications, Billing
 *   Runs and Billing Run Actions (spaces as underscores), each with its total, plus an expiring-soon
 *   block for renewal planning.
 * - Other records (e.g. period snapshots a client computes) can still be stored through the standard
 *   routes; the schema keeps the per-programme and period fields for them.
 */
const count = () => int({ minimum: 0 });
/** `{ total, <status>: n, … }` for the values of a status enum. */
const counts = (values: readonly string[]) => obj({ total: count(), ...Object.fromEntries(values.map((v) => [countKey(v), count()])) });
const byValue = (values: readonly string[]) => obj(Object.fromEntries(values.map((v) => [countKey(v), count()])));
const enumOf = (s: TSchema) => ((s as { enum?: string[] }).enum ?? []) as string[];
const certificationCounts = () => counts(CERTIFICATION_STATUSES);
const standingCounts = () => counts(STANDINGS);
const STANDING_WHY =
  'certifications by standing today (current, in_grace, lapsed_reinstatable, lapsed; total = those with a standing, i.e. not suspended or retired): the definition the records, verify and the directory use';
const applicationCounts = () => counts(APPLICATION_STATUSES);
const auditCounts = () => counts(AUDIT_STATUSES);
const AUDITS_WHAT = 'CE audit draws by status: total = applications drawn; not_selected, requested, submitted, passed, failed';
const expiringCounts = () =>
  obj({
    next_30_days: count(),
    next_60_days: count(),
    next_90_days: count(),
  });

export const statistics = defineResource({
  slug: 'statistics',
  name: 'Statistics',
  singular: 'statistic',
  typeName: 'Statistic',
  table: 'statistics',
  coverage: 'designed: the reference shows only a read by id; computed counts per programme (programs) and of billing (billing)',
  fields: {
    program_id: designed(ref('programs'), 'programme counted; absent for the whole tenant'),
    name: designed(str(), 'label of the figure set (programme name or "All programs")'),
    as_of: designed(dateTime(), 'when the counts were computed'),
    certifications: designed(certificationCounts(), 'certifications by status'),
    standing: designed(standingCounts(), STANDING_WHY),
    applications: designed(applicationCounts(), 'applications by status (an application without a status counts as draft)'),
    expiring: designed(
      expiringCounts(),
      'active certifications whose expiration_date is from today to today + 30 / 60 / 90 days (renewal planning)',
    ),
    audits: designed(auditCounts(), AUDITS_WHAT),
    programs: designed(
      list(
        obj({
          program_id: ref('programs'),
          name: str(),
          certifications: certificationCounts(),
          standing: standingCounts(),
          expiring: expiringCounts(),
          applications: applicationCounts(),
          audits: auditCounts(),
        }),
      ),
      'the `programs` statistic: the same figures per programme (every programme of the tenant, by name)',
    ),
    billing_runs: designed(
      obj({ total: count(), by_status: byValue(BILLING_RUN_STATUSES) }),
      'the `billing` statistic: billing runs by status',
    ),
    billing_run_actions: designed(
      obj({
        total: count(),
        by_status: byValue(enumOf(billingRunActions.def.fields.status!)),
        by_type: byValue(enumOf(billingRunActions.def.fields.type!)),
        pending_by_type: byValue(enumOf(billingRunActions.def.fields.type!)),
        pending_amounts: list(actionAmountTotal(), {
          description:
            'the amounts of the pending actions (what executing the runs would charge or forecast) per type and currency, in minor units',
        }),
      }),
      'the `billing` statistic: billing run actions by status and by type, and the pending ones (what executing the runs would do) by type, with their amounts per currency',
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
  // GET /statistics/{tenantId}/programs and /billing: computed on each read; writes to them are a 409.
  builtIn: {
    // whether an id is computed, without computing it (a write asks inside its transaction)
    has: (id) => (STATISTICS_IDS as readonly string[]).includes(id),
    get: (s, ctx, id) => s.statistics.get(ctx, id),
    list: (s, ctx) => s.statistics.list(ctx),
  },
  description: [
    'GET /statistics/{tenantId}/programs: certifications by status, active certifications expiring in the next 30/60/90 days (expiration_date from today to today + N, inclusive, by the server clock in UTC) and applications by status, for the tenant (top level) and per programme (`programs`, every programme of the tenant sorted by name, zeros included).',
    'GET /statistics/{tenantId}/billing: billing runs by status (billing_runs) and billing run actions by status and by type, and the pending ones by type (billing_run_actions.pending_by_type: what executing the runs would do) with their amounts per type and currency (pending_amounts: total in minor units, count, formatted); status and type values are the keys, spaces written as underscores.',
    'Both are computed on every read with GROUP BY counts over indexed columns; as_of is the moment they were computed. They come first in the list (paged with limit and exclusiveStartKey like any list, then the stored statistics); PUT, PATCH or DELETE on them is a 409.',
  ],
});
