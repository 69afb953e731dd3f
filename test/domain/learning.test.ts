import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';
import type { Clock } from '../../src/core/clock.js';

/** Courses, exams and continuing education through HTTP: seats, completion credits, scoring, eligibility, activities. */
let t: TestApp;
let f: Factory;
let now = new Date('2026-03-10T10:00:00Z');
const clock: Clock = { now: () => now };

type R = Record<string, any>;
const send = (method: string, url: string, payload?: unknown) =>
  t.call({ method: method as any, url, payload: payload as any, auth: t.admin });
const call = async (method: string, url: string, payload?: unknown, status = 200): Promise<R> => {
  const res = await send(method, url, payload);
  assert.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
  return res.json();
};
const refuse = async (method: string, url: string, payload: unknown, status: number, pattern: RegExp): Promise<R> => {
  const res = await send(method, url, payload);
  assert.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
  assert.match(res.json().message, pattern);
  return res.json();
};
const patch = (slug: string, id: string, changes: R, status = 200) =>
  call(
    'PATCH',
    `/${slug}/acme/${id}`,
    Object.entries(changes).map(([k, value]) => ({ op: 'add', path: `/${k}`, value })),
    status,
  );
const creditsOf = async (lookup: string, id: string): Promise<R[]> => (await call('GET', `/credits/acme/${lookup}/${id}`)).Items;

let ce: R, cme: R, course: R;
before(async () => {
  t = await startApp({ clock });
  f = new Factory(t, t.admin);
  ce = await f.create('creditTypes');
  cme = await f.create('creditTypes');
  course = await call(
    'POST',
    '/courses/acme',
    { name: 'Wound care', credits_to_assign: [{ credit_type_id: ce.id, quantity: 6, automatically_verify: true }] },
    201,
  );
});
after(() => t.close());

const offering = (o: R = {}) => call('POST', '/courseOfferings/acme', { name: 'Spring class', course_id: course.id, ...o }, 201);
const courseReg = (off: R, student: string, o: R = {}) => ({
  name: `Student ${student}`,
  student_id: student,
  course_id: course.id,
  course_offering_id: off.id,
  status: 'registered',
  ...o,
});

