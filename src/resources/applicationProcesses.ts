import { defineResource, search } from './kit/define.js';
import { bool, designed, int, list, num, obj, oneOf, ref, req, str } from './kit/fields.js';
import { APPLICATION_TYPES, emailMessage } from './blocks.js';
import { creditTotalProblems } from '../domain/lifecycle/credits.js';
import { invalid } from '../core/errors.js';

/**
 * Application Processes: the form and rules for one kind of application (certification, renewal,
 * reinstatement, transfer) to one program: what it requires (credits by type, courses, exams,
 * references, a fee), whether it is approved automatically once they are met, the notices it sends
 * and how it is paid. Applications point here (process_id) and generateApplication starts from one.
 * The reference shows the fields alphabetically through application_confirmation_email_options, plus
 * program_id from its lookup route; the settings it describes without showing their names are designed.
 *
 * Our choices where the reference is ambiguous:
 * - applicant_update_options is flagged required but matters only when allow_applicants_to_update_in_portal
 *   is true; application_confirmation_email_options likewise only when the (designed)
 *   enable_application_confirmation_email is true (conditionalRequired below).
 * - program_id is required: a process leads to one program (its required flag was not visible).
 * - name and type are required designed fields: a process is picked by name, and its type becomes the
 *   type of the applications it generates.
 */
const described = 'described by the reference, property name not visible';

/** The fields of applicationProcesses, apart from the definition: the domain derives its types from them (FieldValues). */
export const applicationProcessFields = {
  name: designed(req(str()), 'a process is picked by name in the console and the portal'),
  description: designed(str(), 'shown to applicants in the portal'),
  type: designed(req(oneOf(APPLICATION_TYPES)), 'the type of the applications it generates'),
  program_id: req(ref('programs')),
  is_active: designed(bool(), 'retired processes stay for history but start no new applications'),
  display_in_portal: designed(bool(), 'applicants start it themselves in the portal'),
  available_to_training_providers: designed(bool(), described),
  application_form_id: designed(ref('external:forms'), described),
  expiration_rule_set_id: designed(ref('expirationRuleSets'), `${described}: computes the application's expiration`),
  auto_approve: designed(bool(), `${described}: approved once every requirement is met, else pending approval`),

  // Requirements.
  credit_requirements: designed(
    list(obj({ credit_type_id: req(ref('creditTypes')), quantity: req(num({ minimum: 0 })) })),
    'credits needed, per credit type',
  ),
  credit_totals: designed(
    list(
      obj({
        name: str({ description: 'how the board calls it, e.g. "Contact hours"' }),
        credit_type_ids: req(
          list(ref('creditTypes'), {
            nonEmpty: true,
            description:
              "the credit types that count toward the total, each with its sub-types (parent_credit_type_id); the minimums' types count too",
          }),
        ),
        quantity: req(num({ minimum: 0, description: 'the total needed' })),
        minimums: list(obj({ credit_type_id: req(ref('creditTypes')), quantity: req(num({ minimum: 0 })) }), {
          description: 'at least this much of a credit type (with its sub-types), counted toward the total; together at most the total',
        }),
      }),
    ),
    'boards require a total over several credit types of which minimums of some topics ("24 hours, of which 2 h medical errors"); credit_requirements can only say a quantity per type',
  ),
  required_course_ids: designed(list(ref('courses')), 'courses the applicant must have completed'),
  required_exam_ids: designed(list(ref('exams')), 'exams the applicant must have passed'),
  reference_process_id: designed(ref('appReferenceProcesses'), 'how references are collected, when required'),
  required_reference_count: designed(int({ minimum: 0 }), 'completed references needed (default 1 when reference_process_id is set)'),
  application_fee_id: designed(ref('applicationFees'), 'the fee charged on submission'),

  // Random CE audits (docs/programmes.md).
  audit_rate: designed(
    num({
      minimum: 0,
      maximum: 100,
      description:
        'percentage (0-100, to 0.01) of submitted applications drawn at random for a CE audit; a selected application is approved only once its audit passed',
    }),
    'boards audit a share of renewals (issue 17)',
  ),
  audit_documents_due_days: designed(
    int({ minimum: 1, maximum: 3650, description: 'days after the draw by which the audit documents are due (default 30)' }),
    "the audit record's documents due date",
  ),
  audit_notice_id: designed(
    ref('applicationNotices'),
    'the notice sent to an applicant selected for an audit ({{documents_due_date}} is available to its template)',
  ),

  // Portal updates.
  allow_applicants_to_update_in_portal: bool(),
  applicant_update_options: obj({ update_form_id: req(ref('external:forms')) }),

  // Notices.
  enable_application_confirmation_email: designed(bool(), 'switch of application_confirmation_email_options'),
  application_confirmation_email_options: obj({ application_confirmation_email: emailMessage() }),
  submitted_notice_id: designed(ref('applicationNotices'), `${described} (one of three notices)`),
  approved_notice_id: designed(ref('applicationNotices'), `${described} (one of three notices)`),
  rejected_notice_id: designed(ref('applicationNotices'), `${described} (one of three notices)`),

  // Payment.
  allow_customer_to_choose_installment_plan: designed(bool(), described),
  default_bank_account_id: designed(ref('external:bankAccounts'), described),
  cancellation_fee_product_id: designed(ref('external:products'), described),
  accept_credit_cards: designed(bool(), described),
  pass_card_processing_fee_to_customer: designed(bool(), `${described}: card processing-fee handling`),
  minimum_credit_card_amount: designed(num({ minimum: 0 }), described),
  maximum_credit_card_amount: designed(num({ minimum: 0 }), described),
  display_order: designed(int(), 'order in portal lists'),
};

export const applicationProcesses = defineResource({
  slug: 'applicationProcesses',
  name: 'Application Processes',
  singular: 'application process',
  typeName: 'ApplicationProcess',
  table: 'application_processes',
  coverage:
    'partial (reference: fields through application_confirmation_email_options, program_id); the settings it describes unnamed, requirements, name and type designed',
  fields: applicationProcessFields,
  // The minimums of a credit total count toward it: together they cannot exceed it.
  hooks: {
    validate: async (h) => {
      const problems = h.next ? creditTotalProblems(h.next.credit_totals) : [];
      if (problems.length) throw invalid(problems);
    },
  },
  // Flagged required by the reference, meaningful only when switched on.
  conditionalRequired: [
    { field: 'applicant_update_options', when: { allow_applicants_to_update_in_portal: true } },
    { field: 'application_confirmation_email_options', when: { enable_application_confirmation_email: true } },
  ],
  ordered: [['minimum_credit_card_amount', 'maximum_credit_card_amount']],
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    program_id: search.anyOf('program_id'),
    type: search.anyOf('type'),
    is_active: search.anyOf('is_active'),
    display_in_portal: search.anyOf('display_in_portal'),
  },
  lookups: [{ segment: 'program', field: 'program_id', summary: 'List the application processes of a program' }],
  description: [
    'applicant_update_options is required only when allow_applicants_to_update_in_portal is true; application_confirmation_email_options only when enable_application_confirmation_email is true.',
    'credit_totals[]: a total over credit types and their sub-types with minimums that count toward it; each credit hour is counted once (docs/learning.md gives the allocation order). Minimums adding up to more than the total are a 400.',
  ],
});
