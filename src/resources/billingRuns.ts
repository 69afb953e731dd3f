import { Type } from '@sinclair/typebox';
import { BILLING_RUN_JOBS, BILLING_RUN_STATUSES } from '../domain/billing/runs.js';
import { defineResource, search } from './kit/define.js';
import { bool, date, dateTime, designed, list, num, obj, oneOf, ref, req, str, withOrder } from './kit/fields.js';
import { executionView, restriction, statusReasonFilter } from './blocks.js';
import { actionAmountTotal } from './billingRunActions.js';

/**
 * Billing Runs: one execution of the certification lifecycle batch (activate applications, expire
 * applications, application and renewal reminders, renewal forecasts, drops, training-provider
 * invoices). Complete in the reference: every field, enum and required flag below is from it.
 *
 * Our choices where the reference is ambiguous:
 * - The seven *_options objects are marked required in the reference even when their job is off; a
 *   client must not have to invent options for a job it does not run, so each is required only when
 *   its flag is true (conditionalRequired below).
 * - The search body types `application_expiration_options` as an array of booleans; we keep the name
 *   and read it as a filter on `expire_applications` (the flag of that options block).
 * - The reference shows no list-all route; the standard `GET /billingRuns/{tenantId}` is served too.
 * - The notice ids are references, as on Billing Templates: reminder_notice_id names an application
 *   notice in application_reminder_options and a notice in renewal_reminder_options, drop_notice_id
 *   a notice. A missing one is a 400; a notice a run names cannot be deleted (409 referenced_by).
 */
const ids = (slug: string) => list(ref(slug), { nonEmpty: true });

/** The candidate filters every options block shares. */
const programAndProvider = {
  program_ids: ids('programs'),
  program_restriction: restriction(),
  training_provider_ids: ids('trainingProviders'),
  training_provider_restriction: restriction(),
};
const applicationTypes = {
  restrict_application_types: bool(),
  // Not enumerated by the reference; the Applications type enum (certification, renewal, …) is the likely set.
  application_types: list(str(), { nonEmpty: true }),
};
const expirationWindow = () => ({
  expiration_date_range_start: req(date()),
  expiration_date_range_end: req(date()),
});
/** The window's start may not come after its end (every block that spreads expirationWindow() says so). */
const WINDOW: [string, string][] = [['expiration_date_range_start', 'expiration_date_range_end']];
/** A reminder; its notice is an application notice (application reminders) or a notice (renewal reminders). */
const reminder = (noticeSlug: 'notices' | 'applicationNotices') =>
  withOrder(
    obj({
      id: num({ description: 'stable number of the reminder within its list' }),
      name: str(),
      ...expirationWindow(),
      reminder_notice_id: req(ref(noticeSlug)),
    }),
    WINDOW,
  );
const statistic = obj({
  action: str(),
  total: num({ min: 0 }),
  pending: num({ min: 0 }),
  processing: num({ min: 0 }),
  successful: num({ min: 0 }),
  excluded: num({ min: 0 }),
  error: num({ min: 0 }),
});

const executionHandle = Type.Object({
  executionArn: Type.String(),
  start_date: Type.String({ format: 'date-time' }),
  notification_channel: Type.Optional(Type.String({ description: 'path of the server-sent events of the execution (under the API root)' })),
  notification_publishKey: Type.Optional(Type.String()),
  notification_subscribeKey: Type.Optional(Type.String()),
});

/** An execution of the run (the shape of GET /executions/{t}/{executionArn}) and who started it. */
const runExecution = executionView('BillingRunExecution', {
  started_by: Type.String({ description: "the token's subject, or scheduler for a recurring run's" }),
});