describe('course offerings and registrations', () => {
  test('40 concurrent registrations for 30 seats: exactly 30 get one; cancelling frees a seat', async () => {
    const off = await offering({ enable_capacity: true, capacity_options: { capacity: 30 } });
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => send('POST', '/courseRegistrations/acme', courseReg(off, `s-${i}`))),
    );
    const codes = answers.map((a) => a.statusCode);
    assert.equal(codes.filter((c) => c === 201).length, 30, `codes: ${codes.join(',')}`);
    assert.equal(codes.filter((c) => c === 409).length, 10, `codes: ${codes.join(',')}`);
    for (const a of answers.filter((x) => x.statusCode === 409))
      assert.match(a.json().message, /course offering "Spring class" \(.*\) is full: all 30 seats are taken/);
    const roster = (await call('GET', `/courseRegistrations/acme/courseOffering/${off.id}?limit=1000`)).Items;
    assert.equal(roster.length, 30);

    assert.deepEqual(await call('GET', `/courseOfferings/acme/seats/${off.id}`), {
      id: off.id,
      taken: 30,
      capacity: 30,
      seats_left: 0,
      open_for_registration: false,
      reason: 'the offering is full',
    });
    await refuse('POST', '/courseRegistrations/acme', courseReg(off, 'late'), 409, /is full/);
    const cancelled = await patch('courseRegistrations', roster[0].id, { cancellation_date: '2026-03-10T09:00:00Z' });
    assert.equal(cancelled.status, 'cancelled', 'a cancellation date cancels');
    await call('POST', '/courseRegistrations/acme', courseReg(off, 'late'), 201);
    await refuse('POST', '/courseRegistrations/acme', courseReg(off, 'later'), 409, /is full/);
    const reopen = [
      { op: 'remove', path: '/cancellation_date' },
      { op: 'replace', path: '/status', value: 'registered' },
    ];
    await refuse('PATCH', `/courseRegistrations/acme/${roster[0].id}`, reopen, 409, /cancelled; it can no longer change status/);
    // a cancelled registration may be created in a full offering: it takes no seat
    await call('POST', '/courseRegistrations/acme', courseReg(off, 'walk-in', { status: 'cancelled' }), 201);
  });

  test('registrations outside the sale window are refused with the reason', async () => {
    const early = await offering({ sell_from: '2026-04-01T00:00:00Z', sell_until: '2026-04-30T23:59:59Z' });
    await refuse('POST', '/courseRegistrations/acme', courseReg(early, 'e1'), 409, /opens at 2026-04-01T00:00:00Z \(sell_from\)/);
    const closed = await offering({ sell_until: '2026-03-01T00:00:00Z' });
    await refuse('POST', '/courseRegistrations/acme', courseReg(closed, 'e2'), 409, /closed at 2026-03-01T00:00:00Z \(sell_until\)/);
    const seats = await call('GET', `/courseOfferings/acme/seats/${closed.id}`);
    assert.equal(seats.open_for_registration, false);
    assert.match(seats.reason, /closed at/);
    await call(
      'POST',
      '/courseRegistrations/acme',
      courseReg(await offering({ sell_from: '2026-03-01T00:00:00Z', sell_until: '2026-03-31T00:00:00Z' }), 'e3'),
      201,
    );
  });

  test("completing creates the offering's credits once; cancelling afterwards archives them", async () => {
    const off = await offering({
      override_credit_assignment: true,
      credits_to_assign: [
        { credit_type_id: ce.id, quantity: 3, automatically_verify: true },
        { credit_type_id: cme.id, quantity: 2 },
      ],
    });
    const reg = await call('POST', '/courseRegistrations/acme', courseReg(off, 'learner'), 201);
    const done = await patch('courseRegistrations', reg.id, { completion_percentage: 100 });
    assert.equal(done.status, 'completed', '100 % completes');
    assert.equal(done.completion_date, '2026-03-10');
    const credits = (await creditsOf('courseRegistration', reg.id)).sort((a, b) => a.quantity - b.quantity);
    assert.deepEqual(
      credits.map((c) => [c.type_id, c.quantity, c.status, c.origin, c.contact_id, c.date, c.quantity_used, c.quantity_available]),
      [
        [cme.id, 2, 'submitted', 'course registration', 'learner', '2026-03-10', 0, 2],
        [ce.id, 3, 'verified', 'course registration', 'learner', '2026-03-10', 0, 3],
      ],
    );
    // completing again, or writing the completed record again, creates nothing more
    await patch('courseRegistrations', reg.id, { notes: 'certificate mailed', status: 'completed' });
    const { id: _id, ...body } = await call('GET', `/courseRegistrations/acme/${reg.id}`);
    await call('PUT', `/courseRegistrations/acme/${reg.id}`, { ...body, completion_percentage: 100 });
    assert.equal((await creditsOf('courseRegistration', reg.id)).length, 2);

    const cancelled = await patch('courseRegistrations', reg.id, { status: 'cancelled' });
    assert.ok(cancelled.cancellation_date, 'cancelling stamps the date');
    assert.deepEqual(
      (await creditsOf('courseRegistration', reg.id)).map((c) => c.status),
      ['archived', 'archived'],
    );
  });

  test("two concurrent completions create the credits once; the course's rules apply without an override", async () => {
    const off = await offering();
    const reg = await call('POST', '/courseRegistrations/acme', courseReg(off, 'racer'), 201);
    const answers = await Promise.all([
      send('PATCH', `/courseRegistrations/acme/${reg.id}`, [{ op: 'add', path: '/status', value: 'completed' }]),
      send('PATCH', `/courseRegistrations/acme/${reg.id}`, [{ op: 'add', path: '/completion_percentage', value: 100 }]),
    ]);
    assert.deepEqual(
      answers.map((a) => a.statusCode),
      [200, 200],
      answers.map((a) => a.body).join('\n'),
    );
    const credits = await creditsOf('courseRegistration', reg.id);
    assert.deepEqual(
      credits.map((c) => [c.type_id, c.quantity, c.status]),
      [[ce.id, 6, 'verified']],
    );
  });

  test('a completed registration whose credit an application uses cannot be cancelled', async () => {
    const reg = await call('POST', '/courseRegistrations/acme', courseReg(await offering(), 'spent', { status: 'completed' }), 201);
    const [credit] = await creditsOf('courseRegistration', reg.id);
    await patch('credits', credit!.id, { usages: [{ quantity: 2, date: '2026-03-10' }] });
    await refuse(
      'PATCH',
      `/courseRegistrations/acme/${reg.id}`,
      [{ op: 'replace', path: '/status', value: 'cancelled' }],
      409,
      /credit .* is used by an application \(quantity_used 2\)/,
    );
    assert.equal((await call('GET', `/courseRegistrations/acme/${reg.id}`)).status, 'completed', 'nothing changed');
    assert.equal((await call('GET', `/credits/acme/${credit!.id}`)).status, 'verified');
  });
});

