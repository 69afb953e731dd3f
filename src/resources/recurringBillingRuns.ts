import { defineResource, search } from './kit/define.js';
import { validateSchedule } from '../domain/billing/schedule.js';
import { bool, dateTime, designed, num, ref, req, str } from './kit/fields.js';

/**
 * Recurring Billing Runs: a schedule that periodically creates billing runs from a billing template,
 * each pre-processed a number of business days before its run date so staff can review it. Fields from
 * the reference's Collect twin (same tag and path), cut off before the fields sorting after sys_*.
 *
 * Our choices where the reference is silent:
 * - template_id (billing template the runs are made from) and next_run_date are designed: both are
 *   needed by the scheduler, and billing runs carry template_id. template_id stays optional: a schedule
 *   may be saved before its template exists, and a tick without one records last_error instead.
 * - The last_* bookkeeping dates are plain strings in the reference; we type them date-time, as the
 *   billing runs' own dates.
 */
export const recurringBillingRuns = defineResource({
  // a schedule the scheduler cannot read is refused now rather than failing at every tick
  fieldChecks: { schedule: (v) => validateSchedule(String(v)) },
  slug: 'recurringBillingRuns',
  name: 'Recurring Billing Runs',
  singular: 'recurring billing run',
  typeName: 'RecurringBillingRun',
  table: 'recurring_billing_runs',
  coverage: 'partial (reference, via the Collect twin); template_id, next_run_date and date formats designed',
  fields: {
    name: req(str()),
    schedule: req(
      str({
        description:
          'when runs happen: a 5-field cron expression in UTC (minute hour day-of-month month day-of-week, e.g. "0 6 1 * *" = 06:00 on the 1st), a macro such as @monthly, or an AWS-style cron(0 6 1 * ? *)',
        examples: ['0 6 1 * *'],
      }),
    ),
    human_readable_schedule: str({ description: 'display text of schedule' }),
    pre_processing_lead_time: req(num({ minimum: 0, description: "business days between a run's pre-processing and its run date" })),
    is_active: bool({ description: 'false pauses the schedule' }),
    last_run_date: designed(dateTime(), 'plain string in the reference; date-time like billing run dates'),
    last_error: str(),
    last_error_date: designed(dateTime(), 'plain string in the reference; date-time like billing run dates'),
    errors_since_last_run: num({ min: 0, description: 'errors since the last successful run' }),
    template_id: designed(ref('billingTemplates'), 'not visible; runs are created from a billing template and carry template_id'),
    next_run_date: designed(dateTime(), 'not visible; the scheduler needs the next tick'),
  },
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    is_active: search.anyOf('is_active'),
    template_id: search.anyOf('template_id'),
    last_run_date: search.range('last_run_date'),
    next_run_date: search.range('next_run_date'),
  },
  lookups: [{ segment: 'billingTemplate', field: 'template_id', summary: 'List the recurring runs made from a billing template' }],
  description: [
    'Each tick creates a billing run from the template, sets scheduled_preprocessing_date = scheduled_run_date minus pre_processing_lead_time business days, and records recurring_billing_run_id and template_id on the new run (GET /billingRuns/{tenantId}/recurringBillingRun/{id} lists them).',
    'last_run_date, last_error, last_error_date and errors_since_last_run are scheduler bookkeeping; is_active pauses the schedule.',
  ],
});