const runMessage = Type.Object(
  {
    billing_run_action_id: Type.String(),
    type: Type.String(),
    name: Type.String(),
    action_status: Type.String(),
    notice_id: Type.Optional(Type.String()),
    status: Type.Union([Type.Literal('queued'), Type.Literal('sent'), Type.Literal('failed'), Type.Literal('not sent')]),
    reason: Type.Optional(Type.String({ description: 'why it was not sent (no address, notice inactive, …), or the last mail error' })),
    outbox_id: Type.Optional(Type.String()),
    to: Type.Optional(Type.String()),
    subject: Type.Optional(Type.String()),
    attempts: Type.Optional(Type.Integer()),
    queued_at: Type.Optional(Type.String({ format: 'date-time' })),
    sent_at: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { title: 'BillingRunMessage' },
);

const previewEmail = Type.Object(
  {
    billing_run_action_id: Type.String(),
    type: Type.String(),
    name: Type.String(),
    status: Type.Union([Type.Literal('would send'), Type.Literal('not sent'), Type.Literal('error')]),
    reason: Type.Optional(Type.String({ description: 'why it would not be sent, or the error the action would end in' })),
    to: Type.Optional(Type.String()),
    from: Type.Optional(Type.String()),
    cc: Type.Optional(Type.String()),
    bcc: Type.Optional(Type.String()),
    reply_to: Type.Optional(Type.String()),
    subject: Type.Optional(Type.String()),
    html: Type.Optional(Type.String()),
    text: Type.Optional(Type.String()),
  },
  { title: 'BillingRunEmailPreview' },
);

const pageQuery = Type.Object({
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: 'actions per page, 1 to 1000 (default 100)' })),
  exclusiveStartKey: Type.Optional(Type.String({ description: 'the LastEvaluatedKey of the previous page' })),
});

