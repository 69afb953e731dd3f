import { defineResource, search } from './kit/define.js';
import { anyObject, list, num, obj, oneOf, ref, req, str } from './kit/fields.js';
import { customFieldValues } from './blocks.js';

/**
 * Activities: a continuing-education activity a contact reports (a conference, an article, volunteer
 * hours), with the credits it earns per credit type; once verified or processed it becomes credits.
 * The reference showed the record only as embedded in canEdit and generateApplication answers, so the
 * fields below are all from it, alphabetically up to type_id; later fields, if any, are unknown.
 *
 * Our choices where the reference is ambiguous:
 * - `date` and `processed_date` carry no format in the reference; we keep them free strings (a date
 *   format would reject what the real API accepts), which is also why there is no date-range search.
 * - The search body and lookups were not visible; we designed them on the owner, the type, the
 *   reporting process and the status.
 */
const ACTIVITY_STATUSES = ['draft', 'processed', 'under review', 'verified'] as const;

export const activities = defineResource({
  slug: 'activities',
  name: 'Activities',
  singular: 'activity',
  typeName: 'Activity',
  table: 'activities',
  coverage: 'partial (reference, fields through type_id); search and lookups designed',
  fields: {
    name: req(str()),
    contact_id: req(ref('external:contacts')),
    date: req(str({ description: 'when the activity took place (no format in the reference)' })),
    type_id: ref('activityTypes'),
    process_id: ref('activityRegProcesses', { description: 'the process the activity was reported through' }),
    status: oneOf(ACTIVITY_STATUSES),
    processed_date: str(),
    quantity: num(),
    credit_calculator_variables: anyObject({
      description: "inputs of the activity type's credit calculator, keyed by variable",
    }),
    credits: list(
      obj({
        credit_type_id: req(ref('creditTypes')),
        quantity: req(num()),
      }),
    ),
    total_number_of_credits: num({ description: 'sum of the calculated credits' }),
    additional_details: str(),
    file_upload_uri: str(),
    custom_field_values: customFieldValues(),
  },
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    contact_id: search.anyOf('contact_id'),
    type_id: search.anyOf('type_id'),
    process_id: search.anyOf('process_id'),
    status: search.anyOf('status'),
  },
  lookups: [
    { segment: 'contact', field: 'contact_id', summary: 'List the activities a contact reported' },
    { segment: 'activityType', field: 'type_id', summary: 'List the activities of one activity type' },
  ],
  notes: [
    'Status runs draft -> under review -> verified or processed; verified/processed activities feed credits.',
    "credit_calculator_variables holds the member's inputs to the activity type's calculator (activityTypes.credit_calculator_options); total_number_of_credits is the summed result, credits[] the result per credit type.",
    'process_id pointing at activityRegProcesses is inferred from the tag name.',
    'generateApplication returns the owner\'s activities in this shape, so activities feed application credit requirements.',
    'The reference labels canEdit\'s {id} as a contact id; it is the activity id.',
    'Action canEdit (GET /activities/{tenantId}/canEdit/{id}, answers { activity }) is served by the domain issue.',
    'date and processed_date stay free strings (no format in the reference), so they are not range-searchable.',
  ],
});
