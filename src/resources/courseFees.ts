import { defineResource, search } from './kit/define.js';
import { anyObject, bool, dateTime, designed, int, list, num, obj, oneOf, ref, req, str } from './kit/fields.js';

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

const emailMessage = () =>
  obj({
    from: str(),
    from_name: str(),
    reply_to: str(),
    cc: str(),
    bcc: str(),
    subject: req(str()),
    body: req(str()),
  });

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
  coverage: 'partial (reference, product base partly from the sibling Fees schema); nested shapes of the e-mail, purchase limits, bulk pricing and the two unnamed arrays designed',
  fields: {
    course_id: req(ref('courses')),
    type: oneOf(['certifications-course-fees']),
    name: req(str()),
    business_unit_id: req(ref('external:businessUnits')),
    price: req(num()),
    member_price: num(),
    enable_product_confirmation_email: bool(),
    product_confirmation_email_options: designed(
      obj({ product_confirmation_email: req(emailMessage()) }),
      'sub-fields not visible: the e-mail sent on purchase, in the shared e-mail shape',
    ),
    enable_cancellation_fees: bool(),
    cancellation_fee: num(),
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
    installment_plan_options: list(
      obj({
        installment_plan_id: ref('external:installmentPlans'),
        additional_cost: num(),
        is_default: bool(),
      }),
    ),
    foreign_currency_prices: list(
      obj({
        currency_code: str({ description: 'ISO 4217' }),
        price: num(),
        member_price: num(),
        cancellation_fee: num(),
        restocking_fee: num(),
      }),
    ),
    is_active: bool(),
    enable_bundled_products: bool(),
    bundled_products: list(
      obj({
        type: req(oneOf(['bundled product'])),
        product_type: req(str()),
        product_id: req(str()),
        quantity: req(int()),
      }),
      { nonEmpty: true },
    ),
    bundled_products_inventory_handling: oneOf(['bundle', 'each product']),
    publish_to_portal: bool(),
    portal_options: obj({ available_from: dateTime(), available_until: dateTime() }),
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
  notes: [
    'A course fee is a sellable product tied to one course; type is the constant product-type discriminator certifications-course-fees.',
    'Course offerings point at their fee through fee_id: the fee chosen on the offering is what a course registration order charges.',
    'price applies to everyone, member_price to active members; foreign_currency_prices override the amounts per currency.',
    'Required only when switched on: product_confirmation_email_options, purchase_limits, bulk_pricing_rules, purchasing_eligibility_criteria, bundled_products (each by its enable_* flag).',
    'purchasing_eligibility_criteria onward is the sibling Fees product base as the catalog carried it over; refs on member types, member packages and installment plans are taken from Fees.',
    'Designed: the inner shapes of product_confirmation_email_options, purchase_limits and bulk pricing rules, and the names task_generation_rules / document_entitlements for the two unnamed arrays.',
    'A public online-store route like examFees\' may exist but was not seen.',
  ],
});
