import { Type } from '@sinclair/typebox';
import { applicationTransitionError } from '../domain/lifecycle/applications.js';
import type { RequestContext } from '../core/context.js';
import type { ActionRequest, ActionSpec } from './kit/define.js';
import { defineResource, search } from './kit/define.js';
import { bool, date, dateTime, designed, int, list, num, obj, oneOf, ref, req, str } from './kit/fields.js';
import { APPLICATION_STATUSES, APPLICATION_TYPES, customFieldValues } from './blocks.js';
import { AUDIT_STATUSES } from '../domain/lifecycle/audits.js';

/**
 * Applications: one owner's (contact or organization) application to a program: first certification,
 * renewal, reinstatement or transfer. Status moves draft -> missing requirements -> pending approval ->
 * approved or rejected -> activated (also withdrawn, expired); a review track (review status, rounds,
 * buckets, scores) runs beside it. Activation (a billing run's activate step) creates or renews a
 * certification and fills certification_id and activation_date. From the reference: the create body
 * through average_score and the alphabetical record through exam_fail_letter_sent_date.
 *
 * Our choices where the reference is ambiguous or silent:
 * - organization_id is flagged required but applies only when owner_type is organization, and
 *   target_program_id only to transfers: both are conditionally required (below). contact_id stays
 *   required (an organization's application still has a submitting contact).
 * - bucket_id is required as in the reference's stored schema.
 * - `date`, `activation_date` and `exam_fail_letter_sent_date` carry no format in the reference and
 *   stay free strings.
 * - Fields after exam_fail_letter_sent_date were not visible; we designed status, status_reason_id,
 *   expiration_date, submitted_date, the applicant's name and state, exam registrations and the order.
 * - The reference's composite lookup programApplicant/{programId}/{ownerType}/{ownerId} is a `page`
 *   action: ownerType says which field ownerId matches (contact: owner_type contact and contact_id;
 *   organization: owner_type organization and organization_id), so an organization's application is
 *   not listed for the contact who submitted it. owner_type is a search field for its column.
 */
const applicant = "denormalized copy of the applicant's contact data";

