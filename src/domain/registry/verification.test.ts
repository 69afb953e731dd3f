import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lastCoveredDay, pickCertificate, verdict } from './verification.js';

const TODAY = '2026-06-15';

test('active, before expiration: valid, not in grace', () => {
  assert.deepEqual(verdict({ status: 'active', expiration_date: '2026-12-31', grace_period_end_date: '2027-01-30' }, TODAY), {
    valid: true,
    in_grace_period: false,
    lapsed: false,
    valid_until: '2027-01-30',
  });
});

test('active, on the expiration day: still valid, not yet in grace', () => {
  const v = verdict({ status: 'active', expiration_date: TODAY, grace_period_end_date: '2026-07-15' }, TODAY);
  assert.equal(v.valid, true);
  assert.equal(v.in_grace_period, false);
});

test('active, after expiration, up to and including the grace end: valid and in grace', () => {
  for (const graceEnd of ['2026-06-20', TODAY]) {
    assert.deepEqual(verdict({ status: 'active', expiration_date: '2026-05-31', grace_period_end_date: graceEnd }, TODAY), {
      valid: true,
      in_grace_period: true,
      lapsed: false,
      valid_until: graceEnd,
    });
  }
});

test('active, past the grace end: lapsed, not valid', () => {
  assert.deepEqual(verdict({ status: 'active', expiration_date: '2026-04-30', grace_period_end_date: '2026-05-30' }, TODAY), {
    valid: false,
    in_grace_period: false,
    lapsed: true,
    valid_until: '2026-05-30',
  });
});

test('active, past expiration without a grace period: lapsed', () => {
  const v = verdict({ status: 'active', expiration_date: '2026-06-14' }, TODAY);
  assert.equal(v.valid, false);
  assert.equal(v.lapsed, true);
});

test('active without an expiration date does not expire', () => {
  assert.deepEqual(verdict({ status: 'active' }, TODAY), { valid: true, in_grace_period: false, lapsed: false });
});

test('inactive, suspended and retired are never valid, even before expiration', () => {
  for (const status of ['inactive', 'suspended', 'retired', undefined]) {
    const v = verdict({ status, expiration_date: '2030-01-01' }, TODAY);
    assert.equal(v.valid, false, String(status));
    assert.equal(v.in_grace_period, false);
    assert.equal(v.lapsed, false);
  }
});

test('a grace end before the expiration date (bad data) does not shorten validity', () => {
  assert.equal(lastCoveredDay({ expiration_date: '2026-12-31', grace_period_end_date: '2026-01-01' }), '2026-12-31');
  assert.equal(verdict({ status: 'active', expiration_date: '2026-12-31', grace_period_end_date: '2026-01-01' }, TODAY).valid, true);
  assert.equal(lastCoveredDay({ expiration_date: 'soon' }), undefined, 'not a date: ignored');
});

test('pickCertificate: a valid one first, then an active one, then the newest', () => {
  const valid = { id: 'a', status: 'active', expiration_date: '2027-01-01' };
  const lapsed = { id: 'b', status: 'active', expiration_date: '2025-01-01' };
  const inactive = { id: 'c', status: 'inactive', expiration_date: '2027-01-01' };
  const newerInactive = { id: 'd', status: 'retired' };
  assert.equal(pickCertificate([inactive, valid, lapsed], TODAY), valid);
  assert.equal(pickCertificate([inactive, lapsed], TODAY), lapsed);
  assert.equal(pickCertificate([inactive, newerInactive], TODAY), newerInactive);
  assert.equal(pickCertificate([], TODAY), undefined);
});
