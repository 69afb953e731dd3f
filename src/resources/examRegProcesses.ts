import { defineResource, search } from './kit/define.js';
import { bool, designed, list, num, oneOf, ref, req, str } from './kit/fields.js';
import { Type } from '@sinclair/typebox';
import { checkoutSettings, contactFormOptions, customFieldValues, emailMessage } from './blocks.js';

/**
 * Exam Reg Processes: a configured path (portal or staff console) for creating exam registrations:
 * "register" for a first sitting, "retest" for a retake (the offering's retest fee applies), limited
 * to some exams, with a registration form, an optional contact form, checkout settings that override
 * the defaults and a confirmation e-mail. Partial in the reference: the top-level list is near
 * complete; the sub-fields of contact_form_options, checkout_settings and confirmation_email were not
 * visible.
 *
 * Our choices where the reference is ambiguous:
 * - exam_ids, contact_form_options, checkout_settings and confirmation_email are marked required in
 *   the reference although each belongs to a toggle; each is required only when its toggle is on
 *   (conditionalRequired below): restrict_exams, show_contact_form, override_checkout_settings,
 *   enable_confirmation_email.
 * - The three objects take the shapes Course Reg Processes shows (same product family); checkout
 *   settings were cut there too, so later properties are accepted as sent.
 * - The search body is not in the reference; ours is designed.
 */
export const examRegProcesses = defineResource({
  actions: [
    {
      name: 'eligible',
      method: 'GET',
      path: 'eligible/:contactId/:examId',
      summary: 'The exam reg processes a contact may use now for an exam (register, retest or none), with their last registration',
      description:
        'register for a first attempt (or after cancelled ones only); retest after a failed or no-show attempt; none while a registration for the exam is open (draft, registered) or once it is passed. offerings lists the active sittings of the exam with the fee that applies (retest_fee_id for a retest) and the seats left.',
      response: Type.Object(
        {
          contact_id: Type.String(),
          exam_id: Type.String(),
          eligible: Type.Boolean(),
          type: Type.Union([Type.Literal('register'), Type.Literal('retest'), Type.Null()]),
          reason: Type.String(),
          processes: Type.Array(Type.Object({}, { additionalProperties: true })),
          offerings: Type.Array(Type.Object({}, { additionalProperties: true })),
          last_registration: Type.Optional(Type.Object({}, { additionalProperties: true })),
        },
        { additionalProperties: true },
      ),
      handler: (s, ctx, { params }) => s.learning.eligible(ctx, params.contactId!, params.examId!),
    },
  ],
  slug: 'examRegProcesses',
  name: 'Exam Reg Processes',
  singular: 'exam reg process',
  typeName: 'ExamRegProcess',
  table: 'exam_reg_processes',
  coverage: 'partial (reference: top level); object sub-fields from Course Reg Processes, toggle-bound requirements and search designed',
  fields: {
    name: req(str()),
    display_in_portal_as: str(),
    description: str(),
    type: req(oneOf(['register', 'retest'])),
    display_order: num(),
    restrict_exams: bool(),
    // Required in the reference; only meaningful when restrict_exams is true (conditionalRequired).
    exam_ids: list(ref('exams'), { nonEmpty: true }),
    show_contact_form: bool(),
    // Required in the reference; only when show_contact_form is true (conditionalRequired).
    contact_form_options: designed(
      contactFormOptions(),
      'sub-fields not visible here; the shape Course Reg Processes shows',
    ),
    available_to_training_providers: bool(),
    form_id: ref('external:forms', { pattern: '^certifications-exam-registrations__.*' }),
    is_active: bool(),
    custom_field_values: customFieldValues({ plainId: true }),
    available_in_portal: bool(),
    override_checkout_settings: bool(),
    // Required in the reference; only when override_checkout_settings is true (conditionalRequired).
    checkout_settings: designed(
      checkoutSettings({
        creditCardMode: 'sample value "enabled" (Course Reg Processes)',
        description: 'point-of-checkout settings; sub-fields not visible here, shape of Course Reg Processes (itself cut), later properties accepted as sent',
      }),
      'sub-fields not visible here; the shape Course Reg Processes shows',
    ),
    enable_confirmation_email: bool(),
    // Required in the reference; only when enable_confirmation_email is true (conditionalRequired).
    confirmation_email: designed(emailMessage('subject first'), 'sub-fields not visible here; the API\'s shared e-mail object'),
  },
  conditionalRequired: [
    { field: 'exam_ids', when: { restrict_exams: true } },
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
  notes: [
    'A process creates exam registrations: type "register" is a first sitting, "retest" a retake (the offering\'s retest_fee_id applies). restrict_exams + exam_ids limit it to some exams.',
    'form_id must name a form of the exam-registrations family (pattern ^certifications-exam-registrations__).',
    'exam_ids, contact_form_options, checkout_settings and confirmation_email are required in the reference; we require each only when its toggle is true.',
    'Sub-fields of contact_form_options, checkout_settings and confirmation_email are not visible here; we use the shapes of Course Reg Processes and the shared e-mail object. The reference describes checkout settings covering installment plans, default bank account, cancellation-fee product, card min/max amounts, card processing fees, saved cards, billing the organization or its parent, donations, e-checks, pay later, payroll deduction and split payments; names past the visible cut are accepted as sent.',
    'The reference text of available_in_portal reads as the inverse of its name; its meaning is unverified.',
    'GET /examRegProcesses/{tenantId}/eligible/{contactId}/{examId}: the processes a contact may use now for an exam (type register for a first attempt, retest after a failed or no-show one, none while a registration is open or after a pass), their last registration, and the active offerings with the fee that applies (retest_fee_id for a retest) and seats left. Designed answer: { contact_id, exam_id, eligible, type, reason, processes, offerings, last_registration }.',
    'Search body designed.',
  ],
});
