import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DRAW_RANGE,
  auditAfterDraw,
  auditApprovalError,
  auditDueDate,
  auditSelected,
  auditThreshold,
  auditTransitionError,
} from './audits.js';

test('auditThreshold: the rate in hundredths of a percent, clamped to 0..DRAW_RANGE', () => {
  assert.equal(auditThreshold(10), 1000);
  assert.equal(auditThreshold(12.5), 1250);
  assert.equal(auditThreshold(0.01), 1);
  assert.equal(auditThreshold(0), 0);
  assert.equal(auditThreshold(-5), 0);
  assert.equal(auditThreshold(100), DRAW_RANGE);
  assert.equal(auditThreshold(150), DRAW_RANGE);
  assert.equal(auditThreshold(Number.NaN), 0);
});

test('auditSelected: a draw below the threshold selects; exactly rate % of all draws do', () => {
  assert.equal(auditSelected(10, 0), true);
  assert.equal(auditSelected(10, 999), true);
  assert.equal(auditSelected(10, 1000), false);
  assert.equal(auditSelected(0, 0), false, 'rate 0 never selects');
  assert.equal(auditSelected(100, DRAW_RANGE - 1), true, 'rate 100 always selects');
  for (const rate of [0, 7, 10, 33.33, 100]) {
    let n = 0;
    for (let d = 0; d < DRAW_RANGE; d++) if (auditSelected(rate, d)) n++;
    assert.equal(n, Math.round(rate * 100), `rate ${rate}`);
  }
  assert.throws(() => auditSelected(10, DRAW_RANGE), RangeError);
  assert.throws(() => auditSelected(10, -1), RangeError);
  assert.throws(() => auditSelected(10, 1.5), RangeError);
});

test("auditDueDate: 30 days by default, else the process's days", () => {
  assert.equal(auditDueDate('2026-01-15T10:00:00.000Z', undefined), '2026-02-14');
  assert.equal(auditDueDate('2026-01-15', 14), '2026-01-29');
  assert.equal(auditDueDate('2026-12-20', 20), '2027-01-09');
  assert.equal(auditDueDate('2026-01-15', 0), '2026-02-14');
});

test('auditAfterDraw: records rate, draw and result; a selected application gets a requested audit', () => {
  const now = '2026-01-15T10:00:00.000Z';
  assert.deepEqual(auditAfterDraw(10, 5000, now), { rate: 10, draw: 5000, selected: false, drawn_at: now, status: 'not selected' });
  assert.deepEqual(auditAfterDraw(10, 42, now, 14), {
    rate: 10,
    draw: 42,
    selected: true,
    drawn_at: now,
    status: 'requested',
    requested_at: now,
    documents_due_date: '2026-01-29',
  });
});

test('auditTransitionError: requested -> submitted -> passed | failed; final once decided', () => {
  const audit = (status: string) => ({ selected: true, status });
  assert.equal(auditTransitionError(audit('requested'), 'submitted'), null);
  assert.equal(auditTransitionError(audit('requested'), 'passed'), null);
  assert.equal(auditTransitionError(audit('requested'), 'failed'), null);
  assert.equal(auditTransitionError(audit('submitted'), 'passed'), null);
  assert.equal(auditTransitionError(audit('submitted'), 'failed'), null);
  assert.match(auditTransitionError(audit('submitted'), 'submitted')!, /cannot go from submitted to submitted/);
  assert.match(auditTransitionError(audit('passed'), 'failed')!, /already passed/);
  assert.match(auditTransitionError(audit('failed'), 'passed')!, /already failed/);
  assert.match(auditTransitionError(undefined, 'passed')!, /not selected/);
  assert.match(auditTransitionError({ selected: false, status: 'not selected' }, 'passed')!, /not selected/);
  assert.match(auditTransitionError(audit('requested'), 'requested')!, /one of submitted, passed, failed/);
});

test('auditApprovalError: only a selected audit that has not passed blocks approval', () => {
  assert.equal(auditApprovalError(undefined), null);
  assert.equal(auditApprovalError({ selected: false, status: 'not selected' }), null);
  assert.equal(auditApprovalError({ selected: true, status: 'passed' }), null);
  assert.match(
    auditApprovalError({ selected: true, status: 'requested', documents_due_date: '2026-02-14' })!,
    /selected for a CE audit, which is requested \(documents due 2026-02-14\)/,
  );
  assert.match(auditApprovalError({ selected: true, status: 'submitted' })!, /which is submitted/);
  assert.match(auditApprovalError({ selected: true, status: 'failed' })!, /which is failed/);
});