describe('credits', () => {
  test('workflow and balance are enforced on every write', async () => {
    const c = await call(
      'POST',
      '/credits/acme',
      { type_id: ce.id, origin: 'legacy system', contact_id: 'cred', date: '2026-01-05', quantity: 5, status: 'draft' },
      201,
    );
    assert.equal(c.quantity_used, 0);
    assert.equal(c.quantity_available, 5, 'derived');
    await refuse(
      'PATCH',
      `/credits/acme/${c.id}`,
      [{ op: 'replace', path: '/status', value: 'verified' }],
      409,
      /cannot go from draft to verified/,
    );
    for (const status of ['submitted', 'under review', 'verified']) await patch('credits', c.id, { status });
    const corrected = await patch('credits', c.id, { quantity_available: 4 });
    assert.deepEqual([corrected.quantity_used, corrected.quantity_available], [0, 5], 'the balance is derived, whatever was sent');
    await refuse(
      'PATCH',
      `/credits/acme/${c.id}`,
      [{ op: 'add', path: '/quantity_used', value: 6 }],
      409,
      /quantity_used \(6\) cannot exceed quantity \(5\)/,
    );
    const used = await patch('credits', c.id, { quantity: 8, usages: [{ quantity: 1.5 }, { quantity: 0.5 }] });
    assert.deepEqual([used.quantity_used, used.quantity_available], [2, 6]);
    await refuse('PATCH', `/credits/acme/${c.id}`, [{ op: 'replace', path: '/quantity', value: 1 }], 409, /cannot exceed quantity \(1\)/);
    const created = await call(
      'POST',
      '/credits/acme',
      {
        type_id: ce.id,
        origin: 'legacy system',
        contact_id: 'cred',
        date: '2026-01-05',
        quantity: 5,
        quantity_used: 1,
        quantity_available: 5,
      },
      201,
    );
    assert.equal(created.quantity_available, 4);
    await patch('credits', c.id, { usages: [] });
    assert.equal((await patch('credits', c.id, { status: 'archived' })).status, 'archived');
    await refuse(
      'PATCH',
      `/credits/acme/${c.id}`,
      [{ op: 'replace', path: '/status', value: 'verified' }],
      409,
      /archived; it can no longer change status/,
    );
  });
});

