import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';
import type { Clock } from '../../src/core/clock.js';

/** The certification lifecycle through HTTP: application -> certification, renewal, lapse, reinstatement, transfer. */
let t: TestApp;
let f: Factory;
let now = new Date('2026-01-15T10:00:00Z');
const clock: Clock = { now: () => now };
const setDay = (d: string) => (now = new Date(`${d}T10:00:00Z`));

type R = Record<string, any>;
const call = async (method: string, url: string, payload?: unknown, status = 200): Promise<R> => {
  const res = await t.call({ method: method as any, url, payload: payload as any, auth: t.admin });
  assert.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
  return res.json();
};
const refuse = async (method: string, url: string, payload: unknown, pattern: RegExp) => {
  const res = await t.call({ method: method as any, url, payload: payload as any, auth: t.admin });
  assert.equal(res.statusCode, 409, `${method} ${url}: ${res.body}`);
  assert.match(res.json().message, pattern);
};

let ruleSet: R, program: R, program2: R, creditType: R;
const process: Record<string, R> = {};

before(async () => {
  t = await startApp({ clock });
  f = new Factory(t, t.admin);
  ruleSet = await f.oneYearRuleSet({ reinstatement: true });
  program = await f.create('programs', {
    name: 'Registered Nurse',
    expiration_rule_set_id: ruleSet.id,
    next_certification_number: 1000,
    renew_grandfathered_certifications: true,
  });
  program2 = await f.create('programs', {
    name: 'Nurse Practitioner',
    expiration_rule_set_id: ruleSet.id,
    next_certification_number: 5000,
  });
  creditType = await f.create('creditTypes');
  process.certification = await f.create('applicationProcesses', {
    name: 'Initial',
    type: 'certification',
    program_id: program.id,
    credit_requirements: [{ credit_type_id: creditType.id, quantity: 10 }],
  });
  for (const type of ['renewal', 'reinstatement', 'transfer']) {
    process[type] = await f.create('applicationProcesses', { name: type, type, program_id: program.id, auto_approve: true });
  }
});
after(() => t.close());

const generate = (type: string, owner: string, body: R = {}) =>
  call(
    'POST',
    `/applications/acme/generateApplication/${process[type]!.id}/contact/${owner}`,
    { name: `Applicant ${owner}`, ...body },
    201,
  );
const credit = (owner: string, quantity: number, date = '2025-12-01') =>
  f.create('credits', { contact_id: owner, type_id: creditType.id, quantity, status: 'verified', date });

