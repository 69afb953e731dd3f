import { defineResource, search } from './kit/define.js';
import { bool, designed, list, num, obj, ref, req, str } from './kit/fields.js';
import { checkoutSwitches, fieldVisibility } from './blocks.js';
import { LOGO_MAX_BYTES, LOGO_MAX_LENGTH, LOGO_MAX_SIDE, LOGO_PATTERN, logoProblem } from '../domain/registry/logo.js';

/**
 * Settings: the Certifications app's storefront and checkout configuration, one record per tenant:
 * the business unit sales post to, the merchant and bank accounts that receive payments, which payment
 * options checkout offers, the donation prompt, and the products used for restocking and cancellation
 * fees. The first 14 fields are from the reference; the rest from the identical Awards settings schema.
 *
 * Our choices where the reference is ambiguous:
 * - One record per tenant (singleton): the real API addresses it without an id, so GET/PUT/PATCH
 *   /settings/{tenantId} read and change it; its id is the tenant id and a second create is a 409.
 *   Only admin tokens may change it (adminOnlyWrites).
 * - checkout_donation_options is marked required but only matters when donations are on; it is
 *   required only when enable_donations_at_checkout is true.
 * - bill_my_parent_organization_options shows no sub-fields; we give it the shape of
 *   bill_my_organization_options, the form it configures being the same.
 */
const billingForm = () =>
  obj({
    billing_address: fieldVisibility(),
    purchase_order_number: fieldVisibility(),
    reference_number: str(),
  });

export const settings = defineResource({
  slug: 'settings',
  name: 'Settings',
  singular: 'settings record',
  typeName: 'Setting',
  table: 'settings',
  singleton: true,
  adminOnlyWrites: true,
  coverage: 'partial (reference + identical Awards settings schema); parent-organization options and donation amounts designed',
  fields: {
    business_unit_id: req(ref('external:businessUnits')),
    merchant_account_id: req(ref('external:merchantAccounts')),
    bank_account_id: req(ref('external:bankAccounts')),
    ...checkoutSwitches(),
    restocking_fee_product_id: ref('external:products'),
    cancellation_fee_product_id: ref('external:products'),
    special_instructions: str(),
    currency_code: designed(
      str({
        pattern: '^[A-Z]{3}$',
        description: "ISO 4217: the currency of the tenant's prices (price, member_price) and its orders; default USD",
      }),
      'issue 20: fee prices carry no currency in the catalog; foreign_currency_prices name theirs',
    ),
    board_name: designed(
      str({
        maxLength: 200,
        description: "the certifying board's name, printed on PDF certificates and the public registry pages (default: the tenant id)",
      }),
      'issue 22: certificates and registry pages name the board',
    ),
    board_logo: designed(
      str({
        maxLength: LOGO_MAX_LENGTH,
        pattern: LOGO_PATTERN,
        // one blue pixel
        examples: [
          'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4AWPg9u/6DwADMQHkwFU9wgAAAABJRU5ErkJggg==',
        ],
        description: `the board's logo, drawn at the top of PDF certificates: a data: URL of a PNG or JPEG in base64 (data:image/png;base64,…), at most ${LOGO_MAX_BYTES / 1024} KB and ${LOGO_MAX_SIDE} pixels a side; checked to decode as the type it names (a PNG not interlaced)`,
      }),
      "issue 22: certificates carry the board's logo from settings; a data URL, so that nothing is fetched",
    ),
    allow_customer_to_choose_installment_plan: bool(),
    bill_my_organization_options: billingForm(),
    bill_my_parent_organization_options: designed(billingForm(), 'no sub-fields visible; same form as bill_my_organization_options'),
    // Required in the reference; we require it only when enable_donations_at_checkout is true.
    checkout_donation_options: obj({
      simple_checkout_donation_options: obj({
        allow_user_to_specify_custom_amount: bool(),
        donation_ask_text: str(),
        donation_denominations: designed(list(num({ minimum: 0 })), 'items not described; read as the suggested amounts'),
        donation_information: str(),
      }),
    }),
  },
  conditionalRequired: [{ field: 'checkout_donation_options', when: { enable_donations_at_checkout: true } }],
  fieldChecks: { board_logo: logoProblem },
  search: {
    ids: search.ids(),
    business_unit_id: search.anyOf('business_unit_id'),
  },
  description: [
    'One record per tenant (a singleton): the real API reads and patches it at /settings/{tenantId} without an id; we serve it as a singleton: its id is the tenant id, a second create is a 409, and GET/PUT/PATCH /settings/{tenantId} read and change it (the id routes work too).',
    'bill_my_organization_options: the billing address and PO number of the "bill my organization" form can each be hidden, optional or required; bill_my_parent_organization_options (no sub-fields visible) takes the same shape.',
    'checkout_donation_options is required only when enable_donations_at_checkout is true; donation_denominations are read as suggested amounts (numbers).',
  ],
});
