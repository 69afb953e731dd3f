import { defineResource, search } from './kit/define.js';
import { anyObject, bool, dateTime, designed, int, list, num, obj, oneOf, ref, req, str } from './kit/fields.js';

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
const customFieldValues = () =>
  list(
    obj({
      custom_field_id: ref('external:customFields'),
      string_value: str(),
      numeric_value: num(),
      boolean_value: bool(),
      file_url_value: str(),
      list_value: list(str()),
      table_value: list(anyObject()),
    }),
  );
const ids = (slug?: string) => list(slug ? ref(slug) : str());

/** Who may buy the product (the Fees product base). */
const purchasingEligibilityCriteria = () =>
  obj({
    customer_type: str({ description: 'e.g. contact (the full enum was not visible)' }),
    members: bool(),
    non_members: bool(),
    member_options: obj({
      member_type_ids: ids('external:memberTypes'),
      member_package_ids: ids('external:memberPackages'),
      member_statuses: ids(),
      member_status_reason_ids: ids(),
      section_members: bool(),
      section_member_options: obj({ section_ids: ids(), section_type_ids: ids() }),
      chapter_members: bool(),
      chapter_member_options: obj({ chapter_ids: ids(), chapter_type_ids: ids() }),
    }),
    committee_members: bool(),
    committee_member_options: obj({ committee_ids: ids(), committee_type_ids: ids(), committee_position_ids: ids() }),
    certificants: bool(),
    certification_options: obj({ program_ids: ids('programs') }),
    minimum_age: num(),
    maximum_age: num(),
  });

const bulkPricingRule = () =>
  obj({
    minimum_quantity: req(int({ minimum: 1 })),
    maximum_quantity: int({ minimum: 1 }),
    price: req(num()),
    member_price: num(),
  });

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
    type: designed(oneOf(['certifications-application-fees']), 'product-type constant, as certifications-fees / certifications-course-fees'),
    name: designed(req(str()), base),
    program_id: designed(ref('programs'), "the program whose applications this fee is charged for"),
    business_unit_id: designed(req(ref('external:businessUnits')), base),
    price: designed(req(num()), base),
    member_price: designed(num(), base),
    enable_cancellation_fees: designed(bool(), base),
    cancellation_fee: designed(num(), base),
    enable_bulk_pricing: designed(bool(), 'switch of bulk_pricing_rules, as on Course Fees'),
    bulk_pricing_rules: list(designed(bulkPricingRule(), 'item fields not visible: a quantity price tier'), { nonEmpty: true }),
    enable_purchasing_eligibility: designed(bool(), base),
    purchasing_eligibility_criteria: designed(purchasingEligibilityCriteria(), base),
    allow_customer_to_choose_installment_plan: bool(),
    installment_plan_options: designed(
      list(
        obj({
          installment_plan_id: ref('external:installmentPlans'),
          additional_cost: num(),
          is_default: bool(),
        }),
      ),
      base,
    ),
    foreign_currency_prices: designed(
      list(
        obj({
          currency_code: str({ description: 'ISO 4217' }),
          price: num(),
          member_price: num(),
          cancellation_fee: num(),
          restocking_fee: num(),
        }),
      ),
      base,
    ),
    is_active: designed(bool(), base),
    enable_bundled_products: designed(bool(), base),
    bundled_products: designed(
      list(
        obj({
          type: req(oneOf(['bundled product'])),
          product_type: req(str()),
          product_id: req(str()),
          quantity: req(int()),
        }),
        { nonEmpty: true },
      ),
      base,
    ),
    bundled_products_inventory_handling: designed(oneOf(['bundle', 'each product']), base),
    publish_to_portal: designed(bool(), base),
    portal_options: designed(obj({ available_from: dateTime(), available_until: dateTime() }), base),
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
  notes: [
    'Reference: the list route and the first two fields (allow_customer_to_choose_installment_plan, bulk_pricing_rules, required and non-empty). Create exists per its docs page id.',
    'The product base after them is carried over from the sibling Fees schema (the catalog says application fees very likely share it) and marked designed.',
    'bulk_pricing_rules, purchasing_eligibility_criteria and bundled_products are required only when enable_bulk_pricing / enable_purchasing_eligibility / enable_bundled_products is true; enable_bulk_pricing itself is taken from Course Fees.',
    'bulk_pricing_rules items were not visible: designed as quantity tiers (minimum_quantity required, optional maximum_quantity, price required, member_price).',
    'program_id is designed (application processes refer to their fee; the fee knows its program for listing).',
    'price applies to everyone, member_price to active members; foreign_currency_prices override the amounts per currency.',
  ],
});
