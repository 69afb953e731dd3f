import { defineResource, search } from './kit/define.js';
import { bool, designed, list, num, obj, oneOf, ref, req, str } from './kit/fields.js';
import { RELATIVE_TO } from './blocks.js';

/**
 * Activity Types: a kind of self-reported activity (conference, publication, volunteering) and its
 * credit calculator: named variables the member fills in and one formula per credit type that turns
 * them into credits; plus whether, and until when, the member may still edit a reported activity.
 * From the reference up to credit_calculator_options.variables.label (alphabetical create body).
 *
 * Our choices where the reference is silent:
 * - The top-level fields after credit_calculator_options were not visible; we designed the usual
 *   reference-list fields: name (required), description, is_active, display_in_portal.
 * - A variable's sub-fields after label were not visible; we designed `name`, the identifier the formulas use.
 * - activity_editing_options.relative_date matters only when until is "relative date"; the kit checks
 *   conditional requirements on top-level fields only, so it stays optional (the domain checks it).
 */
/** The API's relative-date object (same as billing template date windows; here all four are required). */
const relativeDate = obj({
  number: req(num()),
  position: req(oneOf(['after', 'before', 'on'])),
  relative_to: req(oneOf(RELATIVE_TO)),
  unit_of_time: req(oneOf(['days', 'months', 'weeks', 'years'])),
});

export const activityTypes = defineResource({
  // Formulas must parse, use only the calculator's variables, one per credit type (400 naming the formula).
  hooks: { validate: (h) => h.services.learning.activityTypeValidate(h) },
  slug: 'activityTypes',
  name: 'Activity Types',
  singular: 'activity type',
  typeName: 'ActivityType',
  table: 'activity_types',
  coverage:
    'partial (reference, through credit_calculator_options); name, description, is_active, display_in_portal and variables[].name designed',
  fields: {
    name: designed(req(str()), 'a reference list entry is picked by name; not visible in the reference'),
    description: designed(str(), 'shown to members choosing a type'),
    is_active: designed(bool(), 'retired types stay for history but take no new activities'),
    display_in_portal: designed(bool(), 'members pick the type when reporting in the portal'),
    additional_details_prompt: str({ description: "label of the activity's additional_details box" }),
    allow_editing_in_portal: bool(),
    activity_editing_options: obj({
      form_id: ref('external:forms'),
      until: oneOf(['forever', 'relative date']),
      relative_date: relativeDate,
    }),
    credit_calculator_options: req(
      obj({
        instructions: str(),
        variables: req(
          list(
            obj({
              label: req(str()),
              name: designed(str(), 'identifier the formulas refer to; sub-fields after label were not visible'),
            }),
          ),
        ),
        formulas: list(
          obj({
            credit_type_id: req(ref('creditTypes')),
            formula: str({ description: 'expression over the variables giving the credits of this type' }),
          }),
        ),
      }),
    ),
  },
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    is_active: search.anyOf('is_active'),
    allow_editing_in_portal: search.anyOf('allow_editing_in_portal'),
  },
  description: [
    'The server generates the id on create and rejects a body that carries one.',
    'The credit calculator: members fill in the variables, each formula turns them into credits of one credit type (activities.credit_calculator_variables holds the inputs).',
    'relative_date is needed only when until is "relative date"; kept optional because conditional rules apply to top-level fields only.',
  ],
});
