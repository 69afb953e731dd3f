import { defineResource, search } from './kit/define.js';
import { bool, BOUNDS, designed, list, num, oneOf, ref, req, str } from './kit/fields.js';
import {
  bulkPricingRule,
  bundledProduct,
  customFieldValues,
  foreignCurrencyPrice,
  installmentPlanOption,
  portalOptions,
  purchasingEligibilityCriteria,
} from './blocks.js';

/**
 * Application Fees: the product charged when an application is submitted (price, member price,
 * installments, bundles, who may buy it). The reference shows only allow_customer_to_choose_installment_plan
 * and bulk_pricing_rules; the rest is the product base the API's Fees and Course Fees share, carried
 * over and marked designed.
 *
 * Our choices where the reference is silent:
 * - The product base (name, business unit, prices, cancellation fee, purchasing eligibility,
 *   installments, foreign currency prices, bundles, portal window, notes, custom fields) is copied from
 *   the sibling Fees schema; `type` follows its constant (certifications-application-fees).
 * - bulk_pricing_rules is flagged required in the reference; like Course Fees we read it as required
 *   only when enable_bulk_pricing is true. Its items' fields were not visible: we designed a quantity
 *   tier (minimum/maximum quantity, price, member price).
 * - Each enable_* block is required only when its flag is true (conditionalRequired below).
 * - program_id (designed) says which program's applications the fee is for, as course fees point at a
 *   course and exam fees at an exam.
 */
const PRODUCT_BLOCKS = {
  enable_bulk_pricing: 'bulk_pricing_rules',
  enable_purchasing_eligibility: 'purchasing_eligibility_criteria',
  enable_bundled_products: 'bundled_products',
} as const;

const base = 'product base shared with Fees and Course Fees (not visible for application fees)';

export const applicationFees = defineResource({
  slug: 'applicationFees',
  name: 'Application Fees',
  singular: 'application fee',
  typeName: 'ApplicationFee',
  table: 'application_fees',
  coverage: 'partial (reference: 2 fields); product base designed from the sibling Fees schema, program_id designed',
  fields: {
    type: designed(
      oneOf(['certifications-application-fees']),
      'product-type constant, as certifications-fees / certifications-course-fees',
    ),
    name: designed(req(str()), base),
    program_id: designed(ref('programs'), 'the program whose applications this fee is charged for'),
    business_unit_id: designed(req(ref('external:businessUnits')), base),
    price: designed(req(num(BOUNDS.money)), base),
    member_price: designed(num(BOUNDS.money), base),
    enable_cancellation_fees: designed(bool(), base),
    cancellation_fee: designed(num(BOUNDS.money), base),
    enable_bulk_pricing: designed(bool(), 'switch of bulk_pricing_rules, as on Course Fees'),
    bulk_pricing_rules: list(designed(bulkPricingRule(), 'item fields not visible: a quantity price tier'), { nonEmpty: true }),
    enable_purchasing_eligibility: designed(bool(), base),
    purchasing_eligibility_criteria: designed(purchasingEligibilityCriteria(), base),
    allow_customer_to_choose_installment_plan: bool(),
    installment_plan_options: designed(list(installmentPlanOption()), base),
    foreign_currency_prices: designed(list(foreignCurrencyPrice()), base),
    is_active: designed(bool(), base),
    enable_bundled_products: designed(bool(), base),
    bundled_products: designed(list(bundledProduct(), { nonEmpty: true }), base),
    bundled_products_inventory_handling: designed(oneOf(['bundle', 'each product']), base),
    publish_to_portal: designed(bool(), base),
    portal_options: designed(portalOptions(), base),
    notes: designed(str(), base),
    custom_field_values: designed(customFieldValues(), base),
  },
  // Each product block is required only when its enable_* flag is on.
  conditionalRequired: Object.entries(PRODUCT_BLOCKS).map(([flag, field]) => ({ field, when: { [flag]: true } })),
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    program_id: search.anyOf('program_id'),
    is_active: search.anyOf('is_active'),
    publish_to_portal: search.anyOf('publish_to_portal'),
  },
  lookups: [{ segment: 'program', field: 'program_id', summary: 'List the application fees of a program' }],
  description: [
    'bulk_pricing_rules, purchasing_eligibility_criteria and bundled_products are required only when enable_bulk_pricing / enable_purchasing_eligibility / enable_bundled_products is true; enable_bulk_pricing itself is taken from Course Fees.',
    'price applies to everyone, member_price to active members; foreign_currency_prices override the amounts per currency.',
  ],
});
