import { defineResource } from './kit/define.js';
import { bool, list, ref, str } from './kit/fields.js';
import { checkoutSettings, contactFormOptions, emailMessage, registrationProcess } from './blocks.js';

/**
 * Course Reg Processes: a configured path (portal or staff console) for registering for courses: which
 * courses it serves, its registration form, an optional contact form, checkout settings that override
 * the defaults, and a confirmation e-mail. Partial in the reference: every top-level field was seen;
 * checkout_settings was cut after credit_card_minimum_range_end.
 *
 * Our choices where the reference is ambiguous:
 * - course_ids, contact_form_options, checkout_settings and confirmation_email are marked required in
 *   the reference although each belongs to a toggle; each is required only when its toggle is on
 *   (registrationProcess in blocks.ts): restrict_courses, show_contact_form,
 *   override_checkout_settings, enable_confirmation_email.
 * - checkout_settings keeps the fields seen and accepts the cut-off rest as sent (installment plan
 *   choice, card processing-fee handling, saved-card restriction, donation options, names not seen).
 * - confirmation_email takes the API's shared e-mail shape (subject and body required).
 * - The search body is not in the reference; ours is designed.
 */
export const courseRegProcesses = defineResource({
  slug: 'courseRegProcesses',
  name: 'Course Reg Processes',
  singular: 'course reg process',
  typeName: 'CourseRegProcess',
  table: 'course_reg_processes',
  coverage: 'partial (reference: all top-level fields, checkout_settings cut); toggle-bound requirements and search designed',
  ...registrationProcess({
    types: ['register'],
    restrict: { toggle: 'restrict_courses', ids: 'course_ids', list: list(ref('courses')) },
    contactFormOptions: contactFormOptions(),
    form: {
      form_id: str({ pattern: '^certifications-course-registrations__.*' }),
      available_to_training_providers: bool(),
    },
    checkoutSettings: checkoutSettings({
      creditCardMode: 'sample value "enabled"',
      description:
        'point-of-checkout settings; the reference is cut after credit_card_minimum_range_end, so later properties are accepted as sent',
    }),
    confirmationEmail: emailMessage('subject first'),
  }),
  description: [
    'A registration process is the portal or console workflow used to register for a course; its type is always "register".',
    'restrict_courses limits the process to course_ids; available_to_training_providers opens it to training-provider admins; available_in_portal, display_order and display_in_portal_as drive the portal picker.',
    'form_id must name a form of the course-registrations family (prefix "certifications-course-registrations__").',
    'override_checkout_settings=true makes checkout_settings replace the default point-of-checkout settings; enable_confirmation_email sends confirmation_email once the registration is activated.',
  ],
});
