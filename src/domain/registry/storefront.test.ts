import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  courseOfferingPublished,
  examListed,
  examOfferingListed,
  examSelected,
  feeOnSale,
  pick,
  PUBLIC_COURSE_OFFERING_FIELDS,
  storeOffering,
} from './storefront.js';

const NOW = '2026-06-15T09:00:00.000Z';
const TODAY = '2026-06-15';

test('a course offering is public when published to the portal and not inactive', () => {
  assert.equal(courseOfferingPublished({ publish_to_portal: true }), true);
  assert.equal(courseOfferingPublished({ publish_to_portal: true, is_active: true }), true);
  assert.equal(courseOfferingPublished({ publish_to_portal: true, is_active: false }), false);
  assert.equal(courseOfferingPublished({ publish_to_portal: false }), false);
  assert.equal(courseOfferingPublished({}), false);
});

test('the public fields of an offering leave the private ones out', () => {
  const shown = pick(
    { id: 'o1', name: 'N', webinar_url: 'u', webinar_integration_options: {}, custom_field_values: [], sys_version: 2, description: null },
    PUBLIC_COURSE_OFFERING_FIELDS,
  );
  assert.deepEqual(shown, { id: 'o1', name: 'N' });
});

test('a fee is on sale when published, not inactive and inside its portal window', () => {
  assert.equal(feeOnSale({ publish_to_portal: true }, NOW), true);
  assert.equal(feeOnSale({ publish_to_portal: true, is_active: false }, NOW), false);
  assert.equal(feeOnSale({}, NOW), false);
  const w = (available_from?: string, available_until?: string) => ({
    publish_to_portal: true,
    portal_options: { available_from, available_until },
  });
  assert.equal(feeOnSale(w('2026-06-15T09:00:00Z', '2026-06-15T09:00:00Z'), NOW), true, 'both ends inclusive');
  assert.equal(feeOnSale(w('2026-06-15T09:00:01Z'), NOW), false);
  assert.equal(feeOnSale(w(undefined, '2026-06-15T08:59:59Z'), NOW), false);
});

test('exams and exam offerings listed; the restriction', () => {
  assert.equal(examListed({}), true);
  assert.equal(examListed({ is_active: false }), false);
  assert.equal(examOfferingListed({ date: TODAY }, TODAY), true);
  assert.equal(examOfferingListed({ date: '2026-06-14' }, TODAY), false);
  assert.equal(examOfferingListed({ date: '2026-06-16T10:00' }, TODAY), true);
  assert.equal(examOfferingListed({ date: 'next spring' }, TODAY), true, 'a date that cannot be placed is listed');
  assert.equal(examOfferingListed({ date: '2026-07-01', is_active: false }, TODAY), false);
  const ids = new Set(['a']);
  assert.deepEqual(
    ['a', 'b'].map((id) => [examSelected(id, ids, 'include'), examSelected(id, ids, 'exclude'), examSelected(id, ids, 'none')]),
    [
      [true, false, true],
      [false, true, true],
    ],
  );
});

test('an exam offering names only fees on sale', () => {
  const o = { id: 'x', name: 'n', exam_id: 'e', fee_id: 'f1', retest_fee_id: 'f2', is_active: true, sys_version: 1 };
  assert.deepEqual(storeOffering(o, new Set(['f1'])), { id: 'x', name: 'n', exam_id: 'e', fee_id: 'f1' });
});
