import { Type } from '@sinclair/typebox';
import { certificationTransitionError } from '../domain/lifecycle/certifications.js';
import { defineResource, search } from './kit/define.js';
import { bool, BOUNDS, date, designed, num, oneOf, ref, req, str } from './kit/fields.js';
import { CERTIFICATION_STATUSES } from './blocks.js';
import { STANDINGS, standing } from '../domain/lifecycle/standing.js';

/**
 * Certifications: an issued certification held by a contact or an organization in one program, with
 * its certificate number, status (active, inactive, suspended, retired) and status reason, and its
 * certification, expiration, renewal and termination dates. Created and renewed by applications
 * (activation); billing runs remind, forecast and drop them. From the reference: the create body's
 * first 21 fields; the list descriptions name further fields without their names, which we designed.
 *
 * Our choices where the reference is ambiguous or silent:
 * - organization_id applies only when owner_type is organization: required only then
 *   (conditionalRequired below). contact_id stays required, as in the reference.
 * - certification_date carries no format in the reference and stays a free string; the designed dates
 *   (expiration, renewal, termination, last termination, last reminder) are calendar dates.
 * - Designed after the reference's descriptions: status_reason_id, last_application_id,
 *   last_reminder_sent_date, certificate_name, termination and last termination dates; after the
 *   domain: expiration_date and renewal_date.
 */
const holder = "denormalized copy of the holder's contact data";

const sweepHandle = Type.Object({
  executionArn: Type.String(),
  start_date: Type.String({ format: 'date-time' }),
  notification_channel: Type.Optional(Type.String({ description: 'path of the server-sent events of the execution (under the API root)' })),
});
const sweepView = Type.Object({
  executionArn: Type.String(),
  status: Type.String({ enum: ['RUNNING', 'SUCCEEDED', 'FAILED'] }),
  start_date: Type.String({ format: 'date-time' }),
  stop_date: Type.Optional(Type.String({ format: 'date-time' })),
  progress: Type.Object({ done: Type.Integer(), total: Type.Integer() }),
  error: Type.Optional(Type.String()),
  output: Type.Optional(
    Type.Object(
      {
        lapsed: Type.Integer({ description: 'certifications made inactive' }),
        expired: Type.Integer({ description: 'applications expired' }),
        notices_queued: Type.Integer({ description: 'expiration notices queued' }),
        notices_not_sent: Type.Array(Type.Object({ certification_id: Type.String(), reason: Type.String() })),
        errors: Type.Array(Type.Object({ resource: Type.String(), id: Type.String(), error: Type.String() })),
      },
      { additionalProperties: true },
    ),
  ),
});

