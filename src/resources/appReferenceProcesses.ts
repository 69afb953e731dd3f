import { defineResource, search } from './kit/define.js';
import { bool, designed, int, obj, ref, req, str } from './kit/fields.js';
import { emailMessage } from './blocks.js';

/**
 * App Reference Processes: how references (endorsements) for an application are requested and
 * collected: the form a referee fills in, how it shows in the portal, and the e-mails sent to the
 * referee and the applicant. The reference shows nothing but the tag name; the schema is designed,
 * after the reference processes of Rhythm's Awards API (contact form, portal display, two e-mails).
 *
 * Our choices:
 * - Each e-mail is switched on by its enable_* flag and is then required (conditionalRequired below).
 * - reference_type_id classifies the references the process collects (App Reference Types).
 */
export const appReferenceProcesses = defineResource({
  slug: 'appReferenceProcesses',
  name: 'App Reference Processes',
  singular: 'app reference process',
  typeName: 'AppReferenceProcess',
  table: 'app_reference_processes',
  coverage: 'none in the reference; whole schema designed after the Awards API reference processes',
  fields: {
    name: designed(req(str()), 'picked by name when an application process requires references'),
    description: designed(str(), 'shown to applicants and referees'),
    is_active: designed(bool(), 'retired processes stay for history but collect no new references'),
    reference_type_id: designed(ref('appReferenceTypes'), 'the kind of reference collected'),
    minimum_references: designed(int({ minimum: 0 }), 'how many completed references an application needs'),
    contact_form_options: designed(
      obj({
        contact_form_id: ref('external:forms'),
        html: str({ description: 'instructions shown above the form' }),
      }),
      'the form a referee fills in (Awards analog)',
    ),
    display_in_portal: designed(bool(), 'applicants follow their references in the portal (Awards analog)'),
    display_in_portal_as: designed(str(), 'label of the references section in the portal (Awards analog)'),
    enable_reference_notification_email: designed(bool(), 'e-mail the referee when a reference is requested'),
    reference_notification_email: designed(emailMessage(), 'the request sent to the referee'),
    enable_application_notice_email: designed(bool(), 'e-mail the applicant when a reference is completed'),
    application_notice_email: designed(emailMessage(), 'the notice sent to the applicant (Awards analog)'),
  },
  // Each e-mail is required only when its flag is on.
  conditionalRequired: [
    { field: 'reference_notification_email', when: { enable_reference_notification_email: true } },
    { field: 'application_notice_email', when: { enable_application_notice_email: true } },
  ],
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    is_active: search.anyOf('is_active'),
    reference_type_id: search.anyOf('reference_type_id'),
  },
  lookups: [{ segment: 'appReferenceType', field: 'reference_type_id', summary: 'List the reference processes of one reference type' }],
  description: [
    "E-mails use the API's shared e-mail shape (from, from_name, reply_to, cc, bcc, subject, body); each is required when its enable_* flag is true.",
  ],
});