describe('exams', () => {
  let exam: R, passLetter: R, failLetter: R, offerPassLetter: R, sitting: R, retake: R, register: R, retest: R;
  const examReg = (o: R, student: string, extra: R = {}) => ({
    name: `Candidate ${student}`,
    student_id: student,
    email_address: `${student}@example.org`,
    exam_id: exam.id,
    exam_offering_id: o.id,
    date: '2026-03-10',
    status: 'registered',
    ...extra,
  });
  const eligible = (contact: string) => call('GET', `/examRegProcesses/acme/eligible/${contact}/${exam.id}`);

  before(async () => {
    const letter = (name: string) =>
      call('POST', '/examNotices/acme', { name, email: { subject: `${name} subject`, body: `${name} body` } }, 201);
    passLetter = await letter('Exam pass letter');
    failLetter = await letter('Exam fail letter');
    offerPassLetter = await letter('Sitting pass letter');
    exam = await call(
      'POST',
      '/exams/acme',
      { name: 'Board exam', passing_score: 70, pass_letter_id: passLetter.id, fail_letter_id: failLetter.id },
      201,
    );
    const fee = await f.create('examFees', { exam_id: exam.id });
    const retestFee = await f.create('examFees', { exam_id: exam.id });
    const sittingBody = {
      type: 'live',
      exam_id: exam.id,
      location: 'none',
      date: '2026-04-01',
      fee_id: fee.id,
      retest_fee_id: retestFee.id,
    };
    sitting = await call(
      'POST',
      '/examOfferings/acme',
      { ...sittingBody, name: 'April sitting', enable_capacity: true, capacity_options: { capacity: 3 } },
      201,
    );
    retake = await call(
      'POST',
      '/examOfferings/acme',
      { ...sittingBody, name: 'May sitting', date: '2026-05-01', pass_letter_id: offerPassLetter.id },
      201,
    );
    register = await call('POST', '/examRegProcesses/acme', { name: 'First sitting', type: 'register' }, 201);
    retest = await call('POST', '/examRegProcesses/acme', { name: 'Retake', type: 'retest' }, 201);
  });

  test('a fail, then retest eligibility with the retest fee, then a pass; letters queued on the registration', async () => {
    const first = await eligible('cand');
    assert.equal(first.type, 'register');
    assert.equal(first.eligible, true);
    assert.deepEqual(
      first.processes.map((p: R) => p.id),
      [register.id],
    );
    const april = first.offerings.find((o: R) => o.exam_offering_id === sitting.id);
    assert.equal(april.fee_id, sitting.fee_id);
    assert.equal(april.seats_left, 3);

    const r1 = await call('POST', '/examRegistrations/acme', examReg(sitting, 'cand', { process_id: register.id }), 201);
    const open = await eligible('cand');
    assert.equal(open.type, null);
    assert.equal(open.eligible, false);
    assert.match(open.reason, /still registered/);
    assert.equal(open.last_registration.id, r1.id);
    await refuse(
      'POST',
      '/examRegistrations/acme',
      examReg(retake, 'cand', { process_id: register.id }),
      409,
      /no exam registration is possible now: registration .* is still registered/,
    );

    const failed = await patch('examRegistrations', r1.id, { score: 55 });
    assert.equal(failed.status, 'failed');
    assert.equal(failed.notices.length, 1);
    assert.equal(failed.notices[0].exam_notice_id, failLetter.id);
    assert.equal(failed.notices[0].kind, 'fail letter');
    assert.equal(failed.notices[0].status, 'queued');
    assert.equal(failed.notices[0].subject, 'Exam fail letter subject');
    assert.equal(failed.notices[0].email_address, 'cand@example.org');

    const again = await eligible('cand');
    assert.equal(again.type, 'retest');
    assert.deepEqual(
      again.processes.map((p: R) => p.id),
      [retest.id],
    );
    assert.equal(again.offerings.find((o: R) => o.exam_offering_id === retake.id).fee_id, retake.retest_fee_id, 'the retest fee applies');
    await refuse(
      'POST',
      '/examRegistrations/acme',
      examReg(retake, 'cand', { process_id: register.id }),
      409,
      /is a register process, but this contact needs a retest/,
    );

    const r2 = await call('POST', '/examRegistrations/acme', examReg(retake, 'cand', { process_id: retest.id }), 201);
    await refuse(
      'PATCH',
      `/examRegistrations/acme/${r2.id}`,
      [
        { op: 'add', path: '/score', value: 60 },
        { op: 'replace', path: '/status', value: 'passed' },
      ],
      409,
      /score 60 is below the passing score 70: the registration failed, not passed/,
    );
    const passed = await patch('examRegistrations', r2.id, { score: 88 });
    assert.equal(passed.status, 'passed');
    assert.deepEqual(
      passed.notices.map((n: R) => [n.exam_notice_id, n.kind]),
      [[offerPassLetter.id, 'pass letter']],
      "the offering's letter overrides the exam's",
    );
    const done = await eligible('cand');
    assert.equal(done.type, null);
    assert.match(done.reason, /the exam was passed/);
    assert.deepEqual(done.processes, []);
    await refuse('GET', `/examRegProcesses/acme/eligible/cand/no-such-exam`, undefined, 404, /exam no-such-exam not found/);
  });

  test('no show and cancelled are explicit; an exam offering has seats too', async () => {
    const a = await call('POST', '/examRegistrations/acme', examReg(sitting, 'absent'), 201);
    const noShow = await patch('examRegistrations', a.id, { status: 'no show' });
    assert.equal(noShow.status, 'no show');
    assert.equal(noShow.notices, undefined, 'no letter for a no show');
    assert.equal((await patch('examRegistrations', a.id, { score: 90 })).status, 'no show', 'a score does not undo a no show');
    assert.equal((await eligible('absent')).type, 'retest');

    // the April sitting now holds cand (failed) and absent (no show): one seat left, two racing for it
    const race = await Promise.all(['x1', 'x2'].map((s) => send('POST', '/examRegistrations/acme', examReg(sitting, s))));
    assert.deepEqual(race.map((r) => r.statusCode).sort(), [201, 409]);
    assert.match(race.find((r) => r.statusCode === 409)!.json().message, /exam offering "April sitting" .* is full: all 3 seats/);
    const winner = race.find((r) => r.statusCode === 201)!.json();
    const cancelled = await patch('examRegistrations', winner.id, { status: 'cancelled' });
    assert.ok(cancelled.cancellation_date);
    await call('POST', '/examRegistrations/acme', examReg(sitting, 'x3'), 201);
    assert.deepEqual(await call('GET', `/examOfferings/acme/seats/${sitting.id}`), {
      id: sitting.id,
      taken: 3,
      capacity: 3,
      seats_left: 0,
      open_for_registration: false,
      reason: 'the offering is full',
    });
    assert.deepEqual(await call('GET', `/examOfferings/acme/seats/${retake.id}`), { id: retake.id, taken: 1, open_for_registration: true });
  });
});

