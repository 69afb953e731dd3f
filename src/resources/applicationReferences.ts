import { defineResource, search } from './kit/define.js';
import { date, designed, email, oneOf, ref, req, str } from './kit/fields.js';
import { customFieldValues } from './blocks.js';

/**
 * Application References: an endorsement a third party (the referee) submits for an application.
 * The reference evidences only the link to the application; the rest is designed after the
 * references of Rhythm's Awards API (referee contact, status pending/completed/declined, completion
 * date, denormalized referee details, custom fields), with a process and a type from this API's
 * App Reference Processes and App Reference Types.
 *
 * Our choices:
 * - application_id is required: a reference exists only for an application.
 * - Referee details (name, e-mail, city…) are copies for display and search, as on certifications.
 * - The reference page shows no list-all route; the standard one is served too.
 */
const referee = "denormalized copy of the referee's contact data (Awards analog)";

export const applicationReferences = defineResource({
  slug: 'applicationReferences',
  name: 'Application References',
  singular: 'application reference',
  typeName: 'ApplicationReference',
  table: 'application_references',
  coverage: 'minimal (reference: application_id); the rest designed after the Awards API references',
  description: [
    'An endorsement a third party (the referee) submits for an application: the referee, status pending, completed or declined, and the completion date.',
  ],
  fields: {
    application_id: req(ref('applications')),
    process_id: designed(ref('appReferenceProcesses'), 'the reference process that requested it'),
    type_id: designed(ref('appReferenceTypes'), 'the kind of reference'),
    contact_id: designed(ref('external:contacts'), 'the referee'),
    organization_id: designed(ref('external:organizations'), "the referee's organization"),
    status: designed(oneOf(['pending', 'completed', 'declined']), 'Awards analog; absent = pending'),
    request_date: designed(date(), 'when the referee was asked'),
    completion_date: designed(date(), 'when the referee completed or declined (Awards analog)'),
    name: designed(str(), referee),
    first_name: designed(str(), referee),
    last_name: designed(str(), referee),
    email_address: designed(email(), referee),
    job_title: designed(str(), referee),
    city: designed(str(), referee),
    state: designed(str(), referee),
    country: designed(str(), referee),
    notes: designed(str(), 'staff notes (Awards analog)'),
    custom_field_values: designed(customFieldValues(), "the referee's answers (Awards analog)"),
  },
  ordered: [['request_date', 'completion_date']],
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    application_id: search.anyOf('application_id'),
    contact_id: search.anyOf('contact_id'),
    status: search.anyOf('status'),
    completion_date: search.range('completion_date'),
  },
  lookups: [
    { segment: 'application', field: 'application_id', summary: 'List the references of an application' },
    { segment: 'contact', field: 'contact_id', summary: 'List the references a referee gave' },
  ],
});