export const billingRuns = defineResource({
  slug: 'billingRuns',
  name: 'Billing Runs',
  singular: 'billing run',
  typeName: 'BillingRun',
  table: 'billing_runs',
  coverage: 'complete (reference)',
  description: [
    'One billing run: up to seven jobs (activate applications, expire applications, application reminders, renewal reminders, renewal forecasts, drops, training-provider invoices), each enabled by its flag with its options.',
    "refresh computes the run's candidate actions (Billing Run Actions) and execute performs the pending ones, both in the background: follow them with GET /executions/{tenantId}/{executionArn}.",
  ],
  fields: {
    name: req(str()),
    status: req(oneOf(BILLING_RUN_STATUSES)),
    template_id: ref('billingTemplates'),
    recurring_billing_run_id: ref('recurringBillingRuns'),
    notification_email: str(),
    scheduled_preprocessing_date: dateTime(),
    preprocessing_date: dateTime(),
    scheduled_run_date: dateTime(),
    run_date: dateTime(),
    last_refresh_date: dateTime(),
    error: str(),
    error_stack: str(),
    statistics: list(statistic),
    amounts: designed(
      list(actionAmountTotal(), {
        description:
          'set by refresh and execution: per action type and currency, the total (minor units) and count of the actions that carry an amount (renewal forecasts and reminders, training-provider bills), pending or performed',
      }),
      'issue 20: totals per action type and currency before execution',
    ),

    activate_applications: bool(),
    application_activation_options: obj({
      application_notice_id: ref('applicationNotices'),
      ...applicationTypes,
      ...programAndProvider,
      // The reference says "Status Reasons" in every block; in the application blocks it may mean appStatusReasons.
      ...statusReasonFilter('statusReasons'),
    }),
    expire_applications: bool(),
    application_expiration_options: obj(
      {
        application_notice_id: ref('applicationNotices'),
        ...applicationTypes,
        ...expirationWindow(),
        ...programAndProvider,
        ...statusReasonFilter('statusReasons'),
      },
      { ordered: WINDOW },
    ),
    send_application_reminders: bool(),
    application_reminder_options: obj({
      ...applicationTypes,
      ...programAndProvider,
      ...statusReasonFilter('statusReasons'),
      reminders: req(list(reminder('applicationNotices'), { nonEmpty: true })),
    }),
    send_renewal_reminders: bool(),
    renewal_reminder_options: obj({
      ...applicationTypes,
      ...programAndProvider,
      ...statusReasonFilter('statusReasons'),
      reminders: req(list(reminder('notices'), { nonEmpty: true })),
    }),
    forecast_renewals: bool(),
    renewal_forecasting_options: obj(
      {
        ...expirationWindow(),
        ...programAndProvider,
        ...statusReasonFilter('statusReasons'),
      },
      { ordered: WINDOW },
    ),
    perform_drops: bool(),
    drop_options: obj(
      {
        drop_notice_id: ref('notices'),
        ...expirationWindow(),
        ...programAndProvider,
        ...statusReasonFilter('statusReasons'),
      },
      { ordered: WINDOW },
    ),
    bill_training_providers: bool(),
    training_provider_billing_options: obj(
      {
        email_invoices_to_training_providers: bool(),
        ...expirationWindow(),
        invoice_template_id: req(ref('external:invoiceTemplates')),
        payment_terms_id: req(ref('external:paymentTerms')),
        ...programAndProvider,
      },
      { ordered: WINDOW },
    ),
  },
  conditionalRequired: Object.entries(BILLING_RUN_JOBS).map(([flag, field]) => ({ field, when: { [flag]: true } })),
  // a recurring run's pre-processing is scheduled lead-time business days before its run
  ordered: [['scheduled_preprocessing_date', 'scheduled_run_date']],
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    status: search.anyOf('status'),
    run_date: search.range('run_date'),
    scheduled_run_date: search.range('scheduled_run_date'),
    activate_applications: search.anyOf('activate_applications'),
    application_expiration_options: search.anyOf('expire_applications'),
    send_application_reminders: search.anyOf('send_application_reminders'),
    send_renewal_reminders: search.anyOf('send_renewal_reminders'),
    perform_drops: search.anyOf('perform_drops'),
    bill_training_providers: search.anyOf('bill_training_providers'),
  },
  lookups: [{ segment: 'recurringBillingRun', field: 'recurring_billing_run_id', summary: 'List the runs of a recurring billing run' }],
  actions: [
    {
      name: 'refresh',
      method: 'POST',
      path: 'refresh/:id',
      summary: "Recompute the run's candidate actions (asynchronous; answers an execution handle)",
      description:
        'Computes the candidates of every job switched on and stores them as billingRunActions (pending, outcome_of_last_refresh added / removed / no change). Refreshing again never duplicates an action and never resets a performed one. Status: preprocessing, then ready for execution. Watch it at GET /executions/{tenantId}/{executionArn}.',
      response: executionHandle,
      handler: (s, ctx, { params }) => s.billing.startRefresh(ctx, params.id!),
    },
    {
      name: 'execute',
      method: 'POST',
      path: 'execute/:id',
      summary: "Perform the run's pending actions (asynchronous; answers an execution handle)",
      description:
        'Each pending action is performed with its e-mail queued and its status set in one transaction; a failing action ends in error with its message and the run goes on. Status: running, then completed (or error when some action failed). A run interrupted by a crash resumes where it stopped: no action is performed twice.',
      response: executionHandle,
      handler: (s, ctx, { params }) => s.billing.startExecute(ctx, params.id!),
    },
    {
      name: 'previewEmails',
      method: 'POST',
      path: 'previewEmails/:id',
      summary: 'Dry run: the e-mails executing the run would send (the first N, rendered, with recipients), nothing sent',
      description:
        "Performs the run's pending actions in execution order with the handlers an execution uses, inside a transaction that is rolled back: nothing is written and nothing is queued. Items: each e-mail that would be sent (to, from, subject, html, text), each action whose e-mail would not be (reason: no address, notice inactive, …) and each action that would fail (reason: the error). limit: 1 to 100 (default 10); more: whether further actions remain; at most 1000 actions are examined per call. Refresh first: only pending actions are previewed.",
      query: Type.Object({
        limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: 'e-mails to show, 1 to 100 (default 10)' })),
      }),
      response: Type.Object({
        Count: Type.Integer(),
        Items: Type.Array(previewEmail),
        actions_examined: Type.Integer(),
        more: Type.Boolean(),
      }),
      handler: (s, ctx, { params, query }) => s.billing.previewEmails(ctx, params.id!, query),
    },
    {
      name: 'executions',
      method: 'GET',
      path: 'executions/:id',
      summary: 'Every refresh and execution of the run, oldest first (those the scheduler started included)',
      description:
        'Each as GET /executions/{tenantId}/{executionArn} shows it, with started_by. The actions an execution performed carry its ARN in step_function_execution_arn.',
      response: Type.Object({ Count: Type.Integer(), Items: Type.Array(runExecution) }),
      handler: (s, ctx, { params }) => s.billing.executions(ctx, params.id!),
    },
    {
      name: 'messages',
      method: 'GET',
      path: 'messages/:id',
      summary: "The run's e-mails: queued, sent, failed, or not sent and why",
      description:
        "One item per e-mail an action of the run queued (status queued while waiting or retrying, then sent or failed with the mail error as reason) and one per performed action whose e-mail was not sent (reason: no address, notice inactive, …). Pages run over the run's actions in id order: a page may hold fewer items than limit and still carry a LastEvaluatedKey.",
      query: pageQuery,
      response: Type.Object({ Count: Type.Integer(), Items: Type.Array(runMessage), LastEvaluatedKey: Type.Optional(Type.String()) }),
      handler: (s, ctx, { params, query }) => s.billing.messages(ctx, params.id!, query),
    },
  ],
});
