import { defineResource, search } from './kit/define.js';
import { anyObject, bool, BOUNDS, designed, int, list, num, obj, oneOf, ref, req, str } from './kit/fields.js';
import {
  bulkPricingRule,
  bundledProduct,
  customFieldValues,
  emailMessage,
  foreignCurrencyPrice,
  installmentPlanOption,
  portalOptions,
  purchasingEligibilityCriteria,
} from './blocks.js';

/**
 * Course Fees: the product a course registration is charged (a "miscellaneous product" tied to one
 * course; course offerings choose their fee through fee_id). From the reference: course_id through
 * enable_purchasing_eligibility from the create body; purchasing_eligibility_criteria and everything
 * after it as the catalog carried it over from the sibling Fees schema (same product base).
 *
 * Our choices where the reference is ambiguous:
 * - The reference flags every enable_*'d block required (confirmation e-mail, purchase limits, bulk
 *   pricing, purchasing eligibility, bundled products); each is required only when its flag is true
 *   (conditionalRequired below), as a client must not invent options for a switched-off feature.
 * - The shapes of product_confirmation_email_options, purchase_limits and the bulk pricing rules were
 *   not visible; we designed them (the API's shared e-mail shape, per-order and per-customer limits,
 *   quantity price tiers).
 * - Two arrays of objects whose names were not visible sit after enable_task_generation and
 *   enable_document_entitlement_creation; we named them task_generation_rules and document_entitlements
 *   (free-form items) so a client can send them.
 */
/** Each feature switch and the block it turns on. */
const PRODUCT_BLOCKS = {
  enable_product_confirmation_email: 'product_confirmation_email_options',
  enable_purchase_limits: 'purchase_limits',
  enable_bulk_pricing: 'bulk_pricing_rules',
  enable_purchasing_eligibility: 'purchasing_eligibility_criteria',
  enable_bundled_products: 'bundled_products',
} as const;

export const courseFees = defineResource({
  slug: 'courseFees',
  name: 'Course Fees',
  singular: 'course fee',
  typeName: 'CourseFee',
  table: 'course_fees',
  idPattern: '^[\\w:|-]+$',
  coverage:
    'partial (reference, product base partly from the sibling Fees schema); nested shapes of the e-mail, purchase limits, bulk pricing and the two unnamed arrays designed',
  fields: {
    course_id: req(ref('courses')),
    type: oneOf(['certifications-course-fees']),
    name: req(str()),
    business_unit_id: req(ref('external:businessUnits')),
    price: req(num(BOUNDS.money)),
    member_price: num(BOUNDS.money),
    enable_product_confirmation_email: bool(),
    product_confirmation_email_options: designed(
      obj({ product_confirmation_email: req(emailMessage()) }),
      'sub-fields not visible: the e-mail sent on purchase, in the shared e-mail shape',
    ),
    enable_cancellation_fees: bool(),
    cancellation_fee: num(BOUNDS.money),
    enable_purchase_limits: bool(),
    purchase_limits: designed(
      obj({
        maximum_quantity_per_order: int({ minimum: 1 }),
        maximum_quantity_per_customer: int({ minimum: 1 }),
      }),
      'sub-fields not visible: how many a buyer may purchase',
    ),
    enable_task_generation: bool(),
    task_generation_rules: designed(list(anyObject()), 'array after enable_task_generation; name and item fields not visible'),
    enable_document_entitlement_creation: bool(),
    document_entitlements: designed(
      list(anyObject()),
      'array after enable_document_entitlement_creation; name and item fields not visible',
    ),
    enable_bulk_pricing: bool(),
    bulk_pricing_rules: list(designed(bulkPricingRule(), 'item fields not visible: a quantity price tier'), { nonEmpty: true }),
    enable_purchasing_eligibility: bool(),
    purchasing_eligibility_criteria: purchasingEligibilityCriteria(),
    allow_customer_to_choose_installment_plan: bool(),
    installment_plan_options: list(installmentPlanOption()),
    foreign_currency_prices: list(foreignCurrencyPrice()),
    is_active: bool(),
    enable_bundled_products: bool(),
    bundled_products: list(bundledProduct(), { nonEmpty: true }),
    bundled_products_inventory_handling: oneOf(['bundle', 'each product']),
    publish_to_portal: bool(),
    portal_options: portalOptions(),
    notes: str(),
    custom_field_values: customFieldValues(),
  },
  // Each feature block is required only when its enable_* flag is on.
  conditionalRequired: Object.entries(PRODUCT_BLOCKS).map(([flag, field]) => ({ field, when: { [flag]: true } })),
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    course_id: search.anyOf('course_id'),
    is_active: search.anyOf('is_active'),
    publish_to_portal: search.anyOf('publish_to_portal'),
  },
  lookups: [{ segment: 'course', field: 'course_id', summary: 'List the fees of a course' }],
  description: [
    'A course fee is a sellable product tied to one course; type is the constant product-type discriminator certifications-course-fees.',
    'Course offerings point at their fee through fee_id: the fee chosen on the offering is what a course registration order charges.',
    'price applies to everyone, member_price to active members; foreign_currency_prices override the amounts per currency.',
    'Required only when switched on: product_confirmation_email_options, purchase_limits, bulk_pricing_rules, purchasing_eligibility_criteria, bundled_products (each by its enable_* flag).',
  ],
});
