import { Type, type TSchema } from '@sinclair/typebox';
import { search, type ActionSpec, type ResourceDefinition } from './kit/define.js';
import { anyObject, BOUNDS, bool, dateTime, designed, int, list, num, obj, oneOf, ref, req, str } from './kit/fields.js';

/**
 * Blocks that several resource definitions share: the same concept with the same shape. Each builder
 * returns new schema objects on every call (definitions annotate them per use with req() and
 * designed()). Where the resources document a block differently (what their reference page showed),
 * the builder takes those annotations as arguments; where a resource's block has another shape (other
 * required flags, other property order, which is also the serialization order), it keeps its own.
 */

// ---------------------------------------------------------------------------------------------------
// Value lists

/** Certification statuses: certifications, statusReasons, notices, profiles. */
export const CERTIFICATION_STATUSES = ['active', 'inactive', 'suspended', 'retired'] as const;

/** The application lifecycle (with withdrawn and expired, unlike applicationNotices' list): applications, appStatusReasons. */
export const APPLICATION_STATUSES = [
  'draft',
  'missing requirements',
  'pending approval',
  'approved',
  'rejected',
  'activated',
  'withdrawn',
  'expired',
] as const;

/** Application types: applications, applicationProcesses, billingTemplates' application_types filters. */
export const APPLICATION_TYPES = ['certification', 'renewal', 'reinstatement', 'transfer'] as const;

/** Exam registration statuses: examRegistrations, examNotices' applicable_statuses. */
export const EXAM_REGISTRATION_STATUSES = ['cancelled', 'draft', 'failed', 'no show', 'passed', 'registered'] as const;

/** Where an exam is sat: examOfferings, examRegistrations. */
export const EXAM_LOCATIONS = ['training location', 'testing facility', 'none'] as const;

/** Commerce order statuses copied onto registrations: courseRegistrations, examRegistrations. */
export const ORDER_STATUSES = [
  'awaiting payment',
  'awaiting shipping',
  'awaiting pickup',
  'partially shipped',
  'shipped',
  'completed',
  'cancelled',
  'disputed',
  'open',
  'returned',
  'void',
] as const;

/** Anchors of the API's relative-date object: activityTypes (editing window), billingTemplates (expiration windows). */
export const RELATIVE_TO = [
  'the beginning of the month',
  'the beginning of the quarter',
  'the beginning of the week',
  'the beginning of the year',
  'the end of the month',
  'the end of the quarter',
  'the end of the week',
  'the end of the year',
  'the reference date',
] as const;

// ---------------------------------------------------------------------------------------------------
// Common record blocks

/**
 * Custom field values, the list most records carry (`custom_field_values`; 28 resources). custom_field_id
 * names an external custom field, except on courses, course instructors, offerings, reg processes and
 * registrations, credits, exams, exam fees, notices, offerings, reg processes and registrations, and
 * exam sites, which keep it a plain string (`{ plainId: true }`).
 */
export const customFieldValues = (opts: { plainId?: boolean } = {}) =>
  list(
    obj({
      custom_field_id: opts.plainId ? str() : ref('external:customFields'),
      string_value: str(),
      numeric_value: num(),
      boolean_value: bool(),
      file_url_value: str(),
      list_value: list(str()),
      table_value: list(anyObject()),
    }),
  );

/**
 * The shared Rhythm address: courseOfferings, examOfferings, examSites (country checked as an ISO
 * 3166-1 alpha-2 code: `{ checkCountry: true }`), testingFacilities, trainingLocations (country open).
 */
export const address = (opts: { checkCountry?: boolean } = {}) =>
  obj({
    line1: str(),
    line2: str(),
    line3: str(),
    city: str(),
    state: str(),
    postal_code: str(),
    county: str(),
    country: str({ ...(opts.checkCountry ? { pattern: '^[A-Z]{2}$' } : {}), description: 'ISO 3166-1 alpha-2 code' }),
    country_name: str(),
    latitude: num(BOUNDS.latitude),
    longitude: num(BOUNDS.longitude),
    time_zone_id: str(),
  });

/**
 * The API's shared e-mail shape (subject and body required): application, exam and certification
 * notices, application and reference processes, course fees' confirmation e-mail; the course and exam
 * reg processes list subject and body first (`'subject first'`), which their serialization keeps.
 */
