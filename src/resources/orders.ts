import { defineResource, search, type ActionSpec } from './kit/define.js';
import { date, dateTime, int, list, obj, oneOf, ref, req, str } from './kit/fields.js';
import { ORDER_STATUSES } from './blocks.js';
import { isCurrencyCode } from '../domain/money/money.js';

/**
 * Orders: what someone owes for what they buy (an application's fee, a course or exam registration, a
 * training provider's invoice), its line items, totals, payments and balance. Not in the catalog:
 * Rhythm keeps orders in its commerce API, which the catalog points at (`POST
 * /applications/{t}/generateOrder`, registrations' order_id / order_status / order_total …); a
 * self-hosted server keeps them itself. The status enum is the catalog's (registrations' order_status).
 *
 * Our choices:
 * - Amounts are integers in the currency's minor units (cents), with currency_code (ISO 4217). The
 *   catalog's own amount fields (fee prices, registrations' order_total …) stay decimal numbers in
 *   major units; domain/money converts them exactly.
 * - subtotal, discount_total and total are computed from the lines, amount_paid from the order's
 *   payments, balance_due = total − amount_paid: read-only (`computed`), ignored in bodies; a PATCH
 *   that changes one is a 422 naming it.
 * - The status follows the balance (awaiting payment, completed when paid in full or free) unless it is
 *   set to cancelled or void (a cancelled or void order takes no payment). "Paid in full" marks what the
 *   order pays for: an application's fee requirement (fee_paid_date), a registration's order_* fields.
 * - One coupon per order (coupon_code); its redemption counts toward the coupon's limits while the
 *   order is not cancelled or void.
 * - What an order pays for is one of application_id, course_registration_id, exam_registration_id,
 *   invoice_id (each a lookup); generateOrder for the same item while an order is open answers that
 *   order again.
 */
export const ORDER_OWNER_TYPES = ['contact', 'organization', 'training provider'] as const;
export const ORDER_LINE_TYPES = ['fee', 'late fee', 'discount', 'registration'] as const;
export const FEE_KINDS = ['application', 'course', 'exam', 'other'] as const;

/** An amount in minor units (integer). */
const minor = (description: string, opts: Record<string, unknown> = {}) =>
  int({ description: `${description}; minor units (cents)`, ...opts });

/** `POST /{courseRegistrations|examRegistrations}/{t}/generateOrder`: the order of one registration. */
export const registrationOrderAction = (slug: 'courseRegistrations' | 'examRegistrations'): ActionSpec => ({
  name: 'generateOrder',
  method: 'POST',
  path: 'generateOrder',
  summary: `Takes a ${slug === 'courseRegistrations' ? 'course' : 'exam'} registration in the body and produces its (fee) order`,
  description: `The body is the registration (its id names the stored one); it may add coupon_code, currency_code and is_member. The fee is the ${
    slug === 'courseRegistrations' ? "course offering's fee_id" : "exam offering's fee_id, or its retest_fee_id for a retest"
  }; the registration's order_* fields follow the order. While the registration has an order that is not cancelled or void, that order is answered again. Amounts in minor units (docs/money.md).`,
  response: { $ref: 'Order#' } as never,
  handler: (s, ctx, { body }) => s.commerce.generateForRegistration(ctx, slug, body),
});

export const orderLine = () =>
  obj({
    type: req(oneOf(ORDER_LINE_TYPES)),
    description: req(str()),
    fee_kind: oneOf(FEE_KINDS),
    fee_id: str({ description: 'the fee record charged (applicationFees, courseFees, examFees, fees)' }),
    coupon_id: ref('coupons'),
    registration_service: oneOf(['courseRegistrations', 'examRegistrations']),
    registration_id: str(),
    quantity: req(int({ minimum: 1 })),
    unit_amount: req(minor('price of one; negative on a discount line')),
    amount: req(minor('quantity × unit_amount less the inline discount')),
    discount: minor('inline discount taken off this line', { minimum: 0 }),
  });

