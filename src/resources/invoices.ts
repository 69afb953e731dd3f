import { defineResource, search } from './kit/define.js';
import { date, list, num, obj, oneOf, ref, req, str } from './kit/fields.js';

/**
 * Invoices: what a billing run bills a training provider (job bill_training_providers). Not in the
 * catalog: Rhythm keeps invoices in its commerce API (billing runs name `invoice_template_id` and
 * `payment_terms_id` from there). We serve the minimum a provider bill needs, so that a client can see
 * what a run produced: one line per billable registration at the provider's trainingProvPrograms fee.
 * Written by billing runs; only admin tokens may change one (e.g. to void it).
 */
export const INVOICE_FEE_TYPES = ['course_fee', 'live_exam_fee', 'retest_fee'] as const;

export const invoices = defineResource({
  slug: 'invoices',
  name: 'Invoices',
  singular: 'invoice',
  typeName: 'Invoice',
  table: 'invoices',
  coverage: 'designed (not in the catalog): the training-provider invoices of billing runs',
  adminOnlyWrites: true,
  fields: {
    number: req(num({ description: 'gap-free per tenant, assigned when the run bills' })),
    status: req(oneOf(['open', 'sent', 'void'])),
    training_provider_id: req(ref('trainingProviders')),
    billing_run_id: ref('billingRuns'),
    billing_run_action_id: str(),
    date: req(date()),
    period_start: date(),
    period_end: date(),
    invoice_template_id: str(),
    payment_terms_id: str(),
    lines: list(
      obj({
        registration_service: req(oneOf(['courseRegistrations', 'examRegistrations'])),
        registration_id: req(str()),
        program_id: str(),
        student_id: str(),
        description: str(),
        fee_type: req(oneOf(INVOICE_FEE_TYPES)),
        amount: req(num({ minimum: 0 })),
      }),
    ),
    total: req(num({ minimum: 0 })),
    emailed_to: str(),
  },
  ordered: [['period_start', 'period_end']],
  search: {
    ids: search.ids(),
    status: search.anyOf('status'),
    training_provider_id: search.anyOf('training_provider_id'),
    billing_run_id: search.anyOf('billing_run_id'),
    date: search.range('date'),
  },
  lookups: [
    { segment: 'trainingProvider', field: 'training_provider_id', summary: 'List the invoices of a training provider' },
    { segment: 'billingRun', field: 'billing_run_id', summary: 'List the invoices a billing run produced' },
  ],
  description: [
    'Each line bills one course or exam registration once (a registration is never billed twice, whatever the run).',
    'Only admin tokens may change an invoice; billing runs create them.',
  ],
});
