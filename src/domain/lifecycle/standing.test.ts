import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultLapseReason, dueToLapse, effectiveStatus, lapseChanges, lastCoveredDay, standing, type StandingFacts } from './standing.js';

/** expires 2026-05-31, grace to 2026-06-30, reinstatable to 2026-08-29 */
const TERM: StandingFacts = { expiration_date: '2026-05-31', grace_period_end_date: '2026-06-30', reinstatement_end_date: '2026-08-29' };
const active = (over: StandingFacts = {}): StandingFacts => ({ status: 'active', ...TERM, ...over });

test('an active certification moves through the four standings with the days, each boundary day inclusive', () => {
  const c = active();
  assert.equal(standing(c, '2026-01-01'), 'current');
  assert.equal(standing(c, '2026-05-31'), 'current', 'the expiration day is still current');
  assert.equal(standing(c, '2026-06-01'), 'in_grace');
  assert.equal(standing(c, '2026-06-30'), 'in_grace', 'the grace end is still in grace');
  assert.equal(standing(c, '2026-07-01'), 'lapsed_reinstatable');
  assert.equal(standing(c, '2026-08-29'), 'lapsed_reinstatable', 'the reinstatement end is still reinstatable');
  assert.equal(standing(c, '2026-08-30'), 'lapsed');
});

test('without a grace period it lapses the day after expiring; without reinstatement it is lapsed at once', () => {
  const c = active({ grace_period_end_date: undefined, reinstatement_end_date: undefined });
  assert.equal(standing(c, '2026-05-31'), 'current');
  assert.equal(standing(c, '2026-06-01'), 'lapsed');
  assert.equal(standing(active({ reinstatement_end_date: undefined }), '2026-07-01'), 'lapsed');
});

test('an active certification without dates is current; the later of expiration and grace end counts', () => {
  assert.equal(standing({ status: 'active' }, '2099-01-01'), 'current');
  assert.equal(lastCoveredDay({ expiration_date: '2026-05-31', grace_period_end_date: '2026-05-01' }), '2026-05-31');
  assert.equal(standing(active({ grace_period_end_date: '2026-05-01', reinstatement_end_date: undefined }), '2026-05-31'), 'current');
  assert.equal(
    standing({ status: 'active', grace_period_end_date: '2026-06-30' }, '2026-06-30'),
    'current',
    'no expiration date: never in grace',
  );
  assert.equal(
    standing({ status: 'active', expiration_date: '2026-05-31T00:00:00Z' }, '2026-06-01'),
    'lapsed',
    'a date-time reads as its day',
  );
});

test('an inactive certification is never valid: reinstatable while a window is open, else lapsed', () => {
  const c = { ...TERM, status: 'inactive' };
  assert.equal(standing(c, '2026-04-01'), 'lapsed_reinstatable', 'inside its term: a renewal brings it back');
  assert.equal(standing(c, '2026-07-15'), 'lapsed_reinstatable');
  assert.equal(standing(c, '2026-08-30'), 'lapsed');
  assert.equal(standing({ status: 'inactive' }, '2026-01-01'), 'lapsed');
});

test('suspended, retired and unknown statuses have no standing', () => {
  for (const status of ['suspended', 'retired', undefined, 'weird'])
    assert.equal(standing({ ...TERM, status }, '2026-06-15'), undefined, String(status));
});

test('due to lapse: active past the last covered day; the effective status is then inactive', () => {
  assert.equal(dueToLapse(active(), '2026-06-30'), false);
  assert.equal(dueToLapse(active(), '2026-07-01'), true);
  assert.equal(dueToLapse({ ...TERM, status: 'inactive' }, '2026-09-01'), false, 'already inactive');
  assert.equal(effectiveStatus(active(), '2026-06-30'), 'active');
  assert.equal(effectiveStatus(active(), '2026-07-01'), 'inactive');
  assert.equal(effectiveStatus({ ...TERM, status: 'suspended' }, '2026-09-01'), 'suspended');
});

test('lapseChanges: inactive with the programme reason, else the default, else the reason untouched; null when not due', () => {
  const c = active({ status_reason_id: 'old' });
  assert.deepEqual(lapseChanges(c, { lapse_status_reason_id: 'lapsed' }, 'fallback', '2026-07-01'), {
    status: 'inactive',
    status_reason_id: 'lapsed',
  });
  assert.deepEqual(lapseChanges(c, {}, 'fallback', '2026-07-01'), { status: 'inactive', status_reason_id: 'fallback' });
  assert.deepEqual(lapseChanges(c, undefined, undefined, '2026-07-01'), { status: 'inactive' });
  assert.equal(lapseChanges(c, { lapse_status_reason_id: 'lapsed' }, undefined, '2026-06-30'), null, 'in grace');
  assert.equal(lapseChanges({ ...c, status: 'inactive' }, {}, undefined, '2026-07-01'), null, 'already lapsed');
});

test('defaultLapseReason: a lapse or expiry reason first, else the first inactive reason by name, never an inactive (switched off) one', () => {
  const reasons = [
    { id: 'a', name: 'Non-payment', status: 'inactive' },
    { id: 'b', name: 'Deceased', status: 'retired' },
    { id: 'c', name: 'Lapsed', status: 'inactive', is_active: false },
    { id: 'd', name: 'Licence expired', status: 'inactive' },
  ];
  assert.equal(defaultLapseReason(reasons), 'd');
  assert.equal(defaultLapseReason(reasons.filter((r) => r.id !== 'd')), 'a');
  assert.equal(defaultLapseReason([{ id: 'x', name: 'Lapsed' }]), 'x', 'a reason for any status');
  assert.equal(defaultLapseReason([{ id: 'b', name: 'Deceased', status: 'retired' }]), undefined);
});
