import { defineResource, search } from './kit/define.js';
import { num, ref, req, str } from './kit/fields.js';
import { customFieldValues } from './blocks.js';

/**
 * Training Prov Programs: the link between a training provider and a certification programme, with
 * the fee schedule the association charges the provider (not the applicant) per event: certification,
 * renewal, reinstatement, course registration, live exam, remote-proctored exam, retest. These fees
 * feed the training-provider invoicing job of billing runs. Complete field list from the reference.
 *
 * Our choices:
 * - The id pattern also allows ':' (reference), which suggests composite ids such as
 *   <training_provider_id>:<program_id>; we keep the pattern and do not impose that form.
 * - Lookups by programme and by training provider are inferred by the reference catalog and served.
 */
const fee = () => num({ minimum: 0 });

export const trainingProvPrograms = defineResource({
  slug: 'trainingProvPrograms',
  name: 'Training Prov Programs',
  singular: 'training prov program',
  typeName: 'TrainingProvProgram',
  table: 'training_prov_programs',
  idPattern: '^[\\w|:-]+$',
  coverage: 'fields complete (reference); search body designed',
  fields: {
    training_provider_id: req(ref('trainingProviders')),
    program_id: req(ref('programs')),
    certification_fee: fee(),
    renewal_fee: fee(),
    reinstatement_fee: fee(),
    course_fee: fee(),
    live_exam_fee: fee(),
    remote_proctor_exam_fee: fee(),
    retest_fee: fee(),
    notes: str(),
    custom_field_values: customFieldValues(),
  },
  search: {
    ids: search.ids(),
    training_provider_id: search.anyOf('training_provider_id'),
    program_id: search.anyOf('program_id'),
  },
  lookups: [
    { segment: 'program', field: 'program_id', summary: 'List the training providers of a programme, with their fees' },
    { segment: 'trainingProvider', field: 'training_provider_id', summary: 'List the programmes of a training provider, with their fees' },
  ],
  description: [
    'Join record between a training provider and a programme carrying what the association charges the provider: certification_fee (new certification), renewal_fee, reinstatement_fee, course_fee (course registration), live_exam_fee, remote_proctor_exam_fee, retest_fee; all optional.',
    "The fees feed the billing runs' training-provider invoicing job (training_provider_billing_options).",
    'Fees must not be negative.',
  ],
});