describe('activities and their credits', () => {
  let type: R;
  before(async () => {
    type = await call(
      'POST',
      '/activityTypes/acme',
      {
        name: 'University course',
        allow_editing_in_portal: true,
        activity_editing_options: {
          until: 'relative date',
          relative_date: { number: 30, position: 'after', relative_to: 'the reference date', unit_of_time: 'days' },
        },
        credit_calculator_options: {
          variables: [{ label: 'Semester hours', name: 'semester_hours' }],
          formulas: [{ credit_type_id: cme.id, formula: 'semester_hours * 15' }],
        },
      },
      201,
    );
  });

  test('a bad formula is a 400 naming it', async () => {
    const res = await send('POST', '/activityTypes/acme', {
      name: 'Broken',
      credit_calculator_options: {
        variables: [{ label: 'Hours', name: 'hours' }],
        formulas: [{ credit_type_id: cme.id, formula: 'hour * 2' }],
      },
    });
    assert.equal(res.statusCode, 400, res.body);
    assert.deepEqual(res.json().errors[0], {
      field: 'credit_calculator_options.formulas.0.formula',
      reason: 'uses hour, which is not a variable of the calculator (variables: hours)',
    });
    const evil = await send('POST', '/activityTypes/acme', {
      name: 'Evil',
      credit_calculator_options: {
        variables: [{ label: 'Hours', name: 'hours' }],
        formulas: [{ credit_type_id: cme.id, formula: 'import({}, {})' }],
      },
    });
    assert.equal(evil.statusCode, 400, evil.body);
    assert.match(evil.json().message, /function import is not allowed/);
  });

  test("activity -> verified -> credits that then meet an application's credit requirement", async () => {
    const body = { name: 'Pharmacology 301', contact_id: 'nurse', date: '2026-03-01', type_id: type.id };
    const missing = await send('POST', '/activities/acme', { ...body, credit_calculator_variables: {} });
    assert.equal(missing.statusCode, 400, missing.body);
    assert.equal(missing.json().errors[0].field, 'credit_calculator_variables.semester_hours');
    assert.match(missing.json().errors[0].reason, /is required by the formula/);

    const act = await call(
      'POST',
      '/activities/acme',
      { ...body, status: 'draft', credit_calculator_variables: { semester_hours: 2 } },
      201,
    );
    assert.deepEqual(act.credits, [{ credit_type_id: cme.id, quantity: 30 }]);
    assert.equal(act.total_number_of_credits, 30);
    assert.equal((await call('GET', `/activities/acme/canEdit/${act.id}`)).can_edit, true);
    await refuse(
      'PATCH',
      `/activities/acme/${act.id}`,
      [{ op: 'replace', path: '/status', value: 'verified' }],
      409,
      /cannot go from draft to verified/,
    );

    await patch('activities', act.id, { status: 'under review' });
    const within = await call('GET', `/activities/acme/canEdit/${act.id}`);
    assert.deepEqual([within.can_edit, within.editable_until, within.activity.id], [true, '2026-03-31', act.id]);
    now = new Date('2026-04-01T10:00:00Z');
    assert.match((await call('GET', `/activities/acme/canEdit/${act.id}`)).reason, /editing window closed on 2026-03-31/);

    const verified = await patch('activities', act.id, { status: 'verified' });
    assert.equal(verified.status, 'verified');
    const credits = await creditsOf('activity', act.id);
    assert.deepEqual(
      credits.map((c) => [c.type_id, c.quantity, c.status, c.origin, c.contact_id, c.date]),
      [[cme.id, 30, 'verified', 'certification activity', 'nurse', '2026-03-01']],
    );
    assert.equal((await call('GET', `/activities/acme/canEdit/${act.id}`)).can_edit, false);
    await patch('activities', act.id, { status: 'processed' });
    assert.equal((await creditsOf('activity', act.id)).length, 1, 'processing creates nothing more');

    // the credits meet a 25-credit requirement through the lifecycle's submit
    const program = await f.create('programs', { name: 'Nurse Educator' });
    const process = await f.create('applicationProcesses', {
      name: 'Initial',
      type: 'certification',
      program_id: program.id,
      credit_requirements: [{ credit_type_id: cme.id, quantity: 25 }],
    });
    const app = await call('POST', `/applications/acme/generateApplication/${process.id}/contact/nurse`, { name: 'Nurse' }, 201);
    const submitted = await call('POST', `/applications/acme/submit/${app.id}`);
    assert.equal(submitted.status, 'pending approval');
    const spent = await call('GET', `/credits/acme/${credits[0]!.id}`);
    assert.deepEqual([spent.quantity_used, spent.quantity_available], [25, 5]);
    // in use: it cannot be archived until the application gives it back
    await refuse(
      'PATCH',
      `/credits/acme/${spent.id}`,
      [{ op: 'replace', path: '/status', value: 'archived' }],
      409,
      new RegExp(`used by application ${app.id}`),
    );
    await call('POST', `/applications/acme/withdraw/${app.id}`);
    assert.equal((await patch('credits', spent.id, { status: 'archived' })).quantity_available, 30);
  });
});

