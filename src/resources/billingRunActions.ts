import { defineResource, search } from './kit/define.js';
import { date, dateTime, designed, int, num, obj, oneOf, ref, req, str } from './kit/fields.js';
import { NOT_SENT_REASONS } from '../domain/notices/decision.js';

/**
 * Billing Run Actions: one candidate action of a billing run for one record (a certification, an
 * application or a training provider), with its status. A refresh of the run recomputes the set and
 * records the outcome on each action; execution moves pending -> processing (-> processing order) ->
 * completed, or ends in error, payment failure, excluded, no longer eligible or expiration date
 * changed. From the reference: the create body through training_provider_id.
 *
 * Our choices where the reference is ambiguous or silent:
 * - certification_id, application_id and training_provider_id are all flagged required, but only one
 *   is meaningful per type: each is required for the types that concern it (conditionalRequired below).
 * - Later fields were cut off; we designed the candidate's contact, the order or invoice the action
 *   produced, the reminder it sends and the expiration date it was computed from.
 */
const ACTION_TYPES = [
  'send renewal reminder',
  'activate application',
  'drop certification',
  'bill training provider',
  'send application reminder',
  'expire application',
  'forecast renewal',
] as const;

/** Which record each action type acts on. */
const SUBJECT_OF: Record<(typeof ACTION_TYPES)[number], string> = {
  'send renewal reminder': 'certification_id',
  'drop certification': 'certification_id',
  'forecast renewal': 'certification_id',
  'activate application': 'application_id',
  'send application reminder': 'application_id',
  'expire application': 'application_id',
  'bill training provider': 'training_provider_id',
};

/** Actions' money per type and currency (domain/billing/statistics.ts runAmounts): a run's amounts, the billing statistic's pending_amounts. */
export const actionAmountTotal = () =>
  obj({
    type: str({ description: 'the action type' }),
    currency: str({ pattern: '^[A-Z]{3}$', description: 'ISO 4217' }),
    total: int({ min: 0, description: "sum of the actions' amounts, in minor units of currency (cents: 1200000 is 12,000.00 USD)" }),
    count: int({ min: 0, description: 'how many actions the total adds up' }),
    formatted: str({ description: 'the total written out, e.g. "12,000.00 USD"' }),
  });

export const billingRunActions = defineResource({
  slug: 'billingRunActions',
  name: 'Billing Run Actions',
  singular: 'billing run action',
  typeName: 'BillingRunAction',
  table: 'billing_run_actions',
  idPattern: '^[\\w:|-]+$',
  coverage: 'partial (reference, create body through training_provider_id); contact, order, invoice, reminder and expiration date designed',
  fields: {
    name: req(str({ description: 'display name of the candidate' })),
    date: req(dateTime()),
    billing_run_id: req(ref('billingRuns')),
    type: req(oneOf(ACTION_TYPES)),
    status: req(
      oneOf([
        'pending',
        'processing',
        'processing order',
        'completed',
        'payment failure',
        'error',
        'excluded',
        'no longer eligible',
        'expiration date changed',
      ]),
    ),
    candidate_service: req(str({ description: 'the service of the record acted on' })),
    candidate_id: req(str({ description: 'the id of the record acted on' })),
    certification_id: ref('certifications'),
    application_id: ref('applications'),
    training_provider_id: ref('trainingProviders'),
    last_refresh_date: dateTime(),
    outcome_of_last_refresh: oneOf(['no change', 'added', 'removed']),
    error_message: str(),
    error_stack: str(),
    step_function_execution_arn: str(),

    contact_id: designed(ref('external:contacts'), "the candidate's owner, for listing a person's actions"),
    expiration_date: designed(date(), 'the candidate expiration date when computed; a change ends in "expiration date changed"'),
    reminder_id: designed(num(), 'the reminders[].id of the run this reminder action sends (reminders are never repeated)'),
    order_id: designed(ref('external:orders'), 'the order an activation or renewal produced'),
    invoice_id: designed(ref('external:invoices'), 'the invoice billing a training provider produced'),
    notice_id: designed(
      str(),
      "the notice the action was to send (its run's reminder, drop or application notice); kept as it was, not a reference",
    ),
    notice_status: designed(
      oneOf(['queued', 'sent', 'failed', 'not sent']),
      "what became of the action's e-mail: queued in the outbox, then sent or failed (written back by the mailer); not sent with notice_status_reason",
    ),
    notice_status_reason: designed(str(), `why the e-mail was not sent (${NOT_SENT_REASONS.join(', ')}) or the mail error of a failed one`),
    amount: designed(
      int({
        min: 0,
        description:
          "what the action charges or forecasts, in minor units of currency_code (cents: 17000 is 170.00 USD): a renewal forecast or reminder the renewal price (plus the programme's late fee in grace), a training-provider bill its registrations' fees; absent for other types",
      }),
      'issue 20: billing runs speak money (totals per type and currency before execution)',
    ),
    currency_code: designed(
      str({ pattern: '^[A-Z]{3}$', description: "ISO 4217: the currency of amount (the tenant's, settings.currency_code)" }),
      'issue 20',
    ),
  },
  // execution pages through a run's pending actions in id order: (run, status, id) serves it directly
  indexes: [['billing_run_id', 'status']],
  // Each record id is required for the action types that concern it.
  conditionalRequired: Object.entries(SUBJECT_OF).map(([type, field]) => ({ field, when: { type } })),
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    billing_run_id: search.anyOf('billing_run_id'),
    type: search.anyOf('type'),
    status: search.anyOf('status'),
    outcome_of_last_refresh: search.anyOf('outcome_of_last_refresh'),
    certification_id: search.anyOf('certification_id'),
    application_id: search.anyOf('application_id'),
    training_provider_id: search.anyOf('training_provider_id'),
    date: search.range('date'),
    // extracted columns: /statistics/{t}/billing sums the pending amounts per type and currency over them
    currency_code: search.anyOf('currency_code'),
    amount: search.anyOf('amount'),
  },
  lookups: [
    { segment: 'billingRun', field: 'billing_run_id', summary: 'List the actions of a billing run' },
    { segment: 'certification', field: 'certification_id', summary: 'List the billing run actions on a certification' },
    { segment: 'application', field: 'application_id', summary: 'List the billing run actions on an application' },
    { segment: 'trainingProvider', field: 'training_provider_id', summary: 'List the billing run actions on a training provider' },
  ],
  description: [
    'The seven types map one-to-one onto the billing run jobs (send_renewal_reminders, activate_applications, perform_drops, bill_training_providers, send_application_reminders, expire_applications, forecast_renewals).',
    'candidate_service + candidate_id identify the record acted on; certification_id is required for renewal reminders, drops and forecasts, application_id for activations, application reminders and expirations, training_provider_id for billing.',
    'A refresh sets outcome_of_last_refresh (added, removed, no change) and last_refresh_date, and prices the actions that cost money (amount in minor units of currency_code).',
    'A reminder whose notice is not sent (switched off, limited to other programmes, no address, …) ends excluded with notice_status not sent and the reason; a drop, activation or expiry is done and its notice_status says why no e-mail went out.',
  ],
});