export const certifications = defineResource({
  // Status changes follow the certification rules (active, inactive, suspended, retired), also on PUT / PATCH.
  beforeWrite: (old, next) => certificationTransitionError(old?.status as string | undefined, next.status as string | undefined),
  // The search a renewal screen and a billing run make: programme + status + expiration window.
  // Statistics: counts per programme and status (the first), active ones expiring soon (the second).
  // A certificate number names one certification of its programme (public verification looks it up).
  indexes: [
    ['program_id', 'status', 'expiration_date', 'grace_period_end_date', 'reinstatement_end_date'],
    ['status', 'expiration_date', 'program_id'],
    { unique: true, fields: ['program_id', 'number'], why: 'certificate numbers are unique within a program' },
  ],
  // A legacy system's file names a certification by its programme and certificate number: a bulk-load
  // row without sys_external_id that has both updates that certification instead of adding another.
  naturalKey: ['program_id', 'number'],
  history: [
    'status',
    'status_reason_id',
    'number',
    'program_id',
    'expiration_date',
    'renewal_date',
    'termination_date',
    'grace_period_end_date',
    'reinstatement_end_date',
    'last_application_id',
  ],
  slug: 'certifications',
  name: 'Certifications',
  singular: 'certification',
  typeName: 'Certification',
  table: 'certifications',
  // The reference writes ^[\w-|:]+$; that class is invalid in unicode regexes (ajv), so we write the same set as ^[\w:|-]+$.
  idPattern: '^[\\w:|-]+$',
  coverage: 'partial (reference, 21 fields); status reason, dates, last application, certificate name, search and lookups designed',
  fields: {
    number: req(num({ min: 0, description: 'certificate number, assigned from the program counter at activation' })),
    owner_type: oneOf(['contact', 'organization']),
    contact_id: req(ref('external:contacts')),
    organization_id: ref('external:organizations'),
    customer_id: str({ description: 'reporting copy of the owner id (contact or organization)' }),
    program_id: req(ref('programs')),
    status: req(oneOf(CERTIFICATION_STATUSES)),
    status_reason_id: designed(ref('statusReasons'), 'the reason for the current status (described, name not visible)'),
    certification_date: str({ description: 'no format in the reference' }),
    expiration_date: designed(date(), "computed by the program's expiration rule set; renewals and drops key on it"),
    renewal_date: designed(date(), 'date of the last renewal'),
    grace_period_end_date: designed(date(), 'last day of the grace period after expiration_date (from the rule set, at activation)'),
    reinstatement_end_date: designed(date(), 'last day a lapsed certification may be reinstated (from the rule set, at activation)'),
    transferred_to_certification_id: designed(ref('certifications'), 'the certification a transfer created from this one'),
    termination_date: designed(date(), 'described by the reference (implied by last_termination_date)'),
    last_termination_date: designed(date(), 'kept even when termination_date is cleared (described)'),
    last_application_id: designed(ref('applications'), 'the last application that changed the certification (described)'),
    last_reminder_sent_date: designed(date(), 'the last renewal reminder sent (described)'),
    certificate_name: designed(str(), 'the name printed on the certificate (described)'),
    lapse_notice_sent_date: designed(
      date(),
      "the day the lifecycle sweep lapsed it and queued the programme's expiration notice (lapse_notice_id); set once per lapse",
    ),
    grandfathered: bool({ description: 'renewed together with another certification of the holder' }),
    forecasted_renewal_amount: num({ ...BOUNDS.money, description: 'filled by billing runs that forecast renewals' }),
    issuing_training_provider_id: ref('trainingProviders'),
    renewal_training_provider_id: ref('trainingProviders'),
    name: req(str({ description: holder })),
    first_name: str({ description: holder }),
    last_name: str({ description: holder }),
    email_address: str({ description: holder }),
    job_title: str({ description: holder }),
    city: str({ description: holder }),
    state: str({ description: holder }),
    country: str({ description: holder }),
  },
  // Flagged optional in the reference, but an organization-owned certification needs its organization.
  conditionalRequired: [{ field: 'organization_id', when: { owner_type: 'organization' } }],
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    number: search.anyOf('number'),
    status: search.anyOf('status'),
    status_reason_id: search.anyOf('status_reason_id'),
    program_id: search.anyOf('program_id'),
    contact_id: search.anyOf('contact_id'),
    organization_id: search.anyOf('organization_id'),
    expiration_date: search.range('expiration_date'),
    grace_period_end_date: search.range('grace_period_end_date'),
    reinstatement_end_date: search.range('reinstatement_end_date'),
  },
  // Computed on every read from the term's dates and today: the same standing as verify, the directory and statistics.
  derived: {
    fields: {
      standing: designed(
        oneOf(STANDINGS, {
          readOnly: true,
          description:
            'today: current (valid), in_grace (valid, past expiration_date, up to grace_period_end_date), lapsed_reinstatable (not valid; reinstatement or renewal still possible), lapsed; absent for suspended and retired certifications. Computed on every read, never stored',
        }),
        'issue: one definition of standing, shown on the record, by verify, the directory and statistics',
      ),
    },
    compute: (rec, today) => {
      const s = standing(rec, today);
      return s ? { standing: s } : {};
    },
  },
  lookups: [
    { segment: 'program', field: 'program_id', summary: 'List the certifications of a program' },
    { segment: 'contact', field: 'contact_id', summary: "List a contact's certifications" },
    { segment: 'organization', field: 'organization_id', summary: "List an organization's certifications" },
  ],
  actions: [
    {
      name: 'lifecycleSweep',
      method: 'POST',
      path: 'lifecycleSweep',
      scope: 'admin',
      status: 202,
      summary: 'Run the lifecycle sweep of the tenant now (asynchronous; answers an execution handle)',
      description:
        "The sweep the server runs on its own at every LIFECYCLE_SWEEP_CRON occurrence (hourly by default): every active certification past the end of its grace period becomes inactive with its programme's lapse_status_reason_id (history via lifecycle; the programme's lapse_notice_id sent once), every open application past its expiration date expires (credits given back). One transaction per change; a change is never made twice. 409 while a sweep of the tenant runs. Watch it at GET /executions/{tenantId}/{executionArn}.",
      response: sweepHandle,
      handler: (s, ctx) => s.sweep.startNow(ctx),
    },
    {
      name: 'lifecycleSweeps',
      method: 'GET',
      path: 'lifecycleSweeps',
      summary: "The tenant's lifecycle sweeps (executions), newest first, paged",
      description:
        'Each sweep with its status, progress and, once ended, what it changed: certifications lapsed, applications expired, expiration notices queued or why not sent, and the changes that failed. limit and exclusiveStartKey page as on every list.',
      query: Type.Object({
        limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$', description: 'page size (default 100)' })),
        exclusiveStartKey: Type.Optional(Type.String({ maxLength: 512, description: 'LastEvaluatedKey of the previous page' })),
      }),
      response: Type.Object({ Count: Type.Integer(), Items: Type.Array(sweepView), LastEvaluatedKey: Type.Optional(Type.String()) }),
      handler: (s, ctx, { query }) => s.sweep.list(ctx, query),
    },
  ],
  description: [
    'customer_id copies the owner id for reporting: the contact id for contact-owned, the organization id for organization-owned certifications.',
    "number is the certificate number, taken from the program's next-number counter when a certification is activated: numbers are per program.",
    'A number is unique within its program: a create, update, patch, batch operation or bulk-load row that would give a second certification of the program the same number is a 409 naming number and the program; activation and transfer skip numbers already taken (set by hand or loaded).',
    "grandfathered: renewed along with the holder's other certification when the program says so.",
    'forecasted_renewal_amount is filled by renewal-forecasting billing runs; issuing_ / renewal_training_provider_id name the providers that issued and renew it.',
    'Statuses active, inactive, suspended, retired, each explained by a status reason (Status Reasons).',
    'standing (read-only, computed on every read, never stored): current, in_grace, lapsed_reinstatable or lapsed today, from status and the term dates; the public verify, directory search and statistics use the same definition.',
    "The lifecycle sweep makes an active certification past the end of its grace period inactive (history via lifecycle) with its programme's lapse_status_reason_id, and sends the programme's lapse notice once (lapse_notice_sent_date).",
  ],
});
