import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  allocateCredits,
  applicationTransitionError,
  availableFor,
  creditCounts,
  evaluateRequirements,
  statusAfterSubmit,
  type ApplicantFacts,
  type CreditLike,
  type Evaluation,
  type ProcessLike,
  type Requirement,
} from './applications.js';

// ---- helpers ---------------------------------------------------------------------------------------

const facts = (o: Partial<ApplicantFacts> = {}): ApplicantFacts => ({
  credits: [],
  completedCourseIds: [],
  passedExamIds: [],
  completedReferences: 0,
  feePaid: false,
  window: {},
  appliedToThis: {},
  ...o,
});
/** A verified credit earned on 2024-01-01 unless overridden. */
// `status` takes any text (pending, Verified …): stored records and imports may hold what the schema refuses
const credit = (id: string, type_id: string, quantity: number, o: Omit<Partial<CreditLike>, 'status'> & { status?: string } = {}) =>
  ({
    id,
    type_id,
    quantity,
    status: 'verified',
    date: '2024-01-01',
    ...o,
  }) as CreditLike;
const needs = (...reqs: [string, number][]): ProcessLike => ({
  credit_requirements: reqs.map(([credit_type_id, quantity]) => ({ credit_type_id, quantity })),
});
const creditReq = (ev: Evaluation, type: string) => {
  const r = ev.requirements.find((x): x is Extract<Requirement, { kind: 'credits' }> => x.kind === 'credits' && x.credit_type_id === type);
  assert.ok(r, `no credits requirement for ${type}`);
  return r;
};
const earned = (process: ProcessLike, f: ApplicantFacts, type: string) => creditReq(evaluateRequirements(process, f), type).earned;
const kindOf = (ev: Evaluation, kind: Requirement['kind']) => ev.requirements.filter((r) => r.kind === kind);

// ---- applicationTransitionError ----------------------------------------------------------------------

const STATUSES = [
  'draft',
  'missing requirements',
  'pending approval',
  'approved',
  'rejected',
  'activated',
  'withdrawn',
  'expired',
] as const;
const TERMINAL = new Set(['rejected', 'activated', 'withdrawn', 'expired']);
/** The lifecycle, written out independently of the implementation. */
const ALLOWED = new Set([
  'draft>missing requirements',
  'draft>pending approval',
  'draft>withdrawn',
  'draft>expired',
  'missing requirements>pending approval',
  'missing requirements>withdrawn',
  'missing requirements>expired',
  'pending approval>approved',
  'pending approval>rejected',
  'pending approval>missing requirements',
  'pending approval>withdrawn',
  'pending approval>expired',
  'approved>activated',
  'approved>withdrawn',
  'approved>expired',
]);

for (const from of STATUSES) {
  for (const to of STATUSES) {
    const allowed = from === to || ALLOWED.has(`${from}>${to}`);
    test(`applicationTransitionError: ${from} -> ${to} is ${allowed ? 'allowed' : 'refused'}`, () => {
      const why = applicationTransitionError(from, to);
      if (allowed) {
        assert.equal(why, null);
      } else if (TERMINAL.has(from)) {
        assert.equal(typeof why, 'string');
        assert.match(why!, /can no longer change/);
        assert.ok(why!.includes(from), why!);
      } else {
        assert.equal(typeof why, 'string');
        assert.ok(why!.includes(`from ${from} to ${to}`), why!);
      }
    });
  }
}

