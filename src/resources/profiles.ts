import { defineResource, search } from './kit/define.js';
import { bool, date, designed, email, int, list, num, obj, oneOf, ref, req, str } from './kit/fields.js';
import { CERTIFICATION_STATUSES } from './blocks.js';

/**
 * Profiles: a person's certification profile, their certifications, credits and activity at a
 * glance, plus the few preferences a certificant sets for themself (directory listing, bio). The
 * reference shows nothing but the name of this resource, so the whole schema is designed.
 *
 * Our choices:
 * - One profile per contact (contact_id, required); name, e-mail and location are display copies of
 *   the contact data, as certifications keep them.
 * - The at-a-glance block (certifications[], credit totals, last activity) is a summary kept by the
 *   domain layer from Certifications and Credits; clients may send it (imports) but the server is
 *   the one that refreshes it. It is not the source of truth for any of those records.
 */
const why = 'not in the reference (resource schema not published)';
const summary = (s: Parameters<typeof designed>[0]) => designed(s, 'summary kept from other records for at-a-glance display');

export const profiles = defineResource({
  slug: 'profiles',
  name: 'Profiles',
  singular: 'profile',
  typeName: 'Profile',
  table: 'profiles',
  coverage: 'designed: the reference publishes no schema for Profiles',
  fields: {
    contact_id: designed(req(ref('external:contacts')), 'a profile belongs to one person'),
    first_name: designed(str(), 'display copy of the contact data'),
    last_name: designed(str(), 'display copy of the contact data'),
    name: designed(str(), 'display copy of the contact data'),
    email_address: designed(email(), 'display copy of the contact data'),
    job_title: designed(str(), 'display copy of the contact data'),
    city: designed(str(), 'display copy of the contact data'),
    state: designed(str(), 'display copy of the contact data'),
    country: designed(str(), 'display copy of the contact data'),
    bio: designed(str(), 'text the certificant shows in directories'),
    publish_to_directory: designed(bool(), 'whether the certificant agrees to appear in public directories'),
    certifications: summary(
      list(
        obj({
          certification_id: req(ref('certifications')),
          program_id: ref('programs'),
          number: num(),
          status: oneOf(CERTIFICATION_STATUSES),
          certification_date: date(),
          expiration_date: date(),
        }),
      ),
    ),
    active_certification_count: summary(int({ minimum: 0 })),
    total_credits: summary(num({ min: 0, description: 'verified credit quantity earned, all types' })),
    available_credits: summary(num({ min: 0, description: 'verified credit quantity not yet applied to an application' })),
    last_activity_date: summary(date()),
    notes: designed(str(), why),
  },
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    email_address: search.contains('email_address'),
    contact_id: search.anyOf('contact_id'),
    state: search.anyOf('state'),
    country: search.anyOf('country'),
    publish_to_directory: search.anyOf('publish_to_directory'),
    last_activity_date: search.range('last_activity_date'),
  },
  lookups: [{ segment: 'contact', field: 'contact_id', summary: 'Get the profile of a contact' }],
  description: [
    'One profile per contact (contact_id required); the name, e-mail, job title and location fields are display copies of the contact data.',
    'certifications[], active_certification_count, total_credits, available_credits and last_activity_date summarise Certifications and Credits for display; the server refreshes them and they never override those records.',
    "bio and publish_to_directory are the certificant's own choices for public directories.",
  ],
});