export const emailMessage = (order: 'sender first' | 'subject first' = 'sender first') => {
  const sender = { from: str(), from_name: str(), reply_to: str(), cc: str(), bcc: str() };
  const content = { subject: req(str()), body: req(str()) };
  return obj(order === 'sender first' ? { ...sender, ...content } : { ...content, ...sender });
};

/**
 * The shared Rhythm eligibility criteria (seen whole up to age_restrictions on Directories), open after
 * the cut: courseOfferings and examOfferings (eligibility_requirements), directories (eligibility_criteria).
 * Each resource documents it from its own page, so the descriptions are passed in; `ageRestrictions`
 * is the designed() reason of age_restrictions where its sub-fields were not visible.
 */
export const eligibilityCriteria = (doc: {
  description: string;
  logicOperator: string;
  customerType?: string;
  memberStatuses?: string;
  ageRestrictions?: string;
}) => {
  const ids = () => list(str());
  const described = (description?: string) => (description ? { description } : {});
  const ageRestrictions = obj(
    { minimum_age: num({ min: 0 }), maximum_age: num({ min: 0 }) },
    { ordered: [['minimum_age', 'maximum_age']] },
  );
  return obj(
    {
      logic_operator: str({ description: doc.logicOperator }),
      customer_type: str(described(doc.customerType)),
      members: bool(),
      non_members: bool(),
      member_options: obj({
        member_type_ids: ids(),
        member_package_ids: ids(),
        member_statuses: list(str(), described(doc.memberStatuses)),
        member_status_reason_ids: ids(),
        section_members: bool(),
        section_member_options: obj({ logic_operator: str(), section_ids: ids(), section_type_ids: ids() }),
        chapter_members: bool(),
        chapter_member_options: obj({ logic_operator: str(), chapter_ids: ids(), chapter_type_ids: ids() }),
      }),
      committee_members: bool(),
      committee_member_options: obj({
        logic_operator: str(),
        committee_ids: ids(),
        committee_type_ids: ids(),
        committee_position_ids: ids(),
      }),
      certificants: bool(),
      certification_options: obj({ logic_operator: str(), program_ids: list(ref('programs')) }),
      enable_status_restriction: bool(),
      status_restrictions: list(str()),
      enable_organization_restrictions: bool(),
      organization_restrictions: obj({ organization_type_ids: ids(), contact_role_ids: ids() }),
      enable_age_restrictions: bool(),
      age_restrictions: doc.ageRestrictions ? designed(ageRestrictions, doc.ageRestrictions) : ageRestrictions,
    },
    { additionalProperties: true, description: doc.description },
  );
};

/** One credit-assignment rule (credit type, quantity, auto-verify): courses (defaults) and courseOfferings (override). */
export const creditToAssign = (automaticallyVerify?: string) =>
  obj({
    credit_type_id: ref('creditTypes'),
    quantity: num({ min: 0 }),
    automatically_verify: bool(automaticallyVerify ? { description: automaticallyVerify } : {}),
  });

/** Copies of a student's contact data on a registration: courseRegistrations, examRegistrations. */
export const studentCopies = () => ({
  first_name: str(),
  last_name: str(),
  name: req(str()),
  email_address: str(),
  city: str(),
  state: str(),
  country: str(),
  job_title: str(),
});

// ---------------------------------------------------------------------------------------------------
// The fee product base (fees, applicationFees, courseFees; examFees for the portal window)

/**
 * Who may buy the product: fees, applicationFees, courseFees. Fees documents customer_type and
 * member_statuses from its reference page; the other two carry the base over with their own note.
 */
