import { defineResource, search } from './kit/define.js';
import { JsonText } from './kit/service.js';
import { bool, designed, num, obj, oneOf, ref, req, str } from './kit/fields.js';
import { address, customFieldValues, eligibilityCriteria, EXAM_LOCATIONS, seatsAction } from './blocks.js';

/**
 * Exam Offerings: one scheduled sitting of an exam, live or remotely proctored, at a testing
 * facility, a training location or neither (with an address and extra location text), with its date
 * and times, the fee for a first attempt and for a retest, and the pass and fail letters that override
 * the exam's. It may belong to a course offering (an exam at the end of a class). Partial in the
 * reference: the schema was seen up to enable_eligibility_requirements.
 *
 * Our choices where the reference is ambiguous or silent:
 * - testing_facility_id and training_location_id are both marked required in the reference, but
 *   location picks which one matters: each is required only for its location (conditionalRequired).
 * - date, registration_time, start_time and end_time are plain strings in the reference and stay so.
 * - address is the shared Rhythm address (only city and country were visible here; the full shape is
 *   on Course Offerings); country is an ISO 3166-1 alpha-2 code, checked by pattern.
 * - Designed after Course Offerings: eligibility_requirements (what enable_eligibility_requirements
 *   switches on), capacity (enable_capacity + capacity_options: the seats of the sitting) and
 *   custom_field_values.
 * - The portal route GET /examOfferings/{tenantId}/portal/{contact_id}/describeForExam/{exam_id} lists
 *   the exam's offerings the contact may register for now: the active ones (is_active not false) when
 *   the contact is eligible for the exam (GET /examRegProcesses/{tenantId}/eligible/…: a first attempt
 *   or a retest, through a reg process), none otherwise. A plain lookup by exam is served too.
 */
export const examOfferings = defineResource({
  actions: [
    seatsAction('examOfferings', 'exam offering'),
    {
      name: 'describeForExam',
      method: 'GET',
      path: 'portal/:contact_id/describeForExam/:exam_id',
      page: true,
      summary: "An exam's offerings as a contact sees them in the portal: the active ones while the contact may register",
      description:
        'The exam offerings of exam_id that are not is_active false, in id order, paged like a lookup, when the contact is eligible for the exam now (GET /examRegProcesses/{tenantId}/eligible/{contactId}/{examId}: a first attempt or a retest, through a reg process that allows the exam); an empty page when not (a registration open, the exam passed, no reg process). An unknown exam is a 404.',
      handler: async (s, ctx, { params, query }) =>
        (await s.learning.mayRegister(ctx, params.contact_id!, params.exam_id!))
          ? s.resource('examOfferings').matching(ctx, { exam_id: params.exam_id }, query, { is_active: false })
          : new JsonText('{"Count":0,"Items":[]}'),
    },
  ],
  slug: 'examOfferings',
  name: 'Exam Offerings',
  singular: 'exam offering',
  typeName: 'ExamOffering',
  table: 'exam_offerings',
  coverage:
    'partial (reference, through enable_eligibility_requirements); location-bound requirements, eligibility, capacity, custom fields, search and lookups but exam designed',
  fields: {
    type: req(oneOf(['live', 'remote proctor'])),
    name: req(str()),
    exam_id: req(ref('exams')),
    course_offering_id: ref('courseOfferings'),
    fee_id: ref('examFees', { description: 'charged for a first attempt' }),
    retest_fee_id: ref('examFees', { description: 'charged for a retake' }),
    location: req(oneOf(EXAM_LOCATIONS)),
    // Required in the reference; only when location is "testing facility" (conditionalRequired).
    testing_facility_id: ref('testingFacilities'),
    // Required in the reference; only when location is "training location" (conditionalRequired).
    training_location_id: ref('trainingLocations'),
    additional_location_info: str(),
    address: address({ checkCountry: true }),
    registration_time: str({ description: 'no format in the reference' }),
    date: req(str({ description: 'the day of the sitting; no format in the reference' })),
    start_time: str({ description: 'no format in the reference' }),
    end_time: str({ description: 'no format in the reference' }),
    description: str(),
    pass_letter_id: ref('examNotices'),
    fail_letter_id: ref('examNotices'),
    is_active: bool(),
    enable_eligibility_requirements: bool(),
    eligibility_requirements: designed(
      eligibilityCriteria({
        description: 'shared Rhythm eligibility criteria; properties past age_restrictions are accepted as sent',
        logicOperator: 'how the criteria combine, e.g. "and"',
      }),
      'what enable_eligibility_requirements switches on; the shape of Course Offerings / Directories',
    ),
    enable_capacity: designed(bool(), 'the seats of a sitting, as on Course Offerings'),
    capacity_options: designed(obj({ capacity: num({ min: 0 }) }), 'as on Course Offerings'),
    custom_field_values: designed(customFieldValues({ plainId: true }), 'every record of the API carries custom field values'),
  },
  conditionalRequired: [
    { field: 'testing_facility_id', when: { location: 'testing facility' } },
    { field: 'training_location_id', when: { location: 'training location' } },
  ],
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    type: search.anyOf('type'),
    exam_id: search.anyOf('exam_id'),
    location: search.anyOf('location'),
    testing_facility_id: search.anyOf('testing_facility_id'),
    training_location_id: search.anyOf('training_location_id'),
    course_offering_id: search.anyOf('course_offering_id'),
    is_active: search.anyOf('is_active'),
  },
  lookups: [
    { segment: 'exam', field: 'exam_id', summary: 'List the offerings of an exam' },
    { segment: 'courseOffering', field: 'course_offering_id', summary: 'List the exam offerings of a course offering' },
    { segment: 'testingFacility', field: 'testing_facility_id', summary: 'List the offerings held at a testing facility' },
  ],
  description: [
    'fee_id is charged for a first attempt, retest_fee_id for a retake (exam reg process type register / retest).',
    "pass_letter_id / fail_letter_id are exam notices sent after scoring; they take precedence over the exam's letters.",
    'address: only city and country were visible here; we use the shared address of Course Offerings, country checked as an ISO 3166-1 alpha-2 code.',
    'The online-store answer of Exam Fees lists offerings with these same fields.',
  ],
});
