import { defineResource, search } from './kit/define.js';
import { bool, boundsWhen, BOUNDS, date, designed, int, list, num, obj, oneOf, ref, req, str } from './kit/fields.js';
import { customFieldValues } from './blocks.js';

/**
 * Coupons: a discount on certification-side purchases (application, course, exam and other fees sold
 * through the certifications checkout). The catalog's fields come from the coupons of sibling Rhythm
 * APIs (events, membership, commerce) and are unconfirmed for this one; the certification-specific
 * "apply to … fees" switches and their discount settings, whose names were not seen, are designed.
 *
 * Our choices:
 * - One switch and one discount block per kind of fee (application, course, exam, other fees); a
 *   block is required only when its switch is on (conditionalRequired below). A discount is a
 *   percentage or a fixed amount, optionally limited to some fee records.
 * - A code customers enter, a validity window and a usage cap are designed as the checkout needs them.
 */
/** How a kind of fee is discounted; fee ids empty = every fee of that kind. */
const feeDiscount = (feeIdsField: string, feeSlug: string, what: string) =>
  designed(
    // a percentage discount is 0 to 100; a fixed amount is any amount >= 0
    boundsWhen(
      obj({
        discount_type: req(oneOf(['percentage', 'fixed amount'])),
        amount: req(num({ min: 0, description: 'percent (0-100) or amount in the fee currency' })),
        [feeIdsField]: list(ref(feeSlug)),
      }),
      { discount_type: 'percentage' },
      'amount',
      BOUNDS.percent,
    ),
    `discount on ${what} (the certification-specific discount info; names not visible)`,
  );

const APPLY_TO = {
  apply_to_application_fees: 'application_fee_discount',
  apply_to_course_fees: 'course_fee_discount',
  apply_to_exam_fees: 'exam_fee_discount',
  apply_to_fees: 'fee_discount',
} as const;

export const coupons = defineResource({
  slug: 'coupons',
  name: 'Coupons',
  singular: 'coupon',
  typeName: 'Coupon',
  table: 'coupons',
  coverage: 'minimal (fields from sibling Rhythm coupon schemas, unconfirmed); code, validity, usage cap and per-fee discounts designed',
  fields: {
    name: req(str()),
    description: designed(str(), 'shown to staff and at checkout'),
    code: designed(str(), 'what a customer enters at checkout'),
    code_generation_html: str(),
    is_active: bool(),
    start_date: designed(date(), 'first day the coupon can be used'),
    end_date: designed(date(), 'last day the coupon can be used'),
    maximum_number_of_uses: designed(int({ minimum: 1 }), 'total redemptions allowed; absent = unlimited'),
    maximum_uses_per_holder: designed(int({ minimum: 1 }), 'redemptions allowed per contact or organization; absent = unlimited'),
    discount_method: oneOf(['discount line item', 'inline discount']),
    discount_product_id: ref('external:products', { description: 'product a discount line item is booked to' }),
    maximum_discount: num({ ...BOUNDS.money, description: 'cap on the total discount, whatever the configuration' }),
    apply_to_application_fees: designed(bool(), 'certification-specific switch (name not visible)'),
    application_fee_discount: feeDiscount('application_fee_ids', 'applicationFees', 'application fees'),
    apply_to_course_fees: designed(bool(), 'certification-specific switch (name not visible)'),
    course_fee_discount: feeDiscount('course_fee_ids', 'courseFees', 'course fees'),
    apply_to_exam_fees: designed(bool(), 'certification-specific switch (name not visible)'),
    exam_fee_discount: feeDiscount('exam_fee_ids', 'examFees', 'exam fees'),
    apply_to_fees: designed(bool(), 'certification-specific switch (name not visible)'),
    fee_discount: feeDiscount('fee_ids', 'fees', 'other certification fees'),
    custom_field_values: customFieldValues(),
  },
  // Each discount block is required only when its switch is on.
  conditionalRequired: Object.entries(APPLY_TO).map(([flag, field]) => ({ field, when: { [flag]: true } })),
  ordered: [['start_date', 'end_date']],
  // a code names one coupon: generateOrder and applyCoupon find it by code
  indexes: [{ unique: true, fields: ['code'], why: 'a coupon code names one coupon' }],
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    code: search.anyOf('code'),
    is_active: search.anyOf('is_active'),
    discount_method: search.anyOf('discount_method'),
    end_date: search.range('end_date'),
  },
  description: [
    'discount_method: a separate discount line item booked to discount_product_id, or inline on the discounted line; maximum_discount caps the total discount.',
  ],
});
