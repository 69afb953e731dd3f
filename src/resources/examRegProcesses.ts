import { defineResource } from './kit/define.js';
import { bool, designed, list, ref } from './kit/fields.js';
import { Type } from '@sinclair/typebox';
import { checkoutSettings, contactFormOptions, emailMessage, registrationProcess } from './blocks.js';

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
 *   (registrationProcess in blocks.ts): restrict_exams, show_contact_form, override_checkout_settings,
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
  ...registrationProcess({
    types: ['register', 'retest'],
    restrict: { toggle: 'restrict_exams', ids: 'exam_ids', list: list(ref('exams'), { nonEmpty: true }) },
    contactFormOptions: designed(contactFormOptions(), 'sub-fields not visible here; the shape Course Reg Processes shows'),
    form: {
      available_to_training_providers: bool(),
      form_id: ref('external:forms', { pattern: '^certifications-exam-registrations__.*' }),
    },
    checkoutSettings: designed(
      checkoutSettings({
        creditCardMode: 'sample value "enabled" (Course Reg Processes)',
        description:
          'point-of-checkout settings; sub-fields not visible here, shape of Course Reg Processes (itself cut), later properties accepted as sent',
      }),
      'sub-fields not visible here; the shape Course Reg Processes shows',
    ),
    confirmationEmail: designed(emailMessage('subject first'), "sub-fields not visible here; the API's shared e-mail object"),
  }),
  description: [
    'A process creates exam registrations: type "register" is a first sitting, "retest" a retake (the offering\'s retest_fee_id applies). restrict_exams + exam_ids limit it to some exams.',
    'form_id must name a form of the exam-registrations family (pattern ^certifications-exam-registrations__).',
  ],
});