describe('a certification from application to renewal, lapse, reinstatement and transfer', () => {
  let app: R;
  let cert: R;

  test('draft -> pending approval (credits consumed) -> approved -> activated: a new certification', async () => {
    const c1 = await credit('c-1', 6, '2025-11-01');
    const c2 = await credit('c-1', 6, '2025-12-01');
    app = await generate('certification', 'c-1');
    assert.equal(app.status, 'draft');
    assert.equal(app.program_id, program.id);

    const reqs = await call('GET', `/applications/acme/requirements/${app.id}`);
    assert.equal(reqs.met, true);
    assert.deepEqual(reqs.requirements, [
      { kind: 'credits', credit_type_id: creditType.id, required: 10, earned: 12, met: true, progress: 1 },
    ]);

    await refuse('POST', `/applications/acme/activate/${app.id}`, undefined, /only an approved application/);
    await refuse('POST', `/applications/acme/approve/${app.id}`, undefined, /cannot go from draft to approved/);

    const submitted = await call('POST', `/applications/acme/submit/${app.id}`);
    assert.equal(submitted.status, 'pending approval');
    assert.deepEqual(
      submitted.credits.map((c: R) => [c.credit_id, c.quantity]),
      [
        [c1.id, 6],
        [c2.id, 4],
      ],
    );
    const spent = await call('GET', `/credits/acme/${c2.id}`);
    assert.equal(spent.quantity_used, 4);
    assert.equal(spent.quantity_available, 2);

    assert.equal((await call('POST', `/applications/acme/approve/${app.id}`, { decision_notes: 'complete file' })).status, 'approved');
    const out = await call('POST', `/applications/acme/activate/${app.id}`);
    cert = out.certification;
    assert.equal(out.application.status, 'activated');
    assert.equal(out.application.certification_id, cert.id);
    assert.equal(out.application.activation_date, '2026-01-15');
    assert.equal(cert.number, 1000);
    assert.equal(cert.status, 'active');
    assert.equal(cert.program_id, program.id);
    assert.equal(cert.contact_id, 'c-1');
    assert.equal(cert.name, 'Applicant c-1');
    assert.equal(cert.certification_date, '2026-01-15');
    assert.equal(cert.expiration_date, '2027-01-14');
    assert.equal(cert.grace_period_end_date, '2027-02-13');
    assert.equal(cert.reinstatement_end_date, '2027-05-14');
    await refuse('POST', `/applications/acme/activate/${app.id}`, undefined, /only an approved application/);
  });

  test('renewal extends from the current expiration date, not from the activation date; the number stays', async () => {
    setDay('2026-12-01');
    const r = await generate('renewal', 'c-1', { certification_id: cert.id });
    assert.equal((await call('POST', `/applications/acme/submit/${r.id}`)).status, 'approved', 'auto-approved');
    const out = await call('POST', `/applications/acme/activate/${r.id}`);
    assert.equal(out.certification.id, cert.id);
    assert.equal(out.certification.number, 1000);
    assert.equal(out.certification.expiration_date, '2028-01-14');
    assert.equal(out.certification.renewal_date, '2026-12-01');
    cert = out.certification;
  });

  test('a lapsed certification cannot be renewed; it is reinstated inside its window with a new term', async () => {
    setDay('2028-03-01'); // past the grace period (2028-02-13), inside reinstatement (2028-05-13)
    await refuse(
      'POST',
      `/applications/acme/generateApplication/${process.renewal!.id}/contact/c-1`,
      { certification_id: cert.id },
      /lapsed .* apply for reinstatement/,
    );
    await call('PATCH', `/certifications/acme/${cert.id}`, [{ op: 'replace', path: '/status', value: 'inactive' }]);
    const ri = await generate('reinstatement', 'c-1', { certification_id: cert.id });
    await call('POST', `/applications/acme/submit/${ri.id}`);
    const out = await call('POST', `/applications/acme/activate/${ri.id}`);
    assert.equal(out.certification.status, 'active');
    assert.equal(out.certification.expiration_date, '2029-02-28');
    cert = out.certification;
  });

  test('reinstatement outside the window is refused with the reason', async () => {
    setDay('2029-09-01'); // window closed on 2029-06-28
    const reinstate = `/applications/acme/generateApplication/${process.reinstatement!.id}/contact/c-1`;
    await refuse('POST', reinstate, { certification_id: cert.id }, /reinstatement window closed on 2029-06-28/);
    setDay('2029-01-10');
    await refuse('POST', reinstate, { certification_id: cert.id }, /has not lapsed/);
  });

  test('transfer: a new certification (new number) in the target programme; the old one is retired', async () => {
    setDay('2029-01-20');
    const tr = await generate('transfer', 'c-1', { certification_id: cert.id, target_program_id: program2.id });
    await call('POST', `/applications/acme/submit/${tr.id}`);
    const out = await call('POST', `/applications/acme/activate/${tr.id}`);
    assert.equal(out.certification.program_id, program2.id);
    assert.equal(out.certification.number, 5000);
    const old = await call('GET', `/certifications/acme/${cert.id}`);
    assert.equal(old.status, 'retired');
    assert.equal(old.termination_date, '2029-01-20');
    assert.equal(old.transferred_to_certification_id, out.certification.id);
    await refuse(
      'PATCH',
      `/certifications/acme/${cert.id}`,
      [{ op: 'replace', path: '/status', value: 'active' }],
      /retired certification cannot change status/,
    );
  });

  test('the history lists every change, newest first, with who and how', async () => {
    const h = await call('GET', `/certifications/acme/history/${cert.id}`);
    assert.deepEqual(
      h.Items.map((e: R) => e.via),
      ['activate', 'activate', 'patch', 'activate', 'activate'],
    );
    assert.deepEqual(h.Items[0].changes.status, ['active', 'retired']);
    assert.deepEqual(h.Items[3].changes.expiration_date, ['2027-01-14', '2028-01-14']);
    assert.deepEqual(h.Items[4].changes.number, [null, 1000]);
    assert.equal(h.Items[0].by_id, 'tester');
    const page = await call('GET', `/certifications/acme/history/${cert.id}?limit=2`);
    assert.equal(page.Items.length, 2);
    const next = await call('GET', `/certifications/acme/history/${cert.id}?limit=10&exclusiveStartKey=${page.LastEvaluatedKey}`);
    assert.equal(next.Items.length, 3);
  });
});