export const applications = defineResource({
  // Status changes follow the application lifecycle, also on PUT / PATCH.
  beforeWrite: (old, next) => applicationTransitionError(old?.status as string | undefined, next.status as string | undefined),
  // A status change queues the application notices that list the new status (in the write's transaction).
  // The audit record is written only by submit and the audit route; approval waits for a selected audit to pass.
  hooks: { validate: (h) => h.services.audits.applicationRules(h), after: (h) => h.services.notices.applicationStatusChanged(h) },
  // Statistics count applications per programme and status, and audits per programme and status (GET /statistics/{tenantId}/programs): index-only scans.
  indexes: [
    ['program_id', 'status'],
    ['program_id', 'audit.status'],
  ],
  slug: 'applications',
  name: 'Applications',
  singular: 'application',
  typeName: 'Application',
  table: 'applications',
  idPattern: '^[\\w:|-]+$',
  coverage:
    'partial (reference, fields through exam_fail_letter_sent_date); status, status_reason_id, expiration and submission dates, name, state, exam registrations, order, search and lookups designed',
  fields: {
    owner_type: req(oneOf(['contact', 'organization'])),
    contact_id: req(ref('external:contacts')),
    organization_id: ref('external:organizations'),
    type: req(oneOf(APPLICATION_TYPES)),
    program_id: req(ref('programs')),
    target_program_id: ref('programs', { description: 'the program transferred to (transfers)' }),
    process_id: ref('applicationProcesses'),
    date: req(str({ description: 'application date (no format in the reference)' })),
    training_provider_id: ref('trainingProviders'),

    status: designed(
      oneOf(APPLICATION_STATUSES),
      'lifecycle status (name not visible; values from applicationNotices and the domain); absent = draft',
    ),
    status_reason_id: designed(ref('appStatusReasons'), 'why the application is in its status'),
    submitted_date: designed(dateTime(), 'when the applicant submitted it'),
    expiration_date: designed(date(), "computed by the process's expiration rule set; billing runs expire applications by it"),
    activation_date: str(),
    fee_paid_date: designed(dateTime(), 'when the application fee was paid (the fee requirement of its process)'),
    decision_notes: designed(str(), 'why it was approved or rejected (the approve and reject actions)'),
    certification_id: ref('certifications'),
    audit: designed(
      obj(
        {
          rate: req(num({ minimum: 0, maximum: 100, description: "the process's audit_rate at the draw (percent)" })),
          draw: req(
            int({
              minimum: 0,
              maximum: 9999,
              description: 'the cryptographically random draw in [0, 10000); selected when draw < rate x 100',
            }),
          ),
          selected: req(bool()),
          drawn_at: req(dateTime()),
          status: req(oneOf(AUDIT_STATUSES, { description: 'not selected, or requested -> submitted -> passed | failed' })),
          requested_at: dateTime(),
          documents_due_date: date(),
          submitted_at: dateTime({ description: "when the applicant's documents were received" }),
          decided_at: dateTime(),
          decided_by_id: str(),
          outcome_reason: str(),
          notice: str({ description: 'what became of the audit notice: queued, or not sent and why' }),
        },
        {
          description:
            'the CE audit draw of a process with an audit_rate (at submit) and, when selected, the audit; written only by submit and POST /applications/{tenantId}/audit/{id}',
        },
      ),
      'random CE audits (issue 17)',
    ),

    // Review track (Rhythm's shared review engine).
    review_status: oneOf(['pending review', 'alternate', 'accepted', 'declined']),
    last_review_status_change: dateTime(),
    pending_console_review: bool(),
    submission_space_id: str(),
    override_bucket_assignment: bool(),
    round_id: str(),
    bucket_id: req(str()),
    average_score: num({ min: 0 }),

    // Requirements.
    credits: list(
      obj({
        credit_id: req(ref('credits')),
        credit_type_id: req(ref('creditTypes')),
        exclusive: bool({ description: "true = the applied quantity is deducted from the credit's available balance" }),
        quantity: req(num({ min: 0 })),
        counts_toward: designed(
          list(obj({ requirement: req(str()), quantity: req(num()) })),
          'which requirement of the process the credit counts for (a JSON pointer into it: /credit_requirements/0, /credit_totals/0/minimums/1, /credit_totals/0), written by submit',
        ),
      }),
    ),
    course_offering_ids: list(ref('courseOfferings')),
    exam_registration_ids: designed(list(ref('examRegistrations')), 'exam requirements met by these registrations'),
    exam_fail_letter_sent_date: str(),

    // Applicant details (copies).
    name: designed(str(), applicant),
    first_name: designed(str(), applicant),
    last_name: designed(str(), applicant),
    email_address: str(),
    city: str(),
    state: designed(str(), applicant),
    country: str(),

    embed_membership_application: bool(),
    order_id: designed(ref('external:orders'), 'the fee order generateOrder produced'),
    coupon_code: designed(str(), 'issue 20: a coupon code the applicant entered; generateOrder applies it'),
    custom_field_values: customFieldValues(),
  },
  // Flagged required by the reference, meaningful in one case only.
  conditionalRequired: [
    { field: 'organization_id', when: { owner_type: 'organization' } },
    { field: 'target_program_id', when: { type: 'transfer' } },
  ],
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    status: search.anyOf('status'),
    type: search.anyOf('type'),
    review_status: search.anyOf('review_status'),
    program_id: search.anyOf('program_id'),
    contact_id: search.anyOf('contact_id'),
    organization_id: search.anyOf('organization_id'),
    owner_type: search.anyOf('owner_type'),
    training_provider_id: search.anyOf('training_provider_id'),
    expiration_date: search.range('expiration_date'),
    audit_status: search.anyOf('audit.status'),
  },
  lookups: [
    { segment: 'program', field: 'program_id', summary: 'List the applications to a program' },
    { segment: 'contact', field: 'contact_id', summary: "List a contact's applications" },
    { segment: 'organization', field: 'organization_id', summary: "List an organization's applications" },
    { segment: 'applicationProcess', field: 'process_id', summary: 'List the applications of an application process' },
    { segment: 'certification', field: 'certification_id', summary: 'List the applications that created or renewed a certification' },
    { segment: 'trainingProvider', field: 'training_provider_id', summary: "List a training provider's applications" },
  ],
  actions: [
    {
      name: 'programApplicant',
      method: 'GET',
      path: 'programApplicant/:programId/:ownerType/:ownerId',
      params: { ownerType: Type.String({ enum: ['contact', 'organization'], description: 'which field ownerId is' }) },
      page: true,
      summary: "List an applicant's applications to a program (the applicant a contact or an organization)",
      description:
        "ownerType contact: the applications with owner_type contact and contact_id = ownerId; organization: owner_type organization and organization_id = ownerId (the contact who submitted an organization's application does not list it). Paged like every list.",
      handler: async (s, ctx, { params, query }) =>
        s.resource('applications').matching(
          ctx,
          {
            program_id: params.programId,
            owner_type: params.ownerType,
            [params.ownerType === 'organization' ? 'organization_id' : 'contact_id']: params.ownerId,
          },
          query,
        ),
    },
    {
      name: 'generateOrder',
      method: 'POST',
      path: 'generateOrder',
      summary: 'Takes an application in the body and produces the matching (fee) order for it',
      description:
        "The body is the application (its id names the stored one, which is what is priced); it may add coupon_code, currency_code (another currency the fees have a price in) and is_member (member prices). The fee is the application process's; a renewal in grace adds the programme's late_fee; a reinstatement inside a rule set's reinstatement period with renewal pricing costs the renewal fee. While the application has an order that is not cancelled or void, that order is answered again (no second charge). An order whose total is 0 is paid in full at once. Amounts are in minor units (docs/money.md).",
      scope: 'write',
      response: { $ref: 'Order#' } as never,
      handler: (s, ctx, { body }) => s.commerce.generateForApplication(ctx, body),
    },
    {
      name: 'generateApplication',
      method: 'POST',
      path: 'generateApplication/:processId/:ownerType/:ownerId',
      summary: 'Start a draft application from an application process for a contact or an organization',
      description:
        'The body may add application fields (contact_id for an organization owner, certification_id for a renewal, target_program_id for a transfer, applicant names …).',
      status: 201,
      response: { $ref: 'Application#' } as any,
      handler: (s, ctx, { params, body }) => s.lifecycle.generate(ctx, params.processId!, params.ownerType!, params.ownerId!, body),
    },
    {
      name: 'requirements',
      method: 'GET',
      path: 'requirements/:id',
      summary: "Evaluate the application's requirements: each with met / unmet and progress",
      response: Type.Object({
        application_id: Type.String(),
        status: Type.String(),
        met: Type.Boolean(),
        requirements: Type.Array(Type.Object({}, { additionalProperties: true })),
      }),
      handler: (s, ctx, { params }) => s.lifecycle.requirements(ctx, params.id!),
    },
    ...(['submit', 'approve', 'reject', 'withdraw'] as const).map(
      (name): ActionSpec => ({
        name,
        method: 'POST' as const,
        path: `${name}/:id`,
        summary:
          name === 'submit'
            ? 'Submit: missing requirements, or pending approval (approved when the process approves automatically); consumes the credits it needs'
            : `${name[0]!.toUpperCase()}${name.slice(1)} the application (a 409 says why when the lifecycle forbids it)`,
        response: { $ref: 'Application#' } as any,
        handler: (s, ctx: RequestContext, { params, body }: ActionRequest) =>
          name === 'submit'
            ? s.lifecycle.submit(ctx, params.id!)
            : s.lifecycle.decide(ctx, params.id!, name === 'approve' ? 'approved' : name === 'reject' ? 'rejected' : 'withdrawn', body),
      }),
    ),
    {
      name: 'audit',
      method: 'POST',
      path: 'audit/:id',
      summary:
        'Record the CE audit of an application selected at submit: documents submitted, audit passed, or audit failed (rejects it and gives its credits back)',
      description:
        'Body: `{ "status": "submitted" | "passed" | "failed", "reason": "…", "status_reason_id": "…" }`; `reason` is required for failed (it becomes the outcome_reason and the decision notes). ' +
        'The audit moves requested -> submitted -> passed | failed while the application is pending approval. A passed audit lets the application be approved (at once when its process approves automatically); a failed one rejects it.',
      response: { $ref: 'Application#' } as any,
      handler: (s, ctx, { params, body }) => s.audits.record(ctx, params.id!, body),
    },
    {
      name: 'activate',
      method: 'POST',
      path: 'activate/:id',
      summary: 'Activate an approved application: a new certification, a renewal, a reinstatement or a transfer',
      response: Type.Object({ application: { $ref: 'Application#' } as any, certification: { $ref: 'Certification#' } as any }),
      handler: (s, ctx, { params }) => s.lifecycle.activate(ctx, params.id!),
    },
  ],
  description: [
    'type: certification (first time), renewal, reinstatement or transfer; target_program_id is required only for transfers, organization_id only when owner_type is organization.',
    "credits[] are credit records applied per credit type; exclusive = the quantity is consumed from that credit's balance. course_offering_ids count toward course requirements.",
    "city, country, email_address and name, first_name, last_name, state are copies of the applicant's contact data.",
    'embed_membership_application: the generated order embeds a full membership application.',
  ],
});
