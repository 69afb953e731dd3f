import { defineResource, search } from './kit/define.js';
import { bool, BOUNDS, designed, int, num, obj, oneOf, ref, req, str } from './kit/fields.js';
import { customFieldValues } from './blocks.js';
import { DESIGN_LIMITS, designProblem } from '../domain/registry/certificate-layout.js';

/**
 * Programs: a certification programme (e.g. "Registered Nurse"), the credential definition that
 * applications, certifications, courses, exams and billing runs hang off: who may hold it, how
 * certificates are produced, the console layouts and portal display, and the numbering, renewal and
 * reinstatement rules. The reference shows the fields from application_360_screen_id through
 * enable_custom_application_portal_template (alphabetical); the rest is designed.
 *
 * Our choices where the reference is ambiguous or silent:
 * - certificate_template and custom_application_portal_template are marked required in the reference
 *   but only mean something when certificates are generated / the custom portal template is on; each
 *   is required only in that case (conditionalRequired below).
 * - Designed: name (required), abbreviation, is_active, the next-number counter
 *   (next_certification_number), the grandfathered-renewal switch, default_renewal_period,
 *   expiration_rule_set_id and program_group_id, all fields the reference's notes imply but whose
 *   names were cut off.
 */
export const programs = defineResource({
  hooks: { validate: (h) => h.services.sweepWork.programValidate(h) },
  slug: 'programs',
  name: 'Programs',
  singular: 'program',
  typeName: 'Program',
  table: 'programs',
  coverage:
    'partial (reference: application_360_screen_id .. enable_custom_application_portal_template); name, numbering, renewal, rule-set and group fields designed',
  fields: {
    name: designed(req(str()), 'cut off in the reference; every programme has a display name'),
    abbreviation: designed(str(), 'short credential letters printed after a name (e.g. RN)'),
    application_360_screen_id: str(),
    application_page_layout_id: str(),
    certificate_mode: oneOf(['automatically generate', 'create manually', 'disabled']),
    // Required in the reference; we require it only when certificate_mode is 'automatically generate'.
    certificate_template: str(),
    certificate_design: designed(
      obj(
        {
          title: str({
            minLength: 1,
            maxLength: DESIGN_LIMITS.title,
            description: "the certificate's title (default: the programme's name)",
          }),
          statement: str({
            minLength: 1,
            maxLength: DESIGN_LIMITS.statement,
            description: 'the line before the holder\'s name (default "This certifies that")',
          }),
          body: str({
            minLength: 1,
            maxLength: DESIGN_LIMITS.body,
            description:
              'a paragraph after the dates; placeholders {{holder}}, {{number}}, {{program}}, {{board}}, {{certification_date}}, {{expiration_date}} are filled from the certification (any other is refused)',
          }),
          signatory_name: str({ minLength: 1, maxLength: DESIGN_LIMITS.signatory_name, description: 'printed under a signature line' }),
          signatory_title: str({
            minLength: 1,
            maxLength: DESIGN_LIMITS.signatory_title,
            description: "the signatory's title, under the name",
          }),
          accent_color: str({ pattern: '^#[0-9a-fA-F]{6}$', description: 'the frame and title colour, #rrggbb (default #0b4f8a)' }),
          orientation: oneOf(['landscape', 'portrait'], { description: 'the A4 page (default landscape)' }),
        },
        {
          description:
            "how this programme's PDF certificates (GET /certifications/{tenantId}/certificate/{id}) read; every member optional. The board's name and logo come from settings.",
        },
      ),
      'issue 22: a per-programme certificate template; certificate_template (reference) is a string whose meaning the reference does not show',
    ),
    certification_360_screen_id: str(),
    certification_page_layout_id: str(),
    // Required in the reference; we require it only when enable_custom_application_portal_template is true.
    custom_application_portal_template: str(),
    custom_field_values: customFieldValues(),
    customer_type: oneOf(['both', 'contact', 'organization']),
    default_reinstatement_period: num({
      min: 0,
      description: 'how long after lapse a certification may be reinstated (unit not stated by the reference)',
    }),
    description: str(),
    display_in_portal: bool(),
    display_order: num(),
    enable_custom_application_portal_template: bool(),
    default_renewal_period: designed(
      num({
        min: 0,
        description:
          'days before expiration from which a renewal may be applied for (the renewal window closes at the end of grace); unset: no opening limit',
      }),
      'README: programmes carry renewal and reinstatement periods; only the latter was visible',
    ),
    expiration_rule_set_id: designed(ref('expirationRuleSets'), 'README: a programme names the rule set that computes expiry dates'),
    is_active: designed(bool(), 'expected by the reference coverage note (status/is_active), name not visible'),
    next_certification_number: designed(
      int({ minimum: 0, description: 'number given to the next certification activated in this programme, then incremented' }),
      'reference note: a counter sorting after "e" whose name was not visible',
    ),
    program_group_id: designed(ref('programGroups'), 'reference coverage note: Program Groups suggest this link'),
    lapse_status_reason_id: designed(
      ref('statusReasons', {
        description:
          'the status reason a certification of this programme gets when it lapses on its own (past the end of its grace period); a reason for the status inactive (or for any status)',
      }),
      "issue: the lifecycle sweep records a programme's lapse status reason",
    ),
    lapse_notice_id: designed(
      ref('notices', {
        description: 'the notice (expiration notice) sent once to the holder when a certification of this programme lapses on its own',
      }),
      'issue: an optional expiration notice per programme',
    ),
    late_fee: designed(
      num({
        ...BOUNDS.money,
        description:
          "added to a renewal applied for while the certification is in grace (its standing in_grace), in the tenant's currency (settings.currency_code); unset or 0: none",
      }),
      'issue 20: boards charge a late fee for renewals in grace; the catalog shows none',
    ),
    renew_grandfathered_certifications: designed(
      bool({ description: "renewing a certification of this programme also renews the holder's grandfathered certifications" }),
      'reference note: a switch whose name was not visible',
    ),
  },
  fieldChecks: { certificate_design: designProblem },
  conditionalRequired: [
    { field: 'certificate_template', when: { certificate_mode: 'automatically generate' } },
    { field: 'custom_application_portal_template', when: { enable_custom_application_portal_template: true } },
  ],
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    customer_type: search.anyOf('customer_type'),
    certificate_mode: search.anyOf('certificate_mode'),
    display_in_portal: search.anyOf('display_in_portal'),
    is_active: search.anyOf('is_active'),
    program_group_id: search.anyOf('program_group_id'),
    expiration_rule_set_id: search.anyOf('expiration_rule_set_id'),
  },
  lookups: [
    { segment: 'programGroup', field: 'program_group_id', summary: 'List the programmes of a program group' },
    { segment: 'expirationRuleSet', field: 'expiration_rule_set_id', summary: 'List the programmes that use an expiration rule set' },
  ],
  description: [
    'A programme is the credential definition; certifications, applications (program_id / target_program_id), training-provider programmes and billing-run filters point at it.',
    'customer_type limits holders to contacts, organizations or both (certifications have owner_type contact | organization).',
    'certificate_mode: certificates generated automatically from certificate_template, uploaded manually, or off; certificate_template is required only when certificate_mode is "automatically generate".',
    "certificate_design (designed) sets what the PDF certificate says: title, statement, body (with placeholders), signatory, accent colour and orientation; certificate_template stays the reference's string and is not read by the PDF.",
    'custom_application_portal_template is required only when enable_custom_application_portal_template is true.',
    'The *_page_layout_id / *_360_screen_id fields pick the default console layouts for applications and certifications of the programme; they point at console configuration outside this API.',
    'next_certification_number: the number the next activated certification receives; activation consumes and increments it, so certificate numbers are per programme.',
    "renew_grandfathered_certifications: when a certification of this programme is renewed, the holder's certifications flagged grandfathered are renewed too.",
    'display_in_portal, display_order and description drive the portal listing; program_group_id groups programmes for display and reporting.',
    'lapse_status_reason_id and lapse_notice_id: what the lifecycle sweep records and sends when a certification lapses on its own; without a reason the sweep uses the tenant\'s status reason for lapses (a reason for inactive named like "Lapsed" or "Expired", else the first reason for inactive by name).',
  ],
});
