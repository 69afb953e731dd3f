import { defineResource, search } from './kit/define.js';
import { bool, BOUNDS, dateTime, designed, list, num, obj, oneOf, ref, req, str } from './kit/fields.js';
import { customFieldValues, portalOptions } from './blocks.js';

/**
 * Exam Fees: the product charged for sitting an exam. Exam offerings charge one fee for a first
 * attempt (fee_id) and another for a retake (retest_fee_id). Partial in the reference: only the fields
 * echoed by the public online-store answer were seen (exam_id, name, price, member_price,
 * enable_special_prices); the full record very likely shares the product base of Course Fees.
 *
 * Our choices where the reference is silent (designed, optional):
 * - from the product base of Course Fees: type ("certifications-exam-fees"), business_unit_id,
 *   cancellation fee, portal publication window, is_active, notes and custom_field_values;
 * - special_prices: what enable_special_prices switches on (details not visible): dated prices;
 * - the search body and the exam lookup.
 */
export const examFees = defineResource({
  slug: 'examFees',
  name: 'Exam Fees',
  singular: 'exam fee',
  typeName: 'ExamFee',
  table: 'exam_fees',
  coverage: 'partial (reference: the online-store fee fields); product base after Course Fees, special prices and search designed',
  fields: {
    exam_id: req(ref('exams')),
    name: req(str()),
    price: req(num(BOUNDS.money)),
    member_price: num({ ...BOUNDS.money, description: 'price for active members' }),
    enable_special_prices: bool(),
    special_prices: designed(
      list(
        obj(
          {
            name: str(),
            price: req(num(BOUNDS.money)),
            member_price: num(BOUNDS.money),
            available_from: dateTime(),
            available_until: dateTime(),
          },
          { ordered: [['available_from', 'available_until']] },
        ),
      ),
      'what enable_special_prices turns on (not visible): prices valid in a window, e.g. early bird',
    ),
    type: designed(oneOf(['certifications-exam-fees']), 'product-type discriminator, as type "certifications-course-fees" on Course Fees'),
    business_unit_id: designed(ref('external:businessUnits'), 'product base of Course Fees (required there)'),
    enable_cancellation_fees: designed(bool(), 'product base of Course Fees'),
    cancellation_fee: designed(num(BOUNDS.money), 'product base of Course Fees'),
    publish_to_portal: designed(bool(), 'product base of Course Fees'),
    portal_options: designed(portalOptions(), 'product base of Course Fees'),
    is_active: designed(bool(), 'product base of Course Fees'),
    notes: designed(str(), 'product base of Course Fees'),
    custom_field_values: designed(customFieldValues({ plainId: true }), 'every record of the API carries custom field values'),
  },
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    exam_id: search.anyOf('exam_id'),
    is_active: search.anyOf('is_active'),
    publish_to_portal: search.anyOf('publish_to_portal'),
  },
  lookups: [{ segment: 'exam', field: 'exam_id', summary: 'List the fees of an exam' }],
  description: [
    "An exam fee is what an exam registration's order charges: the offering's fee_id for a first attempt, retest_fee_id for a retake.",
  ],
});