test('applicationTransitionError: forbidden message lists what is allowed from the status', () => {
  assert.equal(
    applicationTransitionError('approved', 'draft'),
    'an application cannot go from approved to draft (from approved: activated, withdrawn, expired)',
  );
});
test('applicationTransitionError: terminal status message', () => {
  assert.equal(applicationTransitionError('rejected', 'approved'), 'the application is rejected; it can no longer change status');
  assert.equal(applicationTransitionError('activated', 'draft'), 'the application is activated; it can no longer change status');
});
test('applicationTransitionError: undefined from means draft', () => {
  assert.equal(applicationTransitionError(undefined, 'pending approval'), null);
  assert.equal(applicationTransitionError(undefined, 'missing requirements'), null);
  assert.equal(applicationTransitionError(undefined, 'draft'), null);
  const why = applicationTransitionError(undefined, 'approved');
  assert.ok(why?.includes('from draft to approved'), String(why));
  assert.ok(applicationTransitionError(undefined, 'activated')?.includes('from draft to activated'));
});
test('applicationTransitionError: undefined to means draft', () => {
  assert.equal(applicationTransitionError('draft', undefined), null);
  assert.equal(applicationTransitionError(undefined, undefined), null);
  assert.ok(applicationTransitionError('pending approval', undefined)?.includes('from pending approval to draft'));
  assert.match(applicationTransitionError('expired', undefined) ?? '', /can no longer change/);
});
test('applicationTransitionError: unknown from status', () => {
  assert.equal(applicationTransitionError('archived', 'draft'), 'unknown application status "archived"');
  assert.equal(applicationTransitionError('Draft', 'pending approval'), 'unknown application status "Draft"');
});
test('applicationTransitionError: unknown to status is refused and named', () => {
  const why = applicationTransitionError('draft', 'archived');
  assert.equal(typeof why, 'string');
  assert.ok(why!.includes('draft') && why!.includes('archived'), why!);
  assert.notEqual(applicationTransitionError('approved', 'Activated'), null);
});
test('applicationTransitionError: unknown statuses named like Object.prototype members return a message, not a TypeError', () => {
  for (const s of ['toString', 'constructor', 'hasOwnProperty', '__proto__']) {
    assert.equal(applicationTransitionError(s, 'draft'), `unknown application status "${s}"`);
  }
});

// ---- availableFor / creditCounts -----------------------------------------------------------------

test('availableFor: unused quantity plus what this application already holds', () => {
  assert.equal(availableFor(credit('c', 'T', 5), 0), 5);
  assert.equal(availableFor(credit('c', 'T', 5, { quantity_used: 2 }), 0), 3);
  assert.equal(availableFor(credit('c', 'T', 5, { quantity_used: 5 }), 0), 0);
  assert.equal(availableFor(credit('c', 'T', 5, { quantity_used: 5 }), 2), 2);
  assert.equal(availableFor(credit('c', 'T', 5, { quantity_used: 3 }), 3), 5);
});
test('availableFor: over-used credit never goes negative', () => {
  assert.equal(availableFor(credit('c', 'T', 5, { quantity_used: 8 }), 0), 0);
  assert.equal(availableFor(credit('c', 'T', 5, { quantity_used: 8 }), 1), 1);
});

test('creditCounts: only verified credits', () => {
  assert.equal(creditCounts(credit('c', 'T', 1), {}), true);
  for (const status of ['pending', 'rejected', 'expired', 'Verified', undefined]) {
    assert.equal(creditCounts(credit('c', 'T', 1, { status }), {}), false, String(status));
  }
});
test('creditCounts: window bounds are inclusive', () => {
  const w = { from: '2024-01-01', to: '2024-12-31' };
  assert.equal(creditCounts(credit('c', 'T', 1, { date: '2024-01-01' }), w), true);
  assert.equal(creditCounts(credit('c', 'T', 1, { date: '2024-12-31' }), w), true);
  assert.equal(creditCounts(credit('c', 'T', 1, { date: '2023-12-31' }), w), false);
  assert.equal(creditCounts(credit('c', 'T', 1, { date: '2025-01-01' }), w), false);
});
test('creditCounts: open-ended windows', () => {
  assert.equal(creditCounts(credit('c', 'T', 1, { date: '1999-01-01' }), { to: '2024-12-31' }), true);
  assert.equal(creditCounts(credit('c', 'T', 1, { date: '2099-01-01' }), { from: '2024-01-01' }), true);
  assert.equal(creditCounts(credit('c', 'T', 1, { date: '2023-12-31' }), { from: '2024-01-01' }), false);
  assert.equal(creditCounts(credit('c', 'T', 1, { date: '2025-01-01' }), { to: '2024-12-31' }), false);
});
test('creditCounts: expired before the window end does not count; expiring on it does', () => {
  const w = { from: '2024-01-01', to: '2024-06-30' };
  assert.equal(creditCounts(credit('c', 'T', 1, { date: '2024-02-01', expiration_date: '2024-06-29' }), w), false);
  assert.equal(creditCounts(credit('c', 'T', 1, { date: '2024-02-01', expiration_date: '2024-06-30' }), w), true);
  assert.equal(creditCounts(credit('c', 'T', 1, { date: '2024-02-01', expiration_date: '2025-01-01' }), w), true);
});

