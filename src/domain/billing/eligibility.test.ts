import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applicationExpired, applicationRemindable, certificationDroppable, pricingDay, renewingCertificationIds } from './eligibility.js';

const today = '2026-06-15';

test('an open application expires the day after its expiration date; decided ones never do', () => {
  assert.equal(applicationExpired({ status: 'draft', expiration_date: '2026-06-14' }, today), true);
  assert.equal(applicationExpired({ expiration_date: '2026-06-14' }, today), true, 'no status = draft');
  assert.equal(applicationExpired({ status: 'pending approval', expiration_date: '2026-06-15' }, today), false, 'not on the day itself');
  assert.equal(applicationExpired({ status: 'approved', expiration_date: '2026-01-01' }, today), false);
  assert.equal(applicationExpired({ status: 'activated', expiration_date: '2026-01-01' }, today), false);
  assert.equal(applicationExpired({ status: 'draft' }, today), false, 'no expiration date');
});

test('reminders go to applications the applicant still has to complete', () => {
  assert.equal(applicationRemindable({}), true);
  assert.equal(applicationRemindable({ status: 'missing requirements' }), true);
  assert.equal(applicationRemindable({ status: 'pending approval' }), false);
});

test('an active certification is dropped after its grace period, or after its expiration without one', () => {
  assert.equal(
    certificationDroppable({ status: 'active', expiration_date: '2026-05-01', grace_period_end_date: '2026-06-14' }, today),
    true,
  );
  assert.equal(
    certificationDroppable({ status: 'active', expiration_date: '2026-05-01', grace_period_end_date: '2026-06-15' }, today),
    false,
    'last day of grace',
  );
  assert.equal(certificationDroppable({ status: 'active', expiration_date: '2026-06-14' }, today), true);
  assert.equal(certificationDroppable({ status: 'inactive', expiration_date: '2026-01-01' }, today), false);
  assert.equal(certificationDroppable({ status: 'active' }, today), false);
});

test('renewing certifications: named by an open or approved renewal application', () => {
  const ids = renewingCertificationIds([
    { type: 'renewal', status: 'draft', certification_id: 'a' },
    { type: 'renewal', status: 'approved', certification_id: 'b' },
    { type: 'renewal', status: 'rejected', certification_id: 'c' },
    { type: 'certification', status: 'draft', certification_id: 'd' },
    { type: 'renewal', status: 'activated', certification_id: 'e' },
  ]);
  assert.deepEqual([...ids].sort(), ['a', 'b']);
});

test('a refresh prices renewals at the scheduled run day when it is later, else today', () => {
  assert.equal(pricingDay({}, today), today);
  assert.equal(pricingDay({ scheduled_run_date: '2026-07-01T06:00:00Z' }, today), '2026-07-01');
  assert.equal(pricingDay({ scheduled_run_date: '2026-06-01T06:00:00Z' }, today), today, 'a day past: today');
  assert.equal(pricingDay({ scheduled_run_date: 'soon' }, today), today);
});
