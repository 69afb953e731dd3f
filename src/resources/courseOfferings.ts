import { defineResource, search } from './kit/define.js';
import { bool, dateTime, designed, list, num, obj, ref, str } from './kit/fields.js';
import { address, creditToAssign, customFieldValues, eligibilityCriteria, seatsAction } from './blocks.js';

/**
 * Course Offerings: one scheduled run of a course: type and dates (with a time zone), a training
 * location or an address, the instructor(s), capacity, the fee charged, the portal sale window, an
 * optional webinar, who may register (eligibility requirements) and, when overridden, the credits a
 * completed registration earns. Partial in the reference: fields seen up to
 * eligibility_requirements.member_options; no required flags were visible.
 *
 * Our choices where the reference is silent:
 * - Nothing is required but what a registration cannot do without; the reference shows no flags, so
 *   every field stays optional.
 * - eligibility_requirements takes the shared Rhythm eligibility object whose fuller shape Directories
 *   shows (section, chapter, committee members, certificants, status, organization and age
 *   restrictions); it was cut in both places, so later properties are accepted as they are.
 * - address is the shared Rhythm address; country is an ISO 3166-1 alpha-2 code in the reference
 *   (an enum AD..ZW), checked here by pattern.
 * - is_active and custom_field_values are designed (they sit after the cut in every sibling schema).
 * - The search body is not in the reference; ours is designed (see search).
 */
export const courseOfferings = defineResource({
  actions: [seatsAction('courseOfferings', 'course offering')],
  hooks: {
    // a training provider's offering names only the programmes it is linked to (trainingProvPrograms)
    validate: (h) => h.services.learning.courseOfferingValidate(h),
  },
  slug: 'courseOfferings',
  name: 'Course Offerings',
  singular: 'course offering',
  typeName: 'CourseOffering',
  table: 'course_offerings',
  coverage: 'partial (reference, through eligibility_requirements); eligibility tail, is_active, custom fields and search designed',
  fields: {
    type: str({ description: 'delivery type; sample value "in person" (full list not visible)' }),
    name: str(),
    course_id: ref('courses'),
    enable_capacity: bool(),
    capacity_options: obj({ capacity: num({ min: 0 }) }),
    event_id: ref('external:events'),
    override_credit_assignment: bool(),
    credits_to_assign: list(creditToAssign()),
    program_ids: list(ref('programs')),
    course_type_id: ref('courseTypes'),
    timezone_mode: str({ description: 'sample value "local"' }),
    timezone: str(),
    timezone_offset: num(),
    timezone_abbreviation: str(),
    training_provider_id: ref('trainingProviders'),
    instructor_id: ref('courseInstructors'),
    training_location_id: ref('trainingLocations'),
    start_date: dateTime(),
    end_date: dateTime(),
    fee_id: ref('courseFees'),
    enable_webinar_integration: bool(),
    webinar_integration_options: obj({
      webinar_service: str({ description: 'integration service, e.g. "integrations-zoom-accounts"' }),
      webinar_account_id: str(),
      webinar_id: str(),
    }),
    webinar_url: str(),
    survey_url: str(),
    publish_to_portal: bool(),
    sell_from: dateTime(),
    sell_until: dateTime(),
    short_description: str(),
    description: str(),
    additional_instructor_ids: list(ref('courseInstructors')),
    address: address({ checkCountry: true }),
    enable_eligibility_requirements: bool(),
    eligibility_requirements: eligibilityCriteria({
      description:
        'shared Rhythm eligibility criteria; the reference is cut after age_restrictions, so later properties are accepted as sent',
      logicOperator: 'how the criteria combine; sample value "and"',
      customerType: 'sample value "contact"',
      memberStatuses: 'sample value "active"',
      ageRestrictions: 'sub-fields not visible; the sibling fee schemas carry minimum_age / maximum_age',
    }),
    is_active: designed(bool(), 'hide an offering without deleting its registrations; sibling records carry it'),
    custom_field_values: designed(customFieldValues({ plainId: true }), 'every record of the API carries custom field values'),
  },
  ordered: [
    ['start_date', 'end_date'],
    ['sell_from', 'sell_until'],
  ],
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    course_id: search.anyOf('course_id'),
    course_type_id: search.anyOf('course_type_id'),
    training_provider_id: search.anyOf('training_provider_id'),
    training_location_id: search.anyOf('training_location_id'),
    instructor_id: search.anyOf('instructor_id'),
    event_id: search.anyOf('event_id'),
    publish_to_portal: search.anyOf('publish_to_portal'),
    is_active: search.anyOf('is_active'),
    start_date: search.range('start_date'),
  },
  lookups: [
    { segment: 'instructor', field: 'instructor_id', summary: 'List the offerings taught by an instructor' },
    { segment: 'event', field: 'event_id', summary: 'List the offerings of a conference event' },
    { segment: 'course', field: 'course_id', summary: 'List the offerings of a course' },
    { segment: 'trainingProvider', field: 'training_provider_id', summary: 'List the offerings of a training provider' },
    { segment: 'trainingLocation', field: 'training_location_id', summary: 'List the offerings held at a training location' },
  ],
  description: [
    'An offering is one scheduled run of a course, at a training location or an address, with instructor(s), capacity (enable_capacity + capacity_options), a fee (fee_id) and a portal sale window (sell_from / sell_until).',
    'Credits: by default the course\'s own credit-assignment rules apply; override_credit_assignment=true replaces them with credits_to_assign. A completed registration then yields credits with origin "course registration".',
  ],
});