// ---- evaluateRequirements: credits -----------------------------------------------------------------

test('evaluateRequirements: credits of a type are summed across credits', () => {
  const f = facts({ credits: [credit('a', 'CE', 3), credit('b', 'CE', 2), credit('c', 'ETHICS', 10)] });
  const ev = evaluateRequirements(needs(['CE', 5]), f);
  assert.deepEqual(ev, {
    met: true,
    requirements: [{ kind: 'credits', credit_type_id: 'CE', required: 5, earned: 5, met: true, progress: 1 }],
  });
});
test('evaluateRequirements: credits of another type do not count', () => {
  const f = facts({ credits: [credit('a', 'CE', 3), credit('c', 'ETHICS', 10), credit('d', undefined as unknown as string, 10)] });
  const ev = evaluateRequirements(needs(['CE', 5]), f);
  assert.equal(creditReq(ev, 'CE').earned, 3);
  assert.equal(ev.met, false);
});
test('evaluateRequirements: each credit type is evaluated on its own', () => {
  const f = facts({ credits: [credit('a', 'CE', 6), credit('b', 'ETHICS', 1)] });
  const ev = evaluateRequirements(needs(['CE', 5], ['ETHICS', 2]), f);
  assert.deepEqual(
    ev.requirements.map((r) => r.kind === 'credits' && [r.credit_type_id, r.earned, r.met]),
    [
      ['CE', 6, true],
      ['ETHICS', 1, false],
    ],
  );
  assert.equal(ev.met, false);
});
test('evaluateRequirements: only verified credits count', () => {
  const f = facts({
    credits: [credit('a', 'CE', 2), credit('b', 'CE', 4, { status: 'pending' }), credit('c', 'CE', 8, { status: 'rejected' })],
  });
  assert.equal(earned(needs(['CE', 5]), f, 'CE'), 2);
});
test('evaluateRequirements: window bounds are inclusive', () => {
  const f = facts({
    window: { from: '2024-01-01', to: '2024-12-31' },
    credits: [
      credit('before', 'CE', 100, { date: '2023-12-31' }),
      credit('first', 'CE', 1, { date: '2024-01-01' }),
      credit('mid', 'CE', 10, { date: '2024-06-15' }),
      credit('last', 'CE', 1000, { date: '2024-12-31' }),
      credit('after', 'CE', 10000, { date: '2025-01-01' }),
    ],
  });
  assert.equal(earned(needs(['CE', 5]), f, 'CE'), 1011);
});
test('evaluateRequirements: credits expired before the window end do not count', () => {
  const f = facts({
    window: { to: '2024-12-31' },
    credits: [
      credit('expired', 'CE', 4, { expiration_date: '2024-12-30' }),
      credit('on-the-day', 'CE', 2, { expiration_date: '2024-12-31' }),
      credit('valid', 'CE', 1, { expiration_date: '2026-01-01' }),
    ],
  });
  const ev = evaluateRequirements(needs(['CE', 4]), f);
  assert.equal(creditReq(ev, 'CE').earned, 3);
  assert.equal(ev.met, false);
});
test('evaluateRequirements: quantity_used reduces what a credit offers', () => {
  const f = facts({
    credits: [
      credit('a', 'CE', 5, { quantity_used: 2 }),
      credit('b', 'CE', 4, { quantity_used: 4 }),
      credit('c', 'CE', 1, { quantity_used: 9 }),
    ],
  });
  assert.equal(earned(needs(['CE', 5]), f, 'CE'), 3);
});
test('evaluateRequirements: credits already applied to this application count back in', () => {
  // a: 5 used, all by this application; b: 5 used, 2 by this one (3 by others)
  const f = facts({
    credits: [credit('a', 'CE', 5, { quantity_used: 5 }), credit('b', 'CE', 5, { quantity_used: 5 })],
    appliedToThis: { a: 5, b: 2 },
  });
  const ev = evaluateRequirements(needs(['CE', 7]), f);
  assert.equal(creditReq(ev, 'CE').earned, 7);
  assert.equal(ev.met, true);
});
test('evaluateRequirements: applied credits are not double-counted', () => {
  const f = facts({ credits: [credit('a', 'CE', 5, { quantity_used: 3 })], appliedToThis: { a: 3 } });
  assert.equal(earned(needs(['CE', 5]), f, 'CE'), 5);
});
test('evaluateRequirements: appliedToThis of a credit that no longer counts is ignored', () => {
  const f = facts({ credits: [credit('a', 'CE', 5, { quantity_used: 5, status: 'rejected' })], appliedToThis: { a: 5, ghost: 9 } });
  assert.equal(earned(needs(['CE', 5]), f, 'CE'), 0);
});
test('evaluateRequirements: credit progress ratios', () => {
  const f = facts({ credits: [credit('a', 'CE', 3), credit('b', 'ETHICS', 6)] });
  const ev = evaluateRequirements(needs(['CE', 4], ['ETHICS', 4], ['OTHER', 2]), f);
  assert.equal(creditReq(ev, 'CE').progress, 0.75);
  assert.equal(creditReq(ev, 'ETHICS').progress, 1);
  assert.equal(creditReq(ev, 'ETHICS').earned, 6);
  assert.equal(creditReq(ev, 'OTHER').progress, 0);
  assert.equal(creditReq(ev, 'OTHER').met, false);
});
test('evaluateRequirements: a zero-quantity credit requirement is met with progress 1', () => {
  const ev = evaluateRequirements(needs(['CE', 0]), facts());
  assert.deepEqual(ev.requirements, [{ kind: 'credits', credit_type_id: 'CE', required: 0, earned: 0, met: true, progress: 1 }]);
  assert.equal(ev.met, true);
});
test('evaluateRequirements: fractional credits that add up exactly meet the requirement (0.7 + 0.1 >= 0.8)', () => {
  const f = facts({ credits: [credit('a', 'CE', 0.7), credit('b', 'CE', 0.1)] });
  const ev = evaluateRequirements(needs(['CE', 0.8]), f);
  assert.equal(creditReq(ev, 'CE').met, true);
  assert.equal(creditReq(ev, 'CE').progress, 1);
  assert.equal(ev.met, true);
});

