import { defineResource, search } from './kit/define.js';
import { anyObject, list, num, obj, oneOf, ref, req, str } from './kit/fields.js';
import { Type } from '@sinclair/typebox';
import { customFieldValues } from './blocks.js';
import { activityTransitionError } from '../domain/learning/activities.js';

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
  beforeWrite: (old, next) => activityTransitionError(old, next.status as string | undefined),
  hooks: {
    // the type's calculator turns credit_calculator_variables into credits[] and total_number_of_credits
    validate: (h) => h.services.learning.activityValidate(h),
    // verifying creates the credits (origin "certification activity")
    after: (h) => h.services.learning.activityAfter(h),
  },
  actions: [
    {
      name: 'canEdit',
      method: 'GET',
      path: 'canEdit/:id',
      summary: 'Whether the person who reported the activity may still edit it, and why',
      description:
        'A draft always; an activity under review when its type allows editing in the portal and the editing window (forever, or until a date relative to the activity date) is open; a verified or processed one never.',
      response: Type.Object(
        {
          can_edit: Type.Boolean(),
          reason: Type.String(),
          editable_until: Type.Optional(Type.String()),
          activity: Type.Object({}, { additionalProperties: true }),
        },
        { additionalProperties: true },
      ),
      handler: (s, ctx, { params }) => s.learning.canEdit(ctx, params.id!),
    },
  ],
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
    quantity: num({ min: 0 }),
    credit_calculator_variables: anyObject({
      description: "inputs of the activity type's credit calculator, keyed by variable",
    }),
    credits: list(
      obj({
        credit_type_id: req(ref('creditTypes')),
        quantity: req(num({ min: 0 })),
      }),
    ),
    total_number_of_credits: num({ min: 0, description: 'sum of the calculated credits' }),
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
  description: [
    'Status runs draft -> under review -> verified or processed; verified/processed activities feed credits.',
    "credit_calculator_variables holds the member's inputs to the activity type's calculator (activityTypes.credit_calculator_options); total_number_of_credits is the summed result, credits[] the result per credit type.",
    "generateApplication returns the owner's activities in this shape, so activities feed application credit requirements.",
    'GET /activities/{tenantId}/canEdit/{id} answers { can_edit, reason, editable_until?, activity }: a draft is editable; one under review when its type allows editing in the portal and the editing window (activity_editing_options: forever, or a date relative to the activity date) is open; verified or processed never.',
    "Rules: status draft -> under review -> verified -> processed (under review may go back to draft). When the type has formulas and credit_calculator_variables is sent (or the activity becomes verified), credits[] and total_number_of_credits are computed by the type's calculator (a missing or non-numeric variable is a 400 naming credit_calculator_variables.<name>). Becoming verified creates one verified credit per credit type (origin certification activity, activity_id).",
    'date and processed_date stay free strings, so they are not range-searchable.',
  ],
});
