import { defineResource, search } from './kit/define.js';
import { registrationOrderAction } from './orders.js';
import { dateTime, designed, list, num, obj, oneOf, ref, req, str } from './kit/fields.js';
import { customFieldValues, EXAM_LOCATIONS, EXAM_REGISTRATION_STATUSES, ORDER_STATUSES, studentCopies } from './blocks.js';

/**
 * Exam Registrations: one student's attempt at one exam in one scheduled sitting (exam offering):
 * copies of the student's contact data, the process and order that created it, where it is taken,
 * the result (status and score) and a log of the notices sent. Partial in the reference: the schema
 * order up to status, the update's alphabetical list up to notices.date and the eligible response.
 *
 * Our choices where the reference is silent:
 * - notices[] items: only `date` was visible; we add the exam notice sent (designed) and accept other
 *   properties as sent.
 * - date and exam_date are plain strings in the reference (no format) and stay so; cancellation_date
 *   is a date-time.
 * - organization_id, order_number and order_status are designed after Course Registrations (they sort
 *   after `notices`, where the visible list stops).
 * - The search body is not in the reference; ours is designed, as are the lookups but courseRegistration.
 */
export const examRegistrations = defineResource({
  hooks: {
    // score -> passed / failed, status lifecycle, seats (locked count), process eligibility, letter queued in notices[]
    validate: (h) => h.services.learning.examRegistrationValidate(h),
    // a letter queued in notices[] goes to the outbox
    after: (h) => h.services.notices.examLetterQueued(h),
  },
  slug: 'examRegistrations',
  name: 'Exam Registrations',
  singular: 'exam registration',
  typeName: 'ExamRegistration',
  table: 'exam_registrations',
  // The reference writes ^[\w-|:]+$; same characters, reordered: a class escape before '-' is invalid in a unicode regex (ajv).
  idPattern: '^[\\w:|-]+$',
  coverage:
    'partial (reference, through notices.date); notice item detail, organization and order copies, search and most lookups designed',
  fields: {
    number: num(),
    ...studentCopies(),
    application_id: ref('applications'),
    process_id: ref('examRegProcesses'),
    exam_id: req(ref('exams')),
    exam_offering_id: req(ref('examOfferings')),
    student_id: req(ref('external:contacts')),
    course_registration_id: ref('courseRegistrations'),
    cancellation_date: dateTime(),
    location: oneOf(EXAM_LOCATIONS),
    testing_facility_id: ref('testingFacilities'),
    training_provider_id: ref('trainingProviders'),
    training_location_id: ref('trainingLocations'),
    additional_location_info: str(),
    date: req(str({ description: 'when the registration was made; no format in the reference' })),
    exam_date: str({ description: 'no format in the reference' }),
    score: num({ min: 0 }),
    status: oneOf(EXAM_REGISTRATION_STATUSES),
    notes: str(),
    notices: list(
      obj(
        {
          date: str(),
          exam_notice_id: designed(ref('examNotices'), 'the notice sent (e.g. the pass or fail letter); not visible'),
          kind: designed(
            oneOf(['pass letter', 'fail letter', 'other']),
            'why the notice was queued: the outcome letter of a scored sitting',
          ),
          status: designed(
            oneOf(['queued', 'sent', 'failed', 'not sent']),
            'queued when the outcome is recorded; the mailer then marks it sent or failed; not sent (never queued) with status_reason',
          ),
          status_reason: designed(
            str(),
            'why a letter was not sent (not sent: notice inactive, notice limited to other exams or statuses, no address, template does not render) or the mail error of a failed one',
          ),
          sent_date: designed(dateTime(), 'when the mailer handed the letter to the mail server'),
          email_address: designed(str(), "where it goes: the registration's email_address when it was queued"),
          subject: designed(str(), "the notice's e-mail subject when it was queued"),
          score: designed(num({ min: 0 }), 'the score the letter reports'),
        },
        { additionalProperties: true, description: 'a notice sent to the registrant; only date is visible in the reference' },
      ),
    ),
    order_id: ref('external:orders'),
    order_line_item_id: str(),
    custom_field_values: customFieldValues({ plainId: true }),
    organization_id: designed(
      ref('external:organizations'),
      "as on Course Registrations: the student's organization, for bill-my-organization orders",
    ),
    order_number: designed(num(), 'as on Course Registrations'),
    order_status: designed(oneOf(ORDER_STATUSES), 'as on Course Registrations'),
  },
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    status: search.anyOf('status'),
    student_id: search.anyOf('student_id'),
    exam_id: search.anyOf('exam_id'),
    exam_offering_id: search.anyOf('exam_offering_id'),
    process_id: search.anyOf('process_id'),
    training_provider_id: search.anyOf('training_provider_id'),
    cancellation_date: search.range('cancellation_date'),
  },
  lookups: [
    {
      segment: 'courseRegistration',
      field: 'course_registration_id',
      summary: 'List the exam registrations booked with a course registration',
    },
    { segment: 'student', field: 'student_id', summary: 'List the exam registrations of a student (contact)' },
    { segment: 'exam', field: 'exam_id', summary: 'List the registrations for an exam' },
    { segment: 'examOffering', field: 'exam_offering_id', summary: "List the registrations of an exam offering (the sitting's roster)" },
    { segment: 'application', field: 'application_id', summary: 'List the exam registrations tied to an application' },
  ],
  actions: [registrationOrderAction('examRegistrations')],
  description: [
    'One record per student per exam attempt: student_id sits exam_id in the offering exam_offering_id.',
    "score holds the result; the outcome letter is the offering's pass/fail letter, else the exam's. notices[] logs the notices sent.",
    "order_id / order_line_item_id tie the registration to its checkout order; the fee is the offering's fee_id for a first attempt, retest_fee_id for a retake.",
    'process_id is the exam reg process (register or retest) that created it; course_registration_id links it to a course registration.',
    "location / testing_facility_id / training_location_id mirror the offering's place; contact fields are copies of the student's.",
    'Rules: a score, when the exam has a passing_score, sets passed (score >= passing_score) or failed; no show and cancelled are set explicitly and take no score; a cancellation_date means cancelled. Status: draft -> registered -> passed | failed | no show | cancelled; passed <-> failed by re-scoring. An offering with enable_capacity holds at most capacity_options.capacity registrations that are not cancelled (409 "is full"). Reaching passed / failed queues the offering\'s letter (else the exam\'s) in notices[] with status "queued". A registration created with process_id must use a process the contact is eligible for (see examRegProcesses eligible).',
  ],
});
