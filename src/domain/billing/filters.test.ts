import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inWindow, passesOptions, passesRestriction } from './filters.js';

test('include: the value must be listed; a candidate without one fails', () => {
  assert.equal(passesRestriction('p1', 'include', ['p1', 'p2']), true);
  assert.equal(passesRestriction('p3', 'include', ['p1', 'p2']), false);
  assert.equal(passesRestriction(undefined, 'include', ['p1']), false);
  assert.equal(passesRestriction('P1', 'include', ['p1']), false, 'ids compare exactly');
});

test('exclude: the value must not be listed; a candidate without one passes', () => {
  assert.equal(passesRestriction('p1', 'exclude', ['p1', 'p2']), false);
  assert.equal(passesRestriction('p3', 'exclude', ['p1', 'p2']), true);
  assert.equal(passesRestriction(undefined, 'exclude', ['p1']), true);
});

test('none, no restriction or no ids filter nothing', () => {
  for (const value of ['p1', undefined, [], ['p9']]) {
    assert.equal(passesRestriction(value, 'none', ['p1']), true);
    assert.equal(passesRestriction(value, undefined, ['p1']), true);
    assert.equal(passesRestriction(value, 'include', undefined), true);
    assert.equal(passesRestriction(value, 'include', []), true);
    assert.equal(passesRestriction(value, 'exclude', []), true);
  }
  assert.equal(passesRestriction('p1', 'bogus' as any, ['p2']), true, 'an unknown mode filters nothing');
});

test('several values: include needs any of them listed, exclude none of them', () => {
  assert.equal(passesRestriction(['t1', 't2'], 'include', ['t2']), true);
  assert.equal(passesRestriction(['t1', 't2'], 'include', ['t3']), false);
  assert.equal(passesRestriction(['t1', undefined], 'include', ['t1']), true);
  assert.equal(passesRestriction([undefined], 'include', ['t1']), false);
  assert.equal(passesRestriction([], 'include', ['t1']), false);
  assert.equal(passesRestriction(['t1', 't2'], 'exclude', ['t2']), false);
  assert.equal(passesRestriction(['t1', 't2'], 'exclude', ['t3']), true);
  assert.equal(passesRestriction([], 'exclude', ['t1']), true);
  assert.equal(passesRestriction([undefined], 'exclude', ['t1']), true);
});

const cert = { program_id: 'p1', training_provider_ids: ['t1'], status_reason_id: 'sr1' };
const app = { ...cert, application_type: 'renewal' };

test('options: no block or an empty block passes everyone', () => {
  assert.equal(passesOptions(cert, undefined), true);
  assert.equal(passesOptions(cert, {}), true);
  assert.equal(passesOptions({}, {}), true);
});

test('options: program and training provider restrictions', () => {
  assert.equal(passesOptions(cert, { program_restriction: 'include', program_ids: ['p1'] }), true);
  assert.equal(passesOptions(cert, { program_restriction: 'include', program_ids: ['p2'] }), false);
  assert.equal(passesOptions(cert, { program_restriction: 'exclude', program_ids: ['p1'] }), false);
  assert.equal(passesOptions(cert, { program_restriction: 'none', program_ids: ['p2'] }), true);
  assert.equal(passesOptions({}, { program_restriction: 'include', program_ids: ['p1'] }), false);
  assert.equal(passesOptions(cert, { training_provider_restriction: 'include', training_provider_ids: ['t1', 't2'] }), true);
  assert.equal(passesOptions(cert, { training_provider_restriction: 'include', training_provider_ids: ['t2'] }), false);
  assert.equal(passesOptions(cert, { training_provider_restriction: 'exclude', training_provider_ids: ['t1'] }), false);
  assert.equal(passesOptions({ program_id: 'p1' }, { training_provider_restriction: 'exclude', training_provider_ids: ['t1'] }), true);
  assert.equal(passesOptions({ program_id: 'p1' }, { training_provider_restriction: 'include', training_provider_ids: ['t1'] }), false);
  // Both must pass.
  const both = {
    program_restriction: 'include',
    program_ids: ['p1'],
    training_provider_restriction: 'exclude',
    training_provider_ids: ['t1'],
  };
  assert.equal(passesOptions(cert, both), false);
  assert.equal(passesOptions({ ...cert, training_provider_ids: ['t2'] }, both), true);
});

test('options: status reasons only when restricted, and then the reason must be listed', () => {
  assert.equal(passesOptions(cert, { restrict_status_reasons: true, status_reason_ids: ['sr1', 'sr2'] }), true);
  assert.equal(passesOptions(cert, { restrict_status_reasons: true, status_reason_ids: ['sr2'] }), false);
  assert.equal(
    passesOptions({ program_id: 'p1' }, { restrict_status_reasons: true, status_reason_ids: ['sr1'] }),
    false,
    'no reason is not a listed reason',
  );
  assert.equal(passesOptions(cert, { restrict_status_reasons: false, status_reason_ids: ['sr2'] }), true);
  assert.equal(passesOptions(cert, { status_reason_ids: ['sr2'] }), true, 'the list alone does not restrict');
  assert.equal(passesOptions(cert, { restrict_status_reasons: true }), true, 'restricted to no list: nothing to check');
});

test('options: application types only for candidates that have one', () => {
  const opts = { restrict_application_types: true, application_types: ['certification', 'reinstatement'] };
  assert.equal(passesOptions(app, opts), false);
  assert.equal(passesOptions({ ...app, application_type: 'reinstatement' }, opts), true);
  assert.equal(passesOptions(cert, opts), true, 'certifications have no application type');
  assert.equal(passesOptions(app, { ...opts, restrict_application_types: false }), true);
  assert.equal(passesOptions(app, { application_types: ['certification'] }), true);
  assert.equal(
    passesOptions(app, { ...opts, application_types: ['renewal'], program_restriction: 'exclude', program_ids: ['p1'] }),
    false,
    'every filter must pass',
  );
});

test('window: inclusive days, open bounds, no day is never in', () => {
  assert.equal(inWindow('2026-03-15', '2026-03-01', '2026-03-31'), true);
  assert.equal(inWindow('2026-03-01', '2026-03-01', '2026-03-31'), true);
  assert.equal(inWindow('2026-03-31', '2026-03-01', '2026-03-31'), true);
  assert.equal(inWindow('2026-02-28', '2026-03-01', '2026-03-31'), false);
  assert.equal(inWindow('2026-04-01', '2026-03-01', '2026-03-31'), false);
  assert.equal(inWindow('2026-03-31T23:59:59Z', '2026-03-01', '2026-03-31'), true, 'a date-time compares by its day');
  assert.equal(inWindow('2026-03-01', '2026-03-01T12:00:00Z', '2026-03-31T00:00:00Z'), true, 'bounds compare by day too');
  assert.equal(inWindow('1900-01-01', undefined, '2026-03-31'), true);
  assert.equal(inWindow('2999-01-01', '2026-03-01', undefined), true);
  assert.equal(inWindow('2026-03-15', undefined, undefined), true);
  assert.equal(inWindow(undefined, undefined, undefined), false);
  assert.equal(inWindow(undefined, '2026-03-01', '2026-03-31'), false);
  assert.equal(inWindow('', undefined, undefined), false);
  assert.equal(inWindow('2026-03-15', '2026-03-31', '2026-03-01'), false, 'an inverted window holds nothing');
});
