import { defineResource, search } from './kit/define.js';
import { bool, date, designed, list, num, obj, oneOf, ref, req, str } from './kit/fields.js';
import { customFieldValues } from './blocks.js';
import { creditWriteError } from '../domain/learning/credits.js';

/**
 * Credits: a quantity of one credit type that a contact earned on a date, from a course registration,
 * a certification activity, an event registration or a legacy import; reviewed (draft -> submitted ->
 * under review -> verified | rejected, or archived) and drawn down when applied to certification
 * requirements (quantity_used / quantity_available). Partial in the reference: the create body and the
 * update's alphabetical list through status were seen.
 *
 * Our choices where the reference is ambiguous:
 * - course_registration_id, activity_id, event_id and event_registration_id are all marked required in
 *   the reference, but only the one matching origin can be filled: each is required only for its
 *   origin (conditionalRequired below).
 * - An array of objects whose name was not visible follows quantity in the reference; it most likely
 *   records the consumption of the credit. We design it as `usages` (application, quantity, date).
 * - expiration_date shows no format; we read it as a calendar date like `date` (designed), so it can be
 *   range-searched.
 * - The search body and the lookups are not in the reference; ours are designed.
 */
const CREDIT_ORIGINS = ['legacy system', 'course registration', 'certification activity', 'event registration'] as const;
const CREDIT_STATUSES = ['draft', 'submitted', 'under review', 'verified', 'rejected', 'archived'] as const;

/** The fields of credits, apart from the definition: the domain derives its types from them (FieldValues). */
export const creditFields = {
  type_id: req(ref('creditTypes')),
  origin: req(oneOf(CREDIT_ORIGINS)),
  number: num(),
  // Required in the reference; only for origin "event registration" (conditionalRequired).
  event_id: ref('external:events'),
  // Required in the reference; only for origin "event registration" (conditionalRequired).
  event_registration_id: ref('external:eventRegistrations'),
  // Required in the reference; only for origin "certification activity" (conditionalRequired).
  activity_id: ref('activities'),
  // Required in the reference; only for origin "course registration" (conditionalRequired).
  course_registration_id: ref('courseRegistrations'),
  contact_id: req(ref('external:contacts')),
  date: req(date()),
  quantity: req(num({ min: 0.01 })),
  usages: designed(
    list(
      obj({
        application_id: ref('applications'),
        certification_id: ref('certifications'),
        quantity: req(num({ minimum: 0 })),
        date: date(),
      }),
    ),
    'an array of objects follows quantity in the reference, name not visible; the consumption that quantity_used sums',
  ),
  quantity_used: num({ min: 0 }),
  quantity_available: num({ min: 0 }),
  notes: str(),
  self_reported: bool(),
  status: oneOf(CREDIT_STATUSES),
  expiration_date: designed(date(), 'no format in the reference; a calendar date like `date`'),
  custom_field_values: customFieldValues({ plainId: true }),
};

export const credits = defineResource({
  // Review workflow and balance: quantity_available = quantity - quantity_used (= the sum of usages).
  beforeWrite: (old, next) => creditWriteError(old as never, next as never),
  // Balance fields left out of a write are derived.
  hooks: { validate: (h) => h.services.learning.creditValidate(h) },
  slug: 'credits',
  name: 'Credits',
  singular: 'credit',
  typeName: 'Credit',
  table: 'credits',
  idPattern: '^[\\w:|-]+$',
  coverage: 'partial (reference, through status); origin-bound requirements, usages, expiration_date format, search and lookups designed',
  fields: creditFields,
  conditionalRequired: [
    { field: 'course_registration_id', when: { origin: 'course registration' } },
    { field: 'activity_id', when: { origin: 'certification activity' } },
    { field: 'event_id', when: { origin: 'event registration' } },
    { field: 'event_registration_id', when: { origin: 'event registration' } },
  ],
  // a credit expires on or after the day it was earned
  ordered: [['date', 'expiration_date']],
  search: {
    ids: search.ids(),
    contact_id: search.anyOf('contact_id'),
    type_id: search.anyOf('type_id'),
    origin: search.anyOf('origin'),
    status: search.anyOf('status'),
    self_reported: search.anyOf('self_reported'),
    date: search.range('date'),
    expiration_date: search.range('expiration_date'),
  },
  lookups: [
    { segment: 'contact', field: 'contact_id', summary: 'List the credits of a contact' },
    { segment: 'creditType', field: 'type_id', summary: 'List the credits of a credit type' },
    { segment: 'courseRegistration', field: 'course_registration_id', summary: 'List the credits earned by a course registration' },
    { segment: 'activity', field: 'activity_id', summary: 'List the credits earned by an activity' },
  ],
  description: [
    'origin says where a credit came from: course registration (course_registration_id), certification activity (activity_id), event registration (event_id + event_registration_id) or legacy system (none of them).',
    'quantity must be at least 0.01. quantity_used / quantity_available track consumption when credits are applied toward requirements (e.g. renewal applications). Every write keeps quantity_used = the sum of usages[].quantity (when usages are sent) and quantity_available = quantity - quantity_used: fields left out are derived, inconsistent ones are a 409.',
    'Status workflow (enforced on change; a credit may be created in any status): draft -> submitted -> under review -> verified | rejected (under review may go back to submitted, submitted to draft), any status -> archived (final). A verified credit in use (quantity_used > 0) cannot leave verified. self_reported marks credits entered by the holder; offering credit rules can create credits already verified (automatically_verify).',
    'Credits can expire (expiration_date), after which they no longer count.',
  ],
});