export const purchasingEligibilityCriteria = (
  doc: { customerType: string; memberStatus?: string } = { customerType: 'e.g. contact (the full enum was not visible)' },
) => {
  const ids = (slug?: string) => list(slug ? ref(slug) : str());
  return obj(
    {
      customer_type: str({ description: doc.customerType }),
      members: bool(),
      non_members: bool(),
      member_options: obj({
        member_type_ids: ids('external:memberTypes'),
        member_package_ids: ids('external:memberPackages'),
        member_statuses: list(str(doc.memberStatus ? { description: doc.memberStatus } : {})),
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
      minimum_age: num({ min: 0 }),
      maximum_age: num({ min: 0 }),
    },
    { ordered: [['minimum_age', 'maximum_age']] },
  );
};

/** An installment plan the buyer may choose: fees, applicationFees, courseFees. */
export const installmentPlanOption = () =>
  obj({
    installment_plan_id: ref('external:installmentPlans'),
    additional_cost: num(BOUNDS.money),
    is_default: bool(),
  });

/** Amounts overridden in another currency: fees (currency code held to ISO 4217, passed in), applicationFees, courseFees. */
export const foreignCurrencyPrice = (currencyCode: TSchema = str({ description: 'ISO 4217' })) =>
  obj({
    currency_code: currencyCode,
    price: num(BOUNDS.money),
    member_price: num(BOUNDS.money),
    cancellation_fee: num(BOUNDS.money),
    restocking_fee: num(BOUNDS.money),
  });

/** A product sold together with the fee: fees, applicationFees, courseFees. */
export const bundledProduct = () =>
  obj({
    type: req(oneOf(['bundled product'])),
    product_type: req(str()),
    product_id: req(str()),
    quantity: req(int({ min: 1 })),
  });

/** A bulk-pricing quantity tier (designed): applicationFees, courseFees. */
export const bulkPricingRule = () =>
  obj(
    {
      minimum_quantity: req(int({ min: 1 })),
      maximum_quantity: int({ min: 1 }),
      price: req(num(BOUNDS.money)),
      member_price: num(BOUNDS.money),
    },
    { ordered: [['minimum_quantity', 'maximum_quantity']] },
  );

/** The portal sale window (with publish_to_portal): fees, applicationFees, courseFees, examFees. */
export const portalOptions = () =>
  obj({ available_from: dateTime(), available_until: dateTime() }, { ordered: [['available_from', 'available_until']] });

// ---------------------------------------------------------------------------------------------------
// Checkout and registration processes

/** Whether a checkout field is shown: the billing forms of settings and of the reg processes' checkout_settings. */
export const fieldVisibility = () => oneOf(['do not show', 'optional', 'required']);

/** The payment options checkout offers: settings, and checkout_settings of courseRegProcesses and examRegProcesses. */
export const checkoutSwitches = () => ({
  enable_split_payments: bool(),
  enable_electronic_checks: bool(),
  enable_payroll_deduction: bool(),
  enable_pay_later: bool(),
  enable_bill_my_organization: bool(),
  enable_bill_my_parent_organization: bool(),
  use_pro_forma_invoices: bool(),
  enable_donations_at_checkout: bool(),
});

/**
 * Point-of-checkout settings a reg process can override, open after the reference's cut:
 * courseRegProcesses, examRegProcesses (each documents credit_card_mode and the block from its own page).
 */
export const checkoutSettings = (doc: { creditCardMode: string; description: string }) => {
  const billingOptions = () =>
    obj({
      reference_number: str(),
      purchase_order_number: fieldVisibility(),
      billing_address: fieldVisibility(),
    });
  return obj(
    {
      business_unit_id: ref('external:businessUnits'),
      merchant_account_id: str(),
      bank_account_id: str(),
      ...checkoutSwitches(),
      restocking_fee_product_id: str(),
      cancellation_fee_product_id: str(),
      special_instructions: str(),
      pay_later_options: billingOptions(),
      bill_my_organization_options: billingOptions(),
      bill_my_parent_organization_options: billingOptions(),
      credit_card_mode: str({ description: doc.creditCardMode }),
      credit_card_minimum_range_start: num(BOUNDS.money),
      credit_card_minimum_range_end: num(BOUNDS.money),
    },
    {
      additionalProperties: true,
      description: doc.description,
      ordered: [['credit_card_minimum_range_start', 'credit_card_minimum_range_end']],
    },
  );
};

/** The contact form a reg process may show: courseRegProcesses, examRegProcesses. */
export const contactFormOptions = () => obj({ contact_form_id: str(), html: str() });

/**
 * What Course and Exam Reg Processes share: a portal or console path for registering, limited by a
 * toggle to some items (`restrict`: the toggle and the id list), with a registration form, an
 * optional contact form, checkout settings that replace the defaults and a confirmation e-mail. The
 * reference marks the item list, contact_form_options, checkout_settings and confirmation_email
 * required although each belongs to a toggle: each is required only when its toggle is on. `form`
 * holds the resource's fields between contact_form_options and is_active, in its order (which is
 * also the serialization order).
 */
export function registrationProcess(o: {
  types: readonly string[];
  restrict: { toggle: string; ids: string; list: TSchema };
  contactFormOptions: TSchema;
  form: Record<string, TSchema>;
  checkoutSettings: TSchema;
  confirmationEmail: TSchema;
}): Pick<ResourceDefinition, 'fields' | 'conditionalRequired' | 'search'> {
  return {
    fields: {
      name: req(str()),
      display_in_portal_as: str(),
      description: str(),
      type: req(oneOf(o.types)),
      display_order: num(),
      [o.restrict.toggle]: bool(),
      [o.restrict.ids]: o.restrict.list,
      show_contact_form: bool(),
      contact_form_options: o.contactFormOptions,
      ...o.form,
      is_active: bool(),
      custom_field_values: customFieldValues({ plainId: true }),
      available_in_portal: bool(),
      override_checkout_settings: bool(),
      checkout_settings: o.checkoutSettings,
      enable_confirmation_email: bool(),
      confirmation_email: o.confirmationEmail,
    },
    conditionalRequired: [
      { field: o.restrict.ids, when: { [o.restrict.toggle]: true } },
      { field: 'contact_form_options', when: { show_contact_form: true } },
      { field: 'checkout_settings', when: { override_checkout_settings: true } },
      { field: 'confirmation_email', when: { enable_confirmation_email: true } },
    ],
    search: {
      ids: search.ids(),
      name: search.contains('name'),
      type: search.anyOf('type'),
      is_active: search.anyOf('is_active'),
      available_in_portal: search.anyOf('available_in_portal'),
      available_to_training_providers: search.anyOf('available_to_training_providers'),
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Billing runs and templates

/** How a candidate filter list applies (none, include, exclude): billingRuns, billingTemplates. */
export const restriction = () => oneOf(['exclude', 'include', 'none']);

/** The status-reason filter of a billing options block (Status Reasons or App Status Reasons): billingRuns, billingTemplates. */
export const statusReasonFilter = (slug: 'statusReasons' | 'appStatusReasons') => ({
  restrict_status_reasons: bool(),
  status_reason_ids: list(ref(slug), { nonEmpty: true }),
});

/** `GET /<offerings>/{tenantId}/seats/{id}`: capacity, taken (not cancelled), left, open for registration now. */
export function seatsAction(slug: 'courseOfferings' | 'examOfferings', label: string): ActionSpec {
  return {
    name: 'seats',
    method: 'GET',
    path: 'seats/:id',
    summary: `Seats of the ${label}: capacity, taken (registrations not cancelled), left, and whether it takes registrations now`,
    response: Type.Object(
      {
        id: Type.String(),
        taken: Type.Integer(),
        capacity: Type.Optional(Type.Number()),
        seats_left: Type.Optional(Type.Integer()),
        open_for_registration: Type.Boolean(),
        reason: Type.Optional(Type.String()),
      },
      { additionalProperties: false },
    ),
    handler: (s, ctx, { params }) => s.learning.seats(ctx, slug, params.id!),
  };
}

// ---------------------------------------------------------------------------------------------------
// Background executions

/**
 * An execution as GET /executions/{tenantId}/{executionArn} shows it (http/executions.ts); a billing
 * run's list of its executions adds who started each (`extra`).
 */
export const executionView = (title: string, extra: Record<string, TSchema> = {}) =>
  Type.Object(
    {
      executionArn: Type.String(),
      resource: Type.String(),
      record_id: Type.String(),
      action: Type.String({ description: 'refresh or execute' }),
      status: Type.Union([Type.Literal('RUNNING'), Type.Literal('SUCCEEDED'), Type.Literal('FAILED')]),
      start_date: Type.String({ format: 'date-time' }),
      stop_date: Type.Optional(Type.String({ format: 'date-time' })),
      progress: Type.Object({ done: Type.Integer(), total: Type.Integer() }),
      error: Type.Optional(Type.String()),
      output: Type.Optional(Type.Unknown()),
      ...extra,
    },
    { title },
  );
