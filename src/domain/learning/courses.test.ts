import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  completionChange,
  completionCredits,
  courseRegistrationTransitionError,
  courseRegistrationWriteError,
  creditRules,
  impliedCourseRegistrationFields,
} from './courses.js';

const NOW = '2026-03-10T09:00:00.000Z';

test('course registration statuses: the lifecycle, cancelled is final, a new record may start anywhere', () => {
  const at = (status?: string) => ({ status });
  assert.equal(courseRegistrationTransitionError(undefined, 'completed'), null);
  assert.equal(courseRegistrationTransitionError(at(), 'registered'), null, 'absent = draft');
  assert.equal(courseRegistrationTransitionError(at('registered'), 'completed'), null);
  assert.equal(courseRegistrationTransitionError(at('completed'), 'cancelled'), null);
  assert.equal(courseRegistrationTransitionError(at('completed'), 'completed'), null);
  assert.match(courseRegistrationTransitionError(at('completed'), 'registered')!, /cannot go from completed to registered/);
  assert.match(courseRegistrationTransitionError(at('cancelled'), 'registered')!, /is cancelled; it can no longer change status/);
  assert.match(courseRegistrationTransitionError(at('registered'), 'bogus')!, /cannot go from registered to bogus/);
});

test('implied fields: cancellation date <-> cancelled, 100 % -> completed with its date', () => {
  assert.deepEqual(impliedCourseRegistrationFields({ status: 'registered', cancellation_date: NOW }, NOW), { status: 'cancelled' });
  assert.deepEqual(impliedCourseRegistrationFields({ status: 'cancelled' }, NOW), { cancellation_date: NOW });
  assert.deepEqual(impliedCourseRegistrationFields({ status: 'registered', completion_percentage: 100 }, NOW), {
    status: 'completed',
    completion_date: '2026-03-10',
  });
  assert.deepEqual(impliedCourseRegistrationFields({ status: 'registered', completion_percentage: 99.5 }, NOW), {});
  assert.deepEqual(impliedCourseRegistrationFields({ status: 'completed', completion_date: '2026-03-01' }, NOW), {});
  assert.deepEqual(
    impliedCourseRegistrationFields({ status: 'cancelled', cancellation_date: NOW, completion_percentage: 100 }, NOW),
    {},
    'cancelled stays cancelled',
  );
  // the write rule sees the implied status: a cancellation date on a cancelled record's successor is checked as cancelled
  assert.equal(courseRegistrationWriteError({ status: 'completed' }, { status: 'completed', cancellation_date: NOW }), null);
  assert.match(
    courseRegistrationWriteError({ status: 'cancelled' }, { status: 'registered', completion_percentage: 100 })!,
    /cancelled; it can no longer/,
  );
});

test('completion change: completed once, uncompleted when leaving completed', () => {
  assert.equal(completionChange(undefined, { status: 'completed' }), 'completed');
  assert.equal(completionChange({ status: 'registered' }, { status: 'completed' }), 'completed');
  assert.equal(completionChange({ status: 'completed' }, { status: 'completed' }), null, 'completing twice');
  assert.equal(completionChange({ status: 'completed' }, { status: 'cancelled' }), 'uncompleted');
  assert.equal(completionChange({ status: 'registered' }, { status: 'cancelled' }), null);
});

test('credit rules: the offering overrides the course only when it says so', () => {
  const course = { credits_to_assign: [{ credit_type_id: 'ce', quantity: 3 }] };
  const own = [{ credit_type_id: 'cme', quantity: 5, automatically_verify: true }];
  assert.deepEqual(creditRules({ override_credit_assignment: true, credits_to_assign: own }, course), own);
  assert.deepEqual(creditRules({ credits_to_assign: own }, course), course.credits_to_assign);
  assert.deepEqual(creditRules({ override_credit_assignment: true }, course), []);
  assert.deepEqual(creditRules({}, undefined), []);
});

test('completion credits: one per credit type, verified only when every rule of it auto-verifies, never twice', () => {
  const rules = [
    { credit_type_id: 'ce', quantity: 2, automatically_verify: true },
    { credit_type_id: 'ce', quantity: 1.5, automatically_verify: true },
    { credit_type_id: 'cme', quantity: 4 },
    { credit_type_id: 'mix', quantity: 1, automatically_verify: true },
    { credit_type_id: 'mix', quantity: 1 },
    { quantity: 3 },
    { credit_type_id: 'zero', quantity: 0 },
    { credit_type_id: 'tiny', quantity: 0.001 },
  ];
  assert.deepEqual(completionCredits(rules), [
    { type_id: 'ce', quantity: 3.5, status: 'verified' },
    { type_id: 'cme', quantity: 4, status: 'submitted' },
    { type_id: 'mix', quantity: 2, status: 'submitted' },
  ]);
  assert.deepEqual(
    completionCredits(rules, ['ce', 'mix']).map((c) => c.type_id),
    ['cme'],
  );
  assert.deepEqual(completionCredits(rules, ['ce', 'cme', 'mix']), []);
});