test("renewing a certification renews the holder's grandfathered certifications when the programme says so", async () => {
  setDay('2026-06-01');
  const first = await generate('certification', 'gf-1');
  await credit('gf-1', 10);
  await call('POST', `/applications/acme/submit/${first.id}`);
  await call('POST', `/applications/acme/approve/${first.id}`);
  const main = (await call('POST', `/applications/acme/activate/${first.id}`)).certification;
  const legacy = await f.create('certifications', {
    contact_id: 'gf-1',
    program_id: program2.id,
    status: 'active',
    number: 77,
    name: 'Old',
    grandfathered: true,
    expiration_date: '2027-03-31',
  });
  const other = await f.create('certifications', {
    contact_id: 'someone-else',
    program_id: program2.id,
    status: 'active',
    number: 78,
    name: 'Other',
    grandfathered: true,
    expiration_date: '2027-03-31',
  });
  setDay('2027-05-01');
  const r = await generate('renewal', 'gf-1', { certification_id: main.id });
  await call('POST', `/applications/acme/submit/${r.id}`);
  const out = await call('POST', `/applications/acme/activate/${r.id}`);
  assert.equal(out.certification.expiration_date, '2028-05-31');
  const renewed = await call('GET', `/certifications/acme/${legacy.id}`);
  assert.equal(renewed.expiration_date, '2028-03-31', "extended from its own expiration date by its programme's term");
  assert.equal(renewed.renewal_date, '2027-05-01');
  assert.equal(
    (await call('GET', `/certifications/acme/${other.id}`)).expiration_date,
    '2027-03-31',
    "another holder's certification is untouched",
  );
});

describe('rules that hold under concurrency', () => {
  test('50 concurrent activations in one programme get 50 distinct consecutive numbers', async () => {
    setDay('2026-03-01');
    const proc = await f.create('applicationProcesses', {
      name: 'Fast track',
      type: 'certification',
      program_id: program2.id,
      auto_approve: true,
    });
    const apps: R[] = [];
    for (let i = 0; i < 50; i++) {
      const a = await call('POST', `/applications/acme/generateApplication/${proc.id}/contact/race-${i}`, {}, 201);
      await call('POST', `/applications/acme/submit/${a.id}`);
      apps.push(a);
    }
    const outs = await Promise.all(apps.map((a) => call('POST', `/applications/acme/activate/${a.id}`)));
    const numbers = outs.map((o) => o.certification.number).sort((a, b) => a - b);
    const first = numbers[0];
    assert.deepEqual(
      numbers,
      Array.from({ length: 50 }, (_, i) => first + i),
    );
  });

  test('one credit cannot be spent twice, even by two concurrent submissions', async () => {
    const c = await credit('spender', 10);
    const a = await generate('certification', 'spender');
    const b = await generate('certification', 'spender');
    const [ra, rb] = await Promise.all([
      call('POST', `/applications/acme/submit/${a.id}`),
      call('POST', `/applications/acme/submit/${b.id}`),
    ]);
    assert.deepEqual([ra.status, rb.status].sort(), ['missing requirements', 'pending approval']);
    const spent = await call('GET', `/credits/acme/${c.id}`);
    assert.equal(spent.quantity_used, 10);
    assert.equal(spent.usages.length, 1);
    // Withdrawing the winner gives the credit back; the other can then be submitted.
    const winner = ra.status === 'pending approval' ? a : b;
    const loser = winner === a ? b : a;
    await call('POST', `/applications/acme/withdraw/${winner.id}`);
    assert.equal((await call('GET', `/credits/acme/${c.id}`)).quantity_used, 0);
    assert.equal((await call('POST', `/applications/acme/submit/${loser.id}`)).status, 'pending approval');
  });

  test('application status changes through PUT / PATCH follow the lifecycle too', async () => {
    const a = await generate('certification', 'patcher');
    await refuse(
      'PATCH',
      `/applications/acme/${a.id}`,
      [{ op: 'replace', path: '/status', value: 'activated' }],
      /cannot go from draft to activated/,
    );
    assert.equal(
      (await call('PATCH', `/applications/acme/${a.id}`, [{ op: 'replace', path: '/status', value: 'withdrawn' }])).status,
      'withdrawn',
    );
    await refuse('PATCH', `/applications/acme/${a.id}`, [{ op: 'replace', path: '/status', value: 'draft' }], /no longer change status/);
  });
});