// ---- evaluateRequirements: courses, exams, references, fee --------------------------------------------

test('evaluateRequirements: courses', () => {
  const ev = evaluateRequirements({ required_course_ids: ['c1', 'c2'] }, facts({ completedCourseIds: ['c2', 'c9'] }));
  assert.deepEqual(ev.requirements, [
    { kind: 'course', course_id: 'c1', met: false, progress: 0 },
    { kind: 'course', course_id: 'c2', met: true, progress: 1 },
  ]);
  assert.equal(ev.met, false);
  assert.equal(evaluateRequirements({ required_course_ids: ['c1', 'c2'] }, facts({ completedCourseIds: ['c1', 'c2'] })).met, true);
});
test('evaluateRequirements: exams', () => {
  const ev = evaluateRequirements({ required_exam_ids: ['e1', 'e2'] }, facts({ passedExamIds: ['e1'], completedCourseIds: ['e2'] }));
  assert.deepEqual(ev.requirements, [
    { kind: 'exam', exam_id: 'e1', met: true, progress: 1 },
    { kind: 'exam', exam_id: 'e2', met: false, progress: 0 },
  ]);
  assert.equal(ev.met, false);
  assert.equal(evaluateRequirements({ required_exam_ids: ['e1'] }, facts({ passedExamIds: ['e1'] })).met, true);
});
test('evaluateRequirements: a reference process requires one reference by default', () => {
  const p: ProcessLike = { reference_process_id: 'rp' };
  assert.deepEqual(evaluateRequirements(p, facts()).requirements, [
    { kind: 'references', required: 1, completed: 0, met: false, progress: 0 },
  ]);
  assert.deepEqual(evaluateRequirements(p, facts({ completedReferences: 1 })), {
    met: true,
    requirements: [{ kind: 'references', required: 1, completed: 1, met: true, progress: 1 }],
  });
});
test('evaluateRequirements: required_reference_count overrides the default', () => {
  const p: ProcessLike = { reference_process_id: 'rp', required_reference_count: 3 };
  const r = kindOf(evaluateRequirements(p, facts({ completedReferences: 2 })), 'references');
  assert.equal(r.length, 1);
  assert.deepEqual(r[0], { kind: 'references', required: 3, completed: 2, met: false, progress: 2 / 3 });
  assert.equal(evaluateRequirements(p, facts({ completedReferences: 3 })).met, true);
  assert.equal(evaluateRequirements(p, facts({ completedReferences: 4 })).requirements[0]!.progress, 1);
});
test('evaluateRequirements: required_reference_count 0 means no references requirement', () => {
  const ev = evaluateRequirements({ reference_process_id: 'rp', required_reference_count: 0 }, facts());
  assert.deepEqual(ev, { met: true, requirements: [] });
});
test('evaluateRequirements: no reference process and no count means no references requirement', () => {
  assert.deepEqual(kindOf(evaluateRequirements({}, facts({ completedReferences: 0 })), 'references'), []);
});
test('evaluateRequirements: fee', () => {
  assert.deepEqual(evaluateRequirements({ application_fee_id: 'fee1' }, facts()), {
    met: false,
    requirements: [{ kind: 'fee', application_fee_id: 'fee1', met: false, progress: 0 }],
  });
  assert.deepEqual(evaluateRequirements({ application_fee_id: 'fee1' }, facts({ feePaid: true })), {
    met: true,
    requirements: [{ kind: 'fee', application_fee_id: 'fee1', met: true, progress: 1 }],
  });
  assert.deepEqual(kindOf(evaluateRequirements({}, facts({ feePaid: false })), 'fee'), []);
});

