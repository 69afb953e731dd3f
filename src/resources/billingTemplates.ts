import { defineResource, search } from './kit/define.js';
import { bool, list, num, obj, oneOf, ref, req, str } from './kit/fields.js';
import { APPLICATION_TYPES, RELATIVE_TO, restriction, statusReasonFilter } from './blocks.js';

/**
 * Billing Templates: a reusable billing-run configuration. Recurring billing runs create runs from a
 * template (billingRuns.template_id records which). It has the seven jobs and option blocks of a
 * billing run without the run-only fields (status, dates, statistics, error), and every expiration
 * window is relative ("30 days after the end of the month") so each generated run resolves it against
 * its own run date. From the reference (create sample, get response, create curl sample); four of the
 * seven jobs are inferred from Billing Runs and Rhythm's support article.
 *
 * Our choices where the reference is ambiguous:
 * - The seven *_options objects are flagged required even when their job is off; as on Billing Runs
 *   each is required only when its flag is true (conditionalRequired below).
 * - status_reason_ids point at Status Reasons in the certification blocks (renewal reminders, drops,
 *   forecasts) and at App Status Reasons in the application blocks; reminder notices likewise at
 *   Notices or Application Notices.
 * - number and unit_of_time of a relative date stay optional (their required flags were not visible;
 *   "on the reference date" needs neither).
 */
const ids = (slug: string) => list(ref(slug), { nonEmpty: true });

/** A date relative to the run date. */
const relativeDate = () =>
  obj({
    position: req(oneOf(['after', 'before', 'on'])),
    number: num({ whole: true, description: 'a whole number (negative counts the other way)' }),
    unit_of_time: oneOf(['days', 'months', 'weeks', 'years']),
    relative_to: req(oneOf(RELATIVE_TO)),
  });
const expirationWindow = () => ({
  expiration_date_range_start: req(relativeDate()),
  expiration_date_range_end: req(relativeDate()),
});

/** The candidate filters every options block shares. */
const programAndProvider = () => ({
  program_restriction: restriction(),
  program_ids: ids('programs'),
  training_provider_restriction: restriction(),
  training_provider_ids: ids('trainingProviders'),
});
const applicationTypes = () => ({
  restrict_application_types: bool(),
  application_types: list(oneOf(APPLICATION_TYPES), { nonEmpty: true }),
});
const reminders = (noticeSlug: 'notices' | 'applicationNotices') =>
  req(
    list(
      obj({
        id: num({ description: 'stable number of the reminder, so a sent reminder is not repeated' }),
        name: str(),
        reminder_notice_id: req(ref(noticeSlug)),
        ...expirationWindow(),
      }),
      { nonEmpty: true },
    ),
  );

/** Each job's flag and its options block. */
const JOBS = {
  send_renewal_reminders: 'renewal_reminder_options',
  bill_training_providers: 'training_provider_billing_options',
  perform_drops: 'drop_options',
  forecast_renewals: 'renewal_forecasting_options',
  activate_applications: 'application_activation_options',
  send_application_reminders: 'application_reminder_options',
  expire_applications: 'application_expiration_options',
} as const;

export const billingTemplates = defineResource({
  actions: [
    {
      name: 'createRun',
      method: 'POST',
      path: 'createRun/:id',
      status: 201,
      summary: 'Create a draft billing run from the template for a run date (body { run_date, name? })',
      description:
        'Every relative date of the template (position before / after / on, number, unit, relative to the beginning or end of the week / month / quarter / year or the reference date) is resolved against run_date to an absolute date; the run keeps template_id and scheduled_run_date. A relative date that cannot be resolved is a 422 naming it.',
      response: { $ref: 'BillingRun#' } as never,
      handler: (s, ctx, { params, body }) => s.billing.createRunFromTemplate(ctx, params.id!, body),
    },
  ],
  slug: 'billingTemplates',
  name: 'Billing Templates',
  singular: 'billing template',
  typeName: 'BillingTemplate',
  table: 'billing_templates',
  coverage: 'partial (reference; four jobs inferred from Billing Runs); search designed',
  fields: {
    name: req(str()),
    description: str(),
    notification_email: str(),

    send_renewal_reminders: bool(),
    renewal_reminder_options: obj({
      ...programAndProvider(),
      ...statusReasonFilter('statusReasons'),
      ...applicationTypes(),
      reminders: reminders('notices'),
    }),
    bill_training_providers: bool(),
    training_provider_billing_options: obj({
      ...programAndProvider(),
      ...expirationWindow(),
      invoice_template_id: req(ref('external:invoiceTemplates')),
      payment_terms_id: req(ref('external:paymentTerms')),
      email_invoices_to_training_providers: bool(),
    }),
    perform_drops: bool(),
    drop_options: obj({
      drop_notice_id: ref('notices'),
      ...expirationWindow(),
      ...programAndProvider(),
      ...statusReasonFilter('statusReasons'),
    }),
    forecast_renewals: bool(),
    renewal_forecasting_options: obj({
      ...expirationWindow(),
      ...programAndProvider(),
      ...statusReasonFilter('statusReasons'),
    }),
    activate_applications: bool(),
    application_activation_options: obj({
      application_notice_id: ref('applicationNotices'),
      ...programAndProvider(),
      ...statusReasonFilter('appStatusReasons'),
      ...applicationTypes(),
    }),
    send_application_reminders: bool(),
    application_reminder_options: obj({
      ...programAndProvider(),
      ...statusReasonFilter('appStatusReasons'),
      ...applicationTypes(),
      reminders: reminders('applicationNotices'),
    }),
    expire_applications: bool(),
    application_expiration_options: obj({
      application_notice_id: ref('applicationNotices'),
      ...expirationWindow(),
      ...programAndProvider(),
      ...statusReasonFilter('appStatusReasons'),
      ...applicationTypes(),
    }),
  },
  // Each options block is required only when its job is on.
  conditionalRequired: Object.entries(JOBS).map(([flag, field]) => ({ field, when: { [flag]: true } })),
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    send_renewal_reminders: search.anyOf('send_renewal_reminders'),
    bill_training_providers: search.anyOf('bill_training_providers'),
    perform_drops: search.anyOf('perform_drops'),
    forecast_renewals: search.anyOf('forecast_renewals'),
    activate_applications: search.anyOf('activate_applications'),
    send_application_reminders: search.anyOf('send_application_reminders'),
    expire_applications: search.anyOf('expire_applications'),
  },
  description: [
    'Same seven jobs and option blocks as Billing Runs, minus the run-only fields; a run created from a template resolves each relative expiration window against its run date.',
    'A relative date is { position before|after|on, number, unit_of_time, relative_to }; position and relative_to are required, number and unit_of_time left optional.',
    'Each *_restriction (none, include, exclude) applies to its *_ids list; restrict_status_reasons / restrict_application_types gate status_reason_ids / application_types.',
    'status_reason_ids: Status Reasons in the renewal reminder, drop and forecast blocks, App Status Reasons in the application blocks.',
    'reminders[].id must stay stable per reminder so that already-sent reminders are not repeated.',
    'Each *_options block is required only when its job flag is true.',
  ],
});
