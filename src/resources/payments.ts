import { defineResource, search } from './kit/define.js';
import { dateTime, designed, int, oneOf, ref, req, str } from './kit/fields.js';

/**
 * Payments: money received for an order (or paid back: a refund is a negative amount with a reason),
 * recorded by staff or by a payment provider's webhook (Stripe). Not in the catalog (commerce API).
 *
 * Our choices:
 * - Append-only: a payment is never changed or deleted; a mistake is undone by a refund. So the
 *   ledger is the list of payments, and an order's amount_paid is their sum.
 * - amount in minor units of the order's currency (currency_code must be the order's).
 * - provider_event_id (the provider's event id) and provider_payment_id (its payment, e.g. a Stripe
 *   PaymentIntent) are unique per tenant: a replayed or doubled webhook records the payment once.
 */
export const PAYMENT_METHODS = ['bank transfer', 'card', 'cash', 'check', 'other', 'stripe'] as const;

export const payments = defineResource({
  slug: 'payments',
  name: 'Payments',
  singular: 'payment',
  typeName: 'Payment',
  table: 'payments',
  coverage: 'designed (not in the catalog): payments and refunds of orders, by staff or Stripe webhooks',
  fields: {
    order_id: req(ref('orders')),
    amount: req(int({ description: 'minor units (cents) of currency_code; negative = a refund (reason required)' })),
    currency_code: req(str({ pattern: '^[A-Z]{3}$', description: "ISO 4217; the order's currency", examples: ['USD'] })),
    method: req(oneOf(PAYMENT_METHODS)),
    reference: str({ description: 'external reference: a check number, a bank transfer id, a card receipt' }),
    date: designed(dateTime({ description: 'when the money moved; default now' }), 'payment date'),
    reason: str({ description: 'why: required for a refund' }),
    provider: oneOf(['stripe']),
    provider_event_id: str({ description: "the provider's event id (Stripe evt_…): a replayed event is recorded once" }),
    provider_payment_id: str({ description: "the provider's payment id (Stripe pi_…): the same payment reported twice is recorded once" }),
    contact_id: ref('external:contacts', { description: "the order's contact, copied for lookups" }),
    notes: str(),
  },
  appendOnly: true,
  hooks: {
    lock: (h) => h.services.commerce.paymentLock(h),
    validate: (h) => h.services.commerce.paymentValidate(h),
    after: (h) => h.services.commerce.paymentAfter(h),
  },
  indexes: [
    { unique: true, fields: ['provider_event_id'] },
    { unique: true, fields: ['provider_payment_id'] },
  ],
  search: {
    ids: search.ids(),
    order_id: search.anyOf('order_id'),
    method: search.anyOf('method'),
    provider: search.anyOf('provider'),
    contact_id: search.anyOf('contact_id'),
    date: search.range('date'),
  },
  lookups: [
    { segment: 'order', field: 'order_id', summary: 'List the payments and refunds of an order' },
    { segment: 'contact', field: 'contact_id', summary: "List a contact's payments" },
  ],
  description: [
    'A payment is never changed or deleted (a 409): a refund (a negative amount with a reason) undoes one. Each payment updates its order: amount_paid, balance_due, status, and when the balance reaches zero what the order pays for (an application fee requirement met, a registration order completed).',
    'Stripe payments arrive through POST /webhooks/{tenantId}/stripe (signed by Stripe); staff record the others here.',
  ],
});
