import { defineResource, search } from './kit/define.js';
import { anyObject, bool, dateTime, designed, int, list, num, obj, oneOf, ref, req, str } from './kit/fields.js';

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
/** Arrays of ids; the reference names the target for a few only (member types and packages, programs). */
const ids = (slug: string) => list(ref(slug));

const customFieldValue = obj({
  custom_field_id: ref('external:customFields'),
  string_value: str(),
  numeric_value: num(),
  boolean_value: bool(),
  file_url_value: str(),
  list_value: list(str()),
  table_value: list(anyObject()),
});

const purchasingEligibilityCriteria = obj({
  customer_type: str({ description: 'who may buy; values seen: contact (organization likely too)' }),
  members: bool(),
  non_members: bool(),
  member_options: obj({
    member_type_ids: ids('external:memberTypes'),
    member_package_ids: ids('external:memberPackages'),
    member_statuses: list(str({ description: 'membership status; values seen: active' })),
    member_status_reason_ids: list(str()),
    section_members: bool(),
    section_member_options: obj({
      section_ids: list(str()),
      section_type_ids: list(str()),
    }),
    chapter_members: bool(),
    chapter_member_options: obj({
      chapter_ids: list(str()),
      chapter_type_ids: list(str()),
    }),
  }),
  committee_members: bool(),
  committee_member_options: obj({
    committee_ids: list(str()),
    committee_type_ids: list(str()),
    committee_position_ids: list(str()),
  }),
  certificants: bool(),
  certification_options: obj({
    program_ids: ids('programs'),
  }),
  minimum_age: num(),
  maximum_age: num(),
});

const installmentPlanOption = obj({
  installment_plan_id: ref('external:installmentPlans'),
  additional_cost: num(),
  is_default: bool(),
});

const foreignCurrencyPrice = obj({
  currency_code: designed(str({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code, e.g. AED' }), 'enum only partly visible; held to the ISO 4217 shape'),
  price: num(),
  member_price: num(),
  cancellation_fee: num(),
  restocking_fee: num(),
});

const bundledProduct = obj({
  type: req(oneOf(['bundled product'])),
  product_type: req(str()),
  product_id: req(str()),
  quantity: req(int()),
});

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
    price: req(num()),
    member_price: num(),
    enable_cancellation_fees: bool(),
    cancellation_fee: num(),
    enable_purchasing_eligibility: bool(),
    // Required in the reference; we require it only when enable_purchasing_eligibility is true.
    purchasing_eligibility_criteria: purchasingEligibilityCriteria,
    allow_customer_to_choose_installment_plan: bool(),
    enable_bundled_products: bool(),
    // Required and non-empty in the reference; we require it only when allow_customer_to_choose_installment_plan is true.
    installment_plan_options: list(installmentPlanOption, { nonEmpty: true }),
    foreign_currency_prices: list(foreignCurrencyPrice),
    is_active: bool(),
    // Required and non-empty in the reference; we require it only when enable_bundled_products is true.
    bundled_products: list(bundledProduct, { nonEmpty: true }),
    bundled_products_inventory_handling: oneOf(['bundle', 'each product']),
    publish_to_portal: bool(),
    portal_options: obj({
      available_from: dateTime(),
      available_until: dateTime(),
    }),
    notes: str(),
    custom_field_values: list(customFieldValue),
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
  notes: [
    'type is the constant certifications-fees: a fee is a miscellaneous product of the Certifications app sold through commerce.',
    'price applies to everyone, member_price to active members; foreign_currency_prices override price, member price, cancellation and restocking fees per currency.',
    'Purchasing eligibility restricts buyers by customer type, membership (type, package, status, status reason, section or chapter), committee membership, certificants of given programs and an age window.',
    'purchasing_eligibility_criteria, installment_plan_options and bundled_products are required only when enable_purchasing_eligibility, allow_customer_to_choose_installment_plan and enable_bundled_products are true (the reference flags them always required).',
    'customer_type, member_statuses and currency_code are open strings: their enums were only partly visible (contact, active, AED); currency codes must look like ISO 4217.',
    'publish_to_portal with portal_options.available_from/available_until sets the self-service sale window.',
    'Search body designed (the reference shows none); no lookup route was seen and business units live outside this API, so none is served.',
  ],
});