// ---- evaluateRequirements: overall ---------------------------------------------------------------

const FULL: ProcessLike = {
  credit_requirements: [{ credit_type_id: 'CE', quantity: 4 }],
  required_course_ids: ['c1'],
  required_exam_ids: ['e1'],
  reference_process_id: 'rp',
  required_reference_count: 2,
  application_fee_id: 'fee1',
};
const ALL_MET = facts({
  credits: [credit('a', 'CE', 4)],
  completedCourseIds: ['c1'],
  passedExamIds: ['e1'],
  completedReferences: 2,
  feePaid: true,
});

test('evaluateRequirements: everything met, in order credits, courses, exams, references, fee', () => {
  const ev = evaluateRequirements(FULL, ALL_MET);
  assert.equal(ev.met, true);
  assert.deepEqual(
    ev.requirements.map((r) => r.kind),
    ['credits', 'course', 'exam', 'references', 'fee'],
  );
  assert.ok(ev.requirements.every((r) => r.met && r.progress === 1));
});
test('evaluateRequirements: met only when every requirement is met', () => {
  const misses: [string, Partial<ApplicantFacts>][] = [
    ['credits', { credits: [credit('a', 'CE', 3)] }],
    ['course', { completedCourseIds: [] }],
    ['exam', { passedExamIds: [] }],
    ['references', { completedReferences: 1 }],
    ['fee', { feePaid: false }],
  ];
  for (const [kind, change] of misses) {
    const ev = evaluateRequirements(FULL, { ...ALL_MET, ...change });
    assert.equal(ev.met, false, kind);
    assert.deepEqual(
      ev.requirements.filter((r) => !r.met).map((r) => r.kind),
      [kind],
    );
  }
});
test('evaluateRequirements: a process with no requirements is met', () => {
  assert.deepEqual(evaluateRequirements({}, facts()), { met: true, requirements: [] });
  assert.deepEqual(evaluateRequirements({ credit_requirements: [], required_course_ids: [], required_exam_ids: [] }, facts()), {
    met: true,
    requirements: [],
  });
});

