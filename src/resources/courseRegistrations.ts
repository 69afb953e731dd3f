import { defineResource, search } from './kit/define.js';
import { registrationOrderAction } from './orders.js';
import { BOUNDS, date, dateTime, designed, list, num, oneOf, ref, req, str } from './kit/fields.js';
import { customFieldValues, ORDER_STATUSES, studentCopies } from './blocks.js';
import { courseRegistrationWriteError } from '../domain/learning/courses.js';

/**
 * Course Registrations: one student (a contact) in one course offering, usually created by a commerce
 * order: copies of the student's contact data, the order it came from, the dates of registration,
 * attendance and cancellation, completion, and the exam sittings booked with it. Completed
 * registrations produce credits (origin "course registration"). Partial in the reference: the create
 * body through `number` and the update's alphabetical field list through last_name were seen.
 *
 * Our choices where the reference is silent:
 * - status, completion_date, process_id, training_provider_id and notes are designed (they sort after
 *   last_name, where the visible list stops, and are the obvious gaps: the sibling Exam Registrations
 *   have status, process_id, training_provider_id and notes).
 * - status: draft -> registered -> completed | no show, or cancelled (with cancellation_date).
 * - course_date, date, arrival_date and departure_date have no visible format and stay plain strings;
 *   cancellation_date is a date-time, as on Exam Registrations.
 * - The search body and the lookups are not in the reference; ours are designed (lookups by student
 *   and by course offering likely exist in the real API, unseen).
 */
const COURSE_REGISTRATION_STATUSES = ['cancelled', 'completed', 'draft', 'no show', 'registered'] as const;

/** The fields of courseRegistrations, apart from the definition: the domain derives its types from them (FieldValues). */
export const courseRegistrationFields = {
  ...studentCopies(),
  order_id: ref('external:orders'),
  order_line_item_id: str(),
  order_number: num(),
  order_balance_due: num(),
  order_amount_paid: num(BOUNDS.money),
  order_currency_code: str(),
  order_currency_symbol: str(),
  order_status: oneOf(ORDER_STATUSES),
  order_total: num(BOUNDS.money),
  application_id: ref('applications'),
  event_registration_id: ref('external:eventRegistrations'),
  student_id: req(ref('external:contacts')),
  organization_id: ref('external:organizations'),
  number: num(),
  course_id: req(ref('courses')),
  course_offering_id: req(ref('courseOfferings')),
  course_date: str({ description: 'no format in the reference' }),
  date: str({ description: 'when the registration was made; no format in the reference' }),
  arrival_date: str({ description: 'attendance start; no format in the reference' }),
  departure_date: str({ description: 'attendance end; no format in the reference' }),
  cancellation_date: designed(dateTime(), 'no format visible here; a date-time as on Exam Registrations'),
  completion_percentage: num(BOUNDS.percent),
  exam_offering_ids: list(ref('examOfferings')),
  custom_field_values: customFieldValues({ plainId: true }),
  status: designed(
    oneOf(COURSE_REGISTRATION_STATUSES),
    'not visible (sorts after last_name); the registration lifecycle, after Exam Registrations',
  ),
  completion_date: designed(date(), 'when the course was completed; the date the earned credits carry'),
  process_id: designed(ref('courseRegProcesses'), 'the reg process that created it, as process_id on Exam Registrations'),
  training_provider_id: designed(
    ref('trainingProviders'),
    'the provider involved, as on Exam Registrations; training providers register their students',
  ),
  notes: designed(str(), 'staff notes, as on Exam Registrations'),
};

export const courseRegistrations = defineResource({
  // Status changes follow the registration lifecycle (a cancellation date means cancelled).
  beforeWrite: (old, next) => courseRegistrationWriteError(old as never, next as never),
  hooks: {
    // seats (locked count), sale window, implied status / dates, credits in use before un-completing
    validate: (h) => h.services.learning.courseRegistrationValidate(h),
    // completion creates the credits once; cancelling a completed registration archives them
    after: (h) => h.services.learning.courseRegistrationAfter(h),
  },
  slug: 'courseRegistrations',
  name: 'Course Registrations',
  singular: 'course registration',
  typeName: 'CourseRegistration',
  table: 'course_registrations',
  // The reference writes ^[\w-|:]+$; same characters, reordered: a class escape before '-' is invalid in a unicode regex (ajv).
  idPattern: '^[\\w:|-]+$',
  coverage:
    'partial (reference, through last_name alphabetically); status, completion_date, process, training provider, notes and search designed',
  fields: courseRegistrationFields,
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    status: search.anyOf('status'),
    student_id: search.anyOf('student_id'),
    organization_id: search.anyOf('organization_id'),
    course_id: search.anyOf('course_id'),
    course_offering_id: search.anyOf('course_offering_id'),
    training_provider_id: search.anyOf('training_provider_id'),
    completion_date: search.range('completion_date'),
    cancellation_date: search.range('cancellation_date'),
  },
  lookups: [
    { segment: 'student', field: 'student_id', summary: 'List the course registrations of a student (contact)' },
    { segment: 'courseOffering', field: 'course_offering_id', summary: 'List the registrations of a course offering' },
    { segment: 'course', field: 'course_id', summary: 'List the registrations of a course' },
    { segment: 'application', field: 'application_id', summary: 'List the course registrations tied to an application' },
    { segment: 'trainingProvider', field: 'training_provider_id', summary: 'List the registrations of a training provider' },
  ],
  actions: [registrationOrderAction('courseRegistrations')],
  description: [
    'A registration links a student (contact) to one course offering and its course; it is normally created by an order, and the order_* fields mirror the order and its line item (balance due, amount paid, status).',
    "first_name, last_name, name, email_address, city, state, country and job_title are copies of the student's contact data.",
    'exam_offering_ids books exams taken with the course; the resulting exam registrations point back through course_registration_id.',
    'application_id ties the registration to a certification application (courses as requirements); event_registration_id to a conference registration when the offering belongs to an event.',
    'A completed registration (status completed, or completion_percentage reaching 100, which sets it) yields credits with origin "course registration" (credits.course_registration_id), from the offering\'s credits_to_assign when overridden, else the course\'s: one per credit type, verified when automatically_verify, else submitted; never twice. Cancelling it afterwards archives them (409 when an application uses one).',
    'Rules: status draft -> registered -> completed | no show, cancelled from any but cancelled (final); a cancellation_date means cancelled. An offering with enable_capacity holds at most capacity_options.capacity registrations that are not cancelled (409 "is full", counted under a lock); a registration created outside the offering\'s sell_from / sell_until is a 409 saying so.',
    'The id pattern also allows ":".',
  ],
});