describe('training providers', () => {
  test("a provider's offerings and registrations count toward its programmes only", async () => {
    const provider = await f.create('trainingProviders', { name: 'Northside College' });
    const rn = await f.create('programs', { name: 'Registered Nurse' });
    const lpn = await f.create('programs', { name: 'Practical Nurse' });
    await call('POST', '/trainingProvPrograms/acme', { training_provider_id: provider.id, program_id: rn.id, course_fee: 40 }, 201);

    const bad = await send('POST', '/courseOfferings/acme', {
      name: 'Evening class',
      course_id: course.id,
      training_provider_id: provider.id,
      program_ids: [rn.id, lpn.id],
    });
    assert.equal(bad.statusCode, 400, bad.body);
    assert.deepEqual(
      bad.json().errors.map((e: R) => e.field),
      ['program_ids.1'],
    );
    assert.match(bad.json().errors[0].reason, /not linked to programme/);
    const off = await offering({ name: 'Evening class', training_provider_id: provider.id, program_ids: [rn.id] });

    const other = await call('POST', '/courses/acme', { name: 'Other course' }, 201);
    const wrongCourse = await send('POST', '/courseRegistrations/acme', courseReg(off, 'tp-student', { course_id: other.id }));
    assert.equal(wrongCourse.statusCode, 400, wrongCourse.body);
    assert.equal(wrongCourse.json().errors[0].field, 'course_id');
    const otherProvider = await f.create('trainingProviders', { name: 'Elsewhere' });
    const wrongProvider = await send(
      'POST',
      '/courseRegistrations/acme',
      courseReg(off, 'tp-student', { training_provider_id: otherProvider.id }),
    );
    assert.equal(wrongProvider.statusCode, 400, wrongProvider.body);
    assert.equal(wrongProvider.json().errors[0].field, 'training_provider_id');

    const reg = await call('POST', '/courseRegistrations/acme', courseReg(off, 'tp-student'), 201);
    assert.equal(reg.training_provider_id, provider.id, "inherits the offering's provider");
    await patch('courseRegistrations', reg.id, { completion_percentage: 100 });
    assert.equal((await creditsOf('courseRegistration', reg.id)).length, 1);

    // the same course and credits: they count toward RN (linked), not toward LPN
    const requirements = { required_course_ids: [course.id], credit_requirements: [{ credit_type_id: ce.id, quantity: 6 }] };
    const evaluate = async (program: R) => {
      const process = await f.create('applicationProcesses', {
        name: `Initial ${program.name}`,
        type: 'certification',
        program_id: program.id,
        ...requirements,
      });
      const app = await call(
        'POST',
        `/applications/acme/generateApplication/${process.id}/contact/tp-student`,
        { name: 'TP student' },
        201,
      );
      return call('GET', `/applications/acme/requirements/${app.id}`);
    };
    const forRn = await evaluate(rn);
    assert.equal(forRn.met, true, JSON.stringify(forRn));
    const forLpn = await evaluate(lpn);
    assert.equal(forLpn.met, false);
    assert.deepEqual(
      forLpn.requirements.map((r: R) => [r.kind, r.met]),
      [
        ['credits', false],
        ['course', false],
      ],
    );
  });

  test("an exam registration is for its offering's exam", async () => {
    const exam = await f.create('exams', { name: 'Boards' });
    const otherExam = await f.create('exams', { name: 'Other boards' });
    const sitting = await f.create('examOfferings', { exam_id: exam.id });
    const res = await send(
      'POST',
      '/examRegistrations/acme',
      await f.build('examRegistrations', { exam_id: otherExam.id, exam_offering_id: sitting.id }),
    );
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json().errors[0].field, 'exam_id');
  });
});