export const orders = defineResource({
  slug: 'orders',
  name: 'Orders',
  singular: 'order',
  typeName: 'Order',
  table: 'orders',
  coverage:
    'designed (not in the catalog): the commerce orders the catalog points at; amounts in minor units, the catalog order status enum',
  fields: {
    status: oneOf(ORDER_STATUSES, { description: 'awaiting payment / completed follow the balance; cancelled and void are set by staff' }),
    date: date({ description: 'the day the order was made (the pricing day)' }),
    owner_type: req(oneOf(ORDER_OWNER_TYPES)),
    contact_id: ref('external:contacts'),
    organization_id: ref('external:organizations'),
    training_provider_id: ref('trainingProviders'),
    program_id: ref('programs'),
    application_id: ref('applications'),
    course_registration_id: ref('courseRegistrations'),
    exam_registration_id: ref('examRegistrations'),
    invoice_id: ref('invoices'),
    currency_code: req(str({ pattern: '^[A-Z]{3}$', description: 'ISO 4217', examples: ['USD'] })),
    lines: req(list(orderLine())),
    coupon_id: ref('coupons'),
    coupon_code: str(),
    paid_date: dateTime({ description: 'when the balance last reached zero' }),
    notes: str(),
  },
  computed: {
    number: int({ minimum: 1, description: 'gap-free per tenant, assigned when the order is created' }),
    subtotal: minor('sum of the fee lines before discounts', { minimum: 0 }),
    discount_total: minor('discounts taken', { minimum: 0 }),
    total: minor('subtotal − discount_total', { minimum: 0 }),
    amount_paid: minor('sum of the payments, refunds negative'),
    balance_due: minor('total − amount_paid'),
  },
  conditionalRequired: [
    { field: 'contact_id', when: { owner_type: 'contact' } },
    { field: 'organization_id', when: { owner_type: 'organization' } },
    { field: 'training_provider_id', when: { owner_type: 'training provider' } },
  ],
  fieldChecks: { currency_code: (v) => (isCurrencyCode(v) ? null : 'is not an ISO 4217 currency') },
  hooks: {
    validate: (h) => h.services.commerce.orderValidate(h),
    after: (h) => h.services.commerce.orderAfter(h),
  },
  indexes: [{ unique: true, fields: ['number'] }],
  search: {
    ids: search.ids(),
    number: search.anyOf('number'),
    status: search.anyOf('status'),
    owner_type: search.anyOf('owner_type'),
    contact_id: search.anyOf('contact_id'),
    organization_id: search.anyOf('organization_id'),
    training_provider_id: search.anyOf('training_provider_id'),
    program_id: search.anyOf('program_id'),
    coupon_id: search.anyOf('coupon_id'),
    currency_code: search.anyOf('currency_code'),
    date: search.range('date'),
  },
  lookups: [
    { segment: 'contact', field: 'contact_id', summary: "List a contact's orders" },
    { segment: 'organization', field: 'organization_id', summary: "List an organization's orders" },
    { segment: 'trainingProvider', field: 'training_provider_id', summary: "List a training provider's orders" },
    { segment: 'application', field: 'application_id', summary: 'List the orders of an application' },
    { segment: 'courseRegistration', field: 'course_registration_id', summary: 'List the orders of a course registration' },
    { segment: 'examRegistration', field: 'exam_registration_id', summary: 'List the orders of an exam registration' },
    { segment: 'invoice', field: 'invoice_id', summary: 'List the orders of an invoice' },
    { segment: 'coupon', field: 'coupon_id', summary: 'List the orders that redeemed a coupon' },
  ],
  actions: [
    {
      name: 'applyCoupon',
      method: 'POST',
      path: 'applyCoupon/:id',
      summary: 'Apply a coupon code to an unpaid order: the order is priced again with it',
      description:
        'Body `{ "coupon_code": "…" }`. The coupon must be active, inside its dates, apply to one of the order\'s fees and be under its usage limits (per coupon and per holder); otherwise a 422 naming coupon_code says why. An order with payments, or cancelled or void, is a 409.',
      response: { $ref: 'Order#' } as never,
      handler: (s, ctx, { params, body }) => s.commerce.applyCoupon(ctx, params.id!, body),
    },
  ],
  description: [
    'Amounts (unit_amount, amount, discount, subtotal, discount_total, total, amount_paid, balance_due) are integers in minor units of currency_code (cents); the totals are computed from the lines and the payments.',
    'Orders are made by generateOrder (applications, course and exam registrations), by billing runs (training-provider invoices) or by staff (POST with lines). Payments (the payments resource) pay them.',
  ],
});
