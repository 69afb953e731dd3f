import { test } from 'node:test';
import assert from 'node:assert/strict';
import { noticeDecision, NOT_SENT_REASONS, type NoticeLike } from './decision.js';

const to = 'ada@example.org';
const no = (reason: string) => ({ send: false, reason });

test('an active notice without restrictions goes to the trimmed address', () => {
  assert.deepEqual(noticeDecision({ id: 'n' }, { address: `  ${to} ` }), { send: true, address: to });
  assert.deepEqual(noticeDecision({ id: 'n', is_active: true }, { programIds: ['p'], address: to }), { send: true, address: to });
});

test('a missing notice or a switched-off one is not sent, whatever else holds', () => {
  assert.deepEqual(noticeDecision(undefined, { address: to }), no('notice not found'));
  assert.deepEqual(noticeDecision(null, { address: to }), no('notice not found'));
  assert.deepEqual(noticeDecision({ is_active: false }, { address: to }), no('notice inactive'));
  // switched off wins over the other reasons
  assert.deepEqual(
    noticeDecision({ is_active: false, restrict_to_certain_programs: true, restricted_program_ids: [] }, {}),
    no('notice inactive'),
  );
});

test('a notice limited to certain programmes goes only to a record of one of them', () => {
  const n: NoticeLike = { restrict_to_certain_programs: true, restricted_program_ids: ['rn', 'lpn'] };
  assert.deepEqual(noticeDecision(n, { programIds: ['midwife'], address: to }), no('notice limited to other programmes'));
  assert.deepEqual(noticeDecision(n, { programIds: [], address: to }), no('notice limited to other programmes'));
  assert.deepEqual(noticeDecision(n, { address: to }), no('notice limited to other programmes'), 'no programme known: not one of them');
  assert.deepEqual(noticeDecision(n, { programIds: [undefined, 'lpn'], address: to }), { send: true, address: to });
  // the switch off: the list does not matter
  assert.deepEqual(
    noticeDecision({ restrict_to_certain_programs: false, restricted_program_ids: ['rn'] }, { programIds: ['x'], address: to }),
    { send: true, address: to },
  );
});

test('exam limits apply to exam letters', () => {
  const n: NoticeLike = { restrict_to_certain_exams: true, restricted_exam_ids: ['board'] };
  assert.deepEqual(noticeDecision(n, { examId: 'other', address: to }), no('notice limited to other exams'));
  assert.deepEqual(noticeDecision(n, { examId: 'board', address: to }), { send: true, address: to });
});

test('status and status-reason limits apply only to a notice picked by status', () => {
  const n: NoticeLike = {
    restrict_to_certain_statuses: true,
    applicable_statuses: ['approved'],
    restrict_to_certain_status_reasons: true,
    applicable_status_reason_ids: ['r1'],
  };
  assert.deepEqual(
    noticeDecision(n, { status: { status: 'rejected', status_reason_id: 'r1' }, address: to }),
    no('notice limited to other statuses'),
  );
  assert.deepEqual(
    noticeDecision(n, { status: { status: 'approved', status_reason_id: 'r2' }, address: to }),
    no('notice limited to other status reasons'),
  );
  assert.deepEqual(noticeDecision(n, { status: { status: 'approved' }, address: to }), no('notice limited to other status reasons'));
  assert.deepEqual(noticeDecision(n, { status: { status: 'approved', status_reason_id: 'r1' }, address: to }), { send: true, address: to });
  // named explicitly (a billing run's reminder): no status given, the status limits do not apply
  assert.deepEqual(noticeDecision(n, { address: to }), { send: true, address: to });
});

test('no address, an empty or a non-string one: not sent, "no address" (after the notice itself was found fit)', () => {
  for (const address of [undefined, null, '', '   ', 42]) assert.deepEqual(noticeDecision({}, { address }), no('no address'));
  assert.deepEqual(noticeDecision({ is_active: false }, {}), no('notice inactive'));
});

test('every reason it gives is one of the recorded reasons', () => {
  const cases: [NoticeLike | undefined, Parameters<typeof noticeDecision>[1]][] = [
    [undefined, {}],
    [{ is_active: false }, {}],
    [{ restrict_to_certain_programs: true, restricted_program_ids: [] }, {}],
    [{ restrict_to_certain_exams: true, restricted_exam_ids: [] }, {}],
    [{ restrict_to_certain_statuses: true, applicable_statuses: [] }, { status: { status: 'x' } }],
    [{ restrict_to_certain_status_reasons: true, applicable_status_reason_ids: [] }, { status: { status: 'x' } }],
    [{}, {}],
  ];
  const reasons = cases.map(([n, f]) => {
    const d = noticeDecision(n, f);
    assert.equal(d.send, false);
    return d.send ? '' : d.reason;
  });
  assert.equal(new Set(reasons).size, cases.length, 'each case its own reason');
  for (const r of reasons) assert.ok((NOT_SENT_REASONS as readonly string[]).includes(r), r);
});
