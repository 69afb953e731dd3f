import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ExamRuleError,
  examEligibility,
  examRegistrationTransitionError,
  mayRegister,
  impliedExamRegistrationFields,
  letterFor,
  processUseError,
  scoreOutcome,
  type ExamRegProcessLike,
  type ExamRegistrationLike,
} from './exams.js';

const NOW = '2026-05-01T12:00:00.000Z';

test('score against the passing score: at or above passes', () => {
  assert.equal(scoreOutcome(70, 70), 'passed');
  assert.equal(scoreOutcome(69.9, 70), 'failed');
  assert.equal(scoreOutcome(100, 70), 'passed');
});

test('a recorded score sets passed / failed; no show and cancelled are explicit and take no score', () => {
  const implied = (old: Record<string, unknown> | undefined, next: Record<string, unknown>, passing: number | null = 70) =>
    impliedExamRegistrationFields(old, next, passing ?? undefined, NOW);
  assert.deepEqual(implied({ status: 'registered' }, { status: 'registered', score: 82 }), { status: 'passed' });
  assert.deepEqual(implied({ status: 'registered' }, { status: 'registered', score: 40 }), { status: 'failed' });
  assert.deepEqual(implied(undefined, { score: 40 }), { status: 'failed' });
  assert.deepEqual(
    implied({ status: 'registered' }, { status: 'registered', score: 82 }, null),
    {},
    'no passing score: status stays explicit',
  );
  assert.deepEqual(implied({ status: 'registered' }, { status: 'no show' }), {});
  assert.deepEqual(implied({ status: 'registered' }, { status: 'cancelled' }), { cancellation_date: NOW });
  assert.deepEqual(implied({ status: 'registered' }, { status: 'registered', cancellation_date: NOW }), { status: 'cancelled' });
  assert.deepEqual(implied({ status: 'registered' }, { status: 'no show', score: 50 }), {}, 'a no show stays a no show');
  assert.deepEqual(implied({ status: 'registered' }, { status: 'cancelled', cancellation_date: NOW, score: 90 }), {});
  assert.throws(() => implied({ status: 'registered' }, { status: 'failed', score: 90 }), ExamRuleError);
  assert.throws(
    () => implied({ status: 'registered' }, { status: 'passed', score: 50 }),
    /score 50 is below the passing score 70: the registration failed, not passed/,
  );
  assert.throws(() => implied({ status: 'passed', score: 80 }, { status: 'failed', score: 80 }), /at or above the passing score 70/);
  // re-scoring a passed sitting changes its outcome
  assert.deepEqual(implied({ status: 'passed', score: 80 }, { status: 'passed', score: 50 }), { status: 'failed' });
  // unchanged score and status (a note edited): the stored outcome stands, even if the passing score moved
  assert.deepEqual(implied({ status: 'failed', score: 65 }, { status: 'failed', score: 65 }, 60), {});
});

test('exam registration statuses: registered -> passed | failed | no show | cancelled; re-scoring flips passed <-> failed', () => {
  const at = (status?: string) => ({ status });
  assert.equal(examRegistrationTransitionError(undefined, 'passed'), null);
  assert.equal(examRegistrationTransitionError(at('registered'), 'failed'), null);
  assert.equal(examRegistrationTransitionError(at('failed'), 'passed'), null);
  assert.equal(examRegistrationTransitionError(at(), 'cancelled'), null, 'absent = draft');
  assert.match(examRegistrationTransitionError(at('draft'), 'passed')!, /cannot go from draft to passed/);
  assert.match(examRegistrationTransitionError(at('no show'), 'passed')!, /no show; it can no longer change/);
  assert.match(examRegistrationTransitionError(at('passed'), 'cancelled')!, /cannot go from passed to cancelled/);
});

test('letters: the offering overrides the exam (whether one is sent: src/domain/notices)', () => {
  const exam = { pass_letter_id: 'ep', fail_letter_id: 'ef' };
  assert.equal(letterFor('passed', { pass_letter_id: 'op' }, exam), 'op');
  assert.equal(letterFor('failed', { pass_letter_id: 'op' }, exam), 'ef');
  assert.equal(letterFor('passed', undefined, undefined), undefined);
  assert.equal(letterFor('no show', { pass_letter_id: 'op' }, exam), undefined);
});

test('eligibility: register first, retest after a fail, none while open or after a pass', () => {
  const processes: ExamRegProcessLike[] = [
    { id: 'p-retest', type: 'retest' },
    { id: 'p-reg2', type: 'register', display_order: 2 },
    { id: 'p-reg1', type: 'register', display_order: 1 },
    { id: 'p-other', type: 'register', restrict_exams: true, exam_ids: ['other-exam'] },
    { id: 'p-old', type: 'register', is_active: false },
  ];
  const reg = (id: string, status?: string, exam_id = 'x') => ({ id, status, exam_id }) as ExamRegistrationLike;
  const first = examEligibility('x', [], processes);
  assert.equal(first.type, 'register');
  assert.deepEqual(
    first.processes.map((p) => p.id),
    ['p-reg1', 'p-reg2'],
  );
  assert.equal(first.last_registration, undefined);

  const open = examEligibility('x', [reg('r1', 'registered')], processes);
  assert.equal(open.type, null);
  assert.match(open.reason, /r1 .* still registered/);
  assert.deepEqual(open.processes, []);

  const failed = examEligibility('x', [reg('r1', 'failed')], processes);
  assert.equal(failed.type, 'retest');
  assert.deepEqual(
    failed.processes.map((p) => p.id),
    ['p-retest'],
  );
  assert.equal(failed.last_registration?.id, 'r1');
  assert.equal(examEligibility('x', [reg('r1', 'no show')], processes).type, 'retest');
  assert.equal(examEligibility('x', [reg('r1', 'cancelled')], processes).type, 'register', 'a cancelled sitting is no attempt');
  assert.equal(examEligibility('x', [reg('r1', 'failed'), reg('r2', 'registered')], processes).type, null);

  const passed = examEligibility('x', [reg('r1', 'failed'), reg('r2', 'passed')], processes);
  assert.equal(passed.type, null);
  assert.match(passed.reason, /passed \(registration r2\)/);
  assert.equal(passed.last_registration?.id, 'r2');

  assert.equal(examEligibility('x', [reg('r1', 'passed', 'other')], processes).type, 'register', 'other exams do not count');
  const none = examEligibility('x', [reg('r1', 'failed')], [{ id: 'p', type: 'register' }]);
  assert.equal(none.type, 'retest');
  assert.match(none.reason, /no active retest process/);
  assert.deepEqual([first, open, failed, passed, none].map(mayRegister), [true, false, true, false, false]);

  assert.equal(processUseError({ id: 'p-reg1', type: 'register' }, first), null);
  assert.match(processUseError({ id: 'p-reg1', type: 'register' }, failed)!, /needs a retest/);
  assert.match(processUseError({ id: 'p-retest', type: 'retest' }, passed)!, /no exam registration is possible now: the exam was passed/);
  assert.match(processUseError({ id: 'p-other', type: 'register' }, first)!, /does not serve this exam/);
});