// ---- allocateCredits ----------------------------------------------------------------------------------

test('allocateCredits: oldest credit first, by date', () => {
  const f = facts({
    credits: [
      credit('new', 'CE', 5, { date: '2024-03-01' }),
      credit('old', 'CE', 5, { date: '2024-01-01' }),
      credit('mid', 'CE', 5, { date: '2024-02-01' }),
    ],
  });
  assert.deepEqual(allocateCredits(needs(['CE', 3]), f), { old: 3 });
  assert.deepEqual(allocateCredits(needs(['CE', 8]), f), { old: 5, mid: 3 });
});
test('allocateCredits: same date, by id', () => {
  const f = facts({ credits: [credit('b', 'CE', 5), credit('c', 'CE', 5), credit('a', 'CE', 5)] });
  assert.deepEqual(allocateCredits(needs(['CE', 7]), f), { a: 5, b: 2 });
});
test('allocateCredits: partial use of a credit', () => {
  const f = facts({ credits: [credit('a', 'CE', 10)] });
  assert.deepEqual(allocateCredits(needs(['CE', 4]), f), { a: 4 });
  assert.deepEqual(allocateCredits(needs(['CE', 10]), f), { a: 10 });
});
test('allocateCredits: credit types share nothing', () => {
  const f = facts({
    credits: [credit('ce1', 'CE', 3, { date: '2023-01-01' }), credit('eth1', 'ETHICS', 10, { date: '2022-01-01' }), credit('ce2', 'CE', 3)],
  });
  assert.deepEqual(allocateCredits(needs(['CE', 4], ['ETHICS', 2]), f), { ce1: 3, ce2: 1, eth1: 2 });
  // plenty of ETHICS does not make up for too little CE
  assert.equal(allocateCredits(needs(['CE', 7], ['ETHICS', 2]), f), null);
  assert.equal(allocateCredits(needs(['ETHICS', 11]), f), null);
});
test('allocateCredits: shortfall returns null', () => {
  assert.equal(allocateCredits(needs(['CE', 1]), facts()), null);
  assert.equal(allocateCredits(needs(['CE', 6]), facts({ credits: [credit('a', 'CE', 5)] })), null);
});
test('allocateCredits: no credit requirements allocates nothing', () => {
  assert.deepEqual(allocateCredits({}, facts({ credits: [credit('a', 'CE', 5)] })), {});
});
test('allocateCredits: never allocates beyond a credit available quantity', () => {
  const f = facts({
    credits: [
      credit('a', 'CE', 5, { quantity_used: 4, date: '2023-01-01' }),
      credit('spent', 'CE', 5, { quantity_used: 5, date: '2023-06-01' }),
      credit('b', 'CE', 5),
    ],
  });
  assert.deepEqual(allocateCredits(needs(['CE', 3]), f), { a: 1, b: 2 });
  assert.equal(allocateCredits(needs(['CE', 7]), f), null);
});
test('allocateCredits: two requirements of the same type do not reuse a credit', () => {
  const f = facts({ credits: [credit('a', 'CE', 5)] });
  assert.equal(allocateCredits(needs(['CE', 3], ['CE', 3]), f), null);
  assert.deepEqual(allocateCredits(needs(['CE', 3], ['CE', 2]), f), { a: 5 });
});
test('allocateCredits: credits that do not count are skipped', () => {
  const f = facts({
    window: { from: '2024-01-01', to: '2024-12-31' },
    credits: [
      credit('pending', 'CE', 5, { status: 'pending', date: '2024-02-01' }),
      credit('early', 'CE', 5, { date: '2023-12-31' }),
      credit('expired', 'CE', 5, { date: '2024-02-01', expiration_date: '2024-06-01' }),
      credit('ok', 'CE', 5, { date: '2024-03-01' }),
    ],
  });
  assert.deepEqual(allocateCredits(needs(['CE', 5]), f), { ok: 5 });
  assert.equal(allocateCredits(needs(['CE', 6]), f), null);
});
test('allocateCredits: a credit already applied to this application is re-allocated, not double-counted', () => {
  // 'held' is fully used, 3 of it by this application; 'free' is newer
  const f = facts({
    credits: [credit('held', 'CE', 5, { quantity_used: 5, date: '2023-01-01' }), credit('free', 'CE', 5, { date: '2024-01-01' })],
    appliedToThis: { held: 3 },
  });
  assert.deepEqual(allocateCredits(needs(['CE', 3]), f), { held: 3 });
  assert.deepEqual(allocateCredits(needs(['CE', 8]), f), { held: 3, free: 5 });
  assert.equal(allocateCredits(needs(['CE', 9]), f), null);
});
test('allocateCredits: an application holding more than it now needs keeps only what it needs', () => {
  const f = facts({ credits: [credit('held', 'CE', 5, { quantity_used: 5 })], appliedToThis: { held: 5 } });
  assert.deepEqual(allocateCredits(needs(['CE', 2]), f), { held: 2 });
});
test('allocateCredits: allocation matches evaluateRequirements for the same facts', () => {
  const f = facts({
    credits: [credit('a', 'CE', 2, { quantity_used: 1 }), credit('b', 'CE', 3, { quantity_used: 3 }), credit('c', 'CE', 4)],
    appliedToThis: { b: 1 },
  });
  const e = earned(needs(['CE', 1]), f, 'CE');
  assert.equal(e, 6);
  const all = allocateCredits(needs(['CE', e]), f);
  assert.deepEqual(all, { a: 1, b: 1, c: 4 });
  assert.equal(allocateCredits(needs(['CE', e + 1]), f), null);
});
test('allocateCredits: fractional credits that add up exactly use nothing more (0.7 + 0.1 = 0.8)', () => {
  const f = facts({
    credits: [
      credit('a', 'CE', 0.7, { date: '2024-01-01' }),
      credit('b', 'CE', 0.1, { date: '2024-01-02' }),
      credit('c', 'CE', 5, { date: '2024-01-03' }),
    ],
  });
  assert.deepEqual(allocateCredits(needs(['CE', 0.8]), f), { a: 0.7, b: 0.1 });
});

// ---- statusAfterSubmit -----------------------------------------------------------------------------

test('statusAfterSubmit: unmet requirements', () => {
  const ev: Evaluation = { met: false, requirements: [] };
  assert.equal(statusAfterSubmit({}, ev), 'missing requirements');
  assert.equal(statusAfterSubmit({ auto_approve: true }, ev), 'missing requirements');
});
test('statusAfterSubmit: met requirements go to pending approval, or approved with auto_approve', () => {
  const ev: Evaluation = { met: true, requirements: [] };
  assert.equal(statusAfterSubmit({}, ev), 'pending approval');
  assert.equal(statusAfterSubmit({ auto_approve: false }, ev), 'pending approval');
  assert.equal(statusAfterSubmit({ auto_approve: true }, ev), 'approved');
});
test('statusAfterSubmit: with a real evaluation', () => {
  const p: ProcessLike = { auto_approve: true, application_fee_id: 'f' };
  assert.equal(statusAfterSubmit(p, evaluateRequirements(p, facts({ feePaid: true }))), 'approved');
  assert.equal(statusAfterSubmit(p, evaluateRequirements(p, facts({ feePaid: false }))), 'missing requirements');
});
