import { defineResource, search } from './kit/define.js';
import { bool, BOUNDS, designed, list, num, oneOf, ref, req, str } from './kit/fields.js';
import {
  bundledProduct,
  customFieldValues,
  foreignCurrencyPrice,
  installmentPlanOption,
  portalOptions,
  purchasingEligibilityCriteria,
} from './blocks.js';

/**
 * Fees: a generic certification "miscellaneous product" sold through Rhythm commerce (price for
 * everyone, member price for active members), with purchasing eligibility, installment plans,
 * bundled products, per-currency prices and a portal sale window. Fields, types and required flags are
 * from the reference (near complete).
 *
 * Our choices where the reference is ambiguous:
 * - purchasing_eligibility_criteria, installment_plan_options and bundled_products are marked required
 *   in the reference although each only matters when its switch is on; each is required only when its
 *   flag is true (conditionalRequired below), like the options blocks of Billing Runs.
 * - customer_type, member_statuses and currency_code have only partly visible enums (contact, active,
 *   AED): we keep them open strings rather than reject values we have not seen; currency codes are held
 *   to the ISO 4217 shape (three capital letters).
 * - The search body is not in the reference; ours filters on what a fee list screen filters by.
 */
export const fees = defineResource({
  slug: 'fees',
  name: 'Fees',
  singular: 'fee',
  typeName: 'Fee',
  table: 'fees',
  coverage: 'fields near complete (reference); partial enums left open, conditional requirements and search body designed',
  fields: {
    type: oneOf(['certifications-fees']),
    name: req(str()),
    business_unit_id: req(ref('external:businessUnits')),
    price: req(num(BOUNDS.money)),
    member_price: num(BOUNDS.money),
    enable_cancellation_fees: bool(),
    cancellation_fee: num(BOUNDS.money),
    enable_purchasing_eligibility: bool(),
    // Required in the reference; we require it only when enable_purchasing_eligibility is true.
    purchasing_eligibility_criteria: purchasingEligibilityCriteria({
      customerType: 'who may buy; values seen: contact (organization likely too)',
      memberStatus: 'membership status; values seen: active',
    }),
    allow_customer_to_choose_installment_plan: bool(),
    enable_bundled_products: bool(),
    // Required and non-empty in the reference; we require it only when allow_customer_to_choose_installment_plan is true.
    installment_plan_options: list(installmentPlanOption(), { nonEmpty: true }),
    foreign_currency_prices: list(
      foreignCurrencyPrice(
        designed(
          str({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code, e.g. AED' }),
          'enum only partly visible; held to the ISO 4217 shape',
        ),
      ),
    ),
    is_active: bool(),
    // Required and non-empty in the reference; we require it only when enable_bundled_products is true.
    bundled_products: list(bundledProduct(), { nonEmpty: true }),
    bundled_products_inventory_handling: oneOf(['bundle', 'each product']),
    publish_to_portal: bool(),
    portal_options: portalOptions(),
    notes: str(),
    custom_field_values: customFieldValues(),
  },
  conditionalRequired: [
    { field: 'purchasing_eligibility_criteria', when: { enable_purchasing_eligibility: true } },
    { field: 'installment_plan_options', when: { allow_customer_to_choose_installment_plan: true } },
    { field: 'bundled_products', when: { enable_bundled_products: true } },
  ],
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    business_unit_id: search.anyOf('business_unit_id'),
    is_active: search.anyOf('is_active'),
    publish_to_portal: search.anyOf('publish_to_portal'),
    enable_purchasing_eligibility: search.anyOf('enable_purchasing_eligibility'),
    enable_bundled_products: search.anyOf('enable_bundled_products'),
  },
  description: [
    'type is the constant certifications-fees: a fee is a miscellaneous product of the Certifications app sold through commerce.',
    'price applies to everyone, member_price to active members; foreign_currency_prices override price, member price, cancellation and restocking fees per currency.',
    'Purchasing eligibility restricts buyers by customer type, membership (type, package, status, status reason, section or chapter), committee membership, certificants of given programs and an age window.',
    'purchasing_eligibility_criteria, installment_plan_options and bundled_products are required only when enable_purchasing_eligibility, allow_customer_to_choose_installment_plan and enable_bundled_products are true.',
    'customer_type, member_statuses and currency_code are open strings: their enums were only partly visible (contact, active, AED); currency codes must look like ISO 4217.',
    'publish_to_portal with portal_options.available_from/available_until sets the self-service sale window.',
  ],
});
