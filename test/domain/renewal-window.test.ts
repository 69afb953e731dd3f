import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';
import type { Clock } from '../../src/core/clock.js';

/**
 * Renewal windows hold at every step (issue 17, item 3): with default_renewal_period 90, a renewal is
 * possible from 90 days before the expiration date to the end of grace. generateApplication, submit,
 * approve (every route to approved) and activate refuse it outside that window with a 409 naming the
 * window and its dates; a lapsed licence is pointed to reinstatement; credits are never consumed by an
 * application that cannot be activated.
 */
let t: TestApp;
let f: Factory;
let now = new Date('2026-01-15T10:00:00Z');
const clock: Clock = { now: () => now };
const setDay = (d: string) => (now = new Date(`${d}T10:00:00Z`));

type R = Record<string, any>;
const send = (method: string, url: string, payload?: unknown) =>
  t.call({ method: method as any, url, payload: payload as any, auth: t.admin });
const call = async (method: string, url: string, payload?: unknown, status = 200): Promise<R> => {
  const res = await send(method, url, payload);
  assert.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
  return res.json();
};
const refuse = async (method: string, url: string, payload: unknown, pattern: RegExp) => {
  const res = await send(method, url, payload);
  assert.equal(res.statusCode, 409, `${method} ${url}: ${res.body}`);
  assert.match(res.json().message, pattern);
  return res.json();
};

let program: R, ceType: R;
const proc: Record<string, R> = {};
// The licence: activated 2026-01-15, expires 2027-01-14, grace until 2027-02-13 (30 days), reinstatable until 2027-05-14.
// Its renewal window: 2026-10-16 (90 days before expiry) to 2027-02-13.
let cert: R;
const WINDOW =
  /renewal window runs from 2026-10-16 \(90 days before it expires on 2027-01-14\) to 2027-02-13 \(the end of its grace period\)/;
const LAPSED =
  /renewal window \(2026-10-16 to 2027-02-13\) closed at the end of its grace period on 2027-02-13; it lapsed after its grace period, apply for reinstatement instead \(its reinstatement window runs from 2027-02-14 to 2027-05-14\)/;

before(async () => {
  t = await startApp({ clock });
  f = new Factory(t, t.admin);
  const ruleSet = await f.oneYearRuleSet({ reinstatement: true });
  program = await f.create('programs', {
    name: 'Registered Nurse',
    expiration_rule_set_id: ruleSet.id,
    next_certification_number: 1000,
    default_renewal_period: 90,
  });
  ceType = await f.create('creditTypes', { name: 'CE hours' });
  proc.initial = await f.create('applicationProcesses', {
    name: 'Initial',
    type: 'certification',
    program_id: program.id,
    auto_approve: true,
  });
  // renewals need 10 CE hours; one process approves automatically, one waits for staff
  const ce = [{ credit_type_id: ceType.id, quantity: 10 }];
  proc.auto = await f.create('applicationProcesses', {
    name: 'Renewal (auto)',
    type: 'renewal',
    program_id: program.id,
    auto_approve: true,
    credit_requirements: ce,
  });
  proc.staff = await f.create('applicationProcesses', {
    name: 'Renewal (staff)',
    type: 'renewal',
    program_id: program.id,
    credit_requirements: ce,
  });
  const first = await call(
    'POST',
    `/applications/acme/generateApplication/${proc.initial.id}/contact/nurse-1`,
    { name: 'Ada Lovelace' },
    201,
  );
  await call('POST', `/applications/acme/submit/${first.id}`);
  cert = (await call('POST', `/applications/acme/activate/${first.id}`)).certification;
  assert.equal(cert.expiration_date, '2027-01-14');
  assert.equal(cert.grace_period_end_date, '2027-02-13');
});
after(() => t.close());

const generateUrl = (p: R) => `/applications/acme/generateApplication/${p.id}/contact/nurse-1`;
const generate = (p: R) => call('POST', generateUrl(p), { certification_id: cert.id }, 201);
/** 10 verified CE hours earned today (inside the cycle window). */
const credit = (quantity = 10) =>
  f.create('credits', { contact_id: 'nurse-1', type_id: ceType.id, quantity, status: 'verified', date: now.toISOString().slice(0, 10) });
/** CE hours consumed from all of nurse-1's credits. */
const used = async () =>
  (await call('POST', '/credits/acme/search', { contact_id: ['nurse-1'] })).Items.reduce(
    (n: number, c: R) => n + (c.quantity_used ?? 0),
    0,
  );
const expiry = async () => (await call('GET', `/certifications/acme/${cert.id}`)).expiration_date;

describe('a renewal outside its window is refused at every step', () => {
  test('generateApplication: two years early, one day before the window, and after grace', async () => {
    setDay('2026-02-01');
    await refuse('POST', generateUrl(proc.auto), { certification_id: cert.id }, WINDOW);
    setDay('2026-10-15');
    await refuse(
      'POST',
      generateUrl(proc.auto),
      { certification_id: cert.id },
      /cannot be renewed yet: its renewal window runs from 2026-10-16/,
    );
    setDay('2027-02-14');
    const body = await refuse('POST', generateUrl(proc.auto), { certification_id: cert.id }, LAPSED);
    assert.equal(body.code, 'conflict');
    // nothing was written
    const apps = await call('POST', '/applications/acme/search', { contact_id: ['nurse-1'], type: ['renewal'] });
    assert.equal(apps.Items.length, 0);
    // the first and last days of the window are inside it
    for (const d of ['2026-10-16', '2027-02-13']) {
      setDay(d);
      const a = await generate(proc.auto);
      await call('POST', `/applications/acme/withdraw/${a.id}`);
    }
  });

  test('submit: refused before any credit is consumed (also with auto-approval), before the window and past grace', async () => {
    setDay('2026-11-01');
    await credit();
    const a = await generate(proc.auto);
    setDay('2026-10-01'); // the clock of a long-open draft is not "inside" just because it once was
    await refuse('POST', `/applications/acme/submit/${a.id}`, undefined, WINDOW);
    setDay('2027-03-01');
    await refuse('POST', `/applications/acme/submit/${a.id}`, undefined, LAPSED);
    assert.equal(await used(), 0, 'no credit consumed');
    const still = await call('GET', `/applications/acme/${a.id}`);
    assert.equal(still.status, 'draft');
    assert.equal(still.credits, undefined);
    await call('POST', `/applications/acme/withdraw/${a.id}`);
    // a process without auto-approval: submit would leave it pending approval with the credits spent
    setDay('2026-11-01');
    const b = await generate(proc.staff);
    setDay('2027-02-14');
    await refuse('POST', `/applications/acme/submit/${b.id}`, undefined, LAPSED);
    assert.equal(await used(), 0, 'no credit consumed');
    assert.equal((await call('GET', `/applications/acme/${b.id}`)).status, 'draft');
    await call('POST', `/applications/acme/withdraw/${b.id}`);
  });

  test('approve: refused outside the window, through the route and through PATCH; inside it works', async () => {
    setDay('2026-11-01');
    const a = await generate(proc.staff);
    assert.equal((await call('POST', `/applications/acme/submit/${a.id}`)).status, 'pending approval');
    assert.equal(await used(), 10);
    setDay('2027-02-20');
    await refuse('POST', `/applications/acme/approve/${a.id}`, {}, LAPSED);
    await refuse('PATCH', `/applications/acme/${a.id}`, [{ op: 'replace', path: '/status', value: 'approved' }], LAPSED);
    setDay('2026-09-01');
    await refuse('POST', `/applications/acme/approve/${a.id}`, {}, WINDOW);
    assert.equal((await call('GET', `/applications/acme/${a.id}`)).status, 'pending approval');
    setDay('2026-11-02');
    assert.equal((await call('POST', `/applications/acme/approve/${a.id}`, {})).status, 'approved');
    // withdrawing gives the credits back
    await call('POST', `/applications/acme/withdraw/${a.id}`);
    assert.equal(await used(), 0);
  });

  test('activate: an approved renewal past grace is refused and the expiry does not move; inside the window it extends from the expiry', async () => {
    setDay('2026-12-01');
    const a = await generate(proc.auto);
    assert.equal((await call('POST', `/applications/acme/submit/${a.id}`)).status, 'approved');
    setDay('2027-02-14');
    await refuse('POST', `/applications/acme/activate/${a.id}`, undefined, LAPSED);
    setDay('2026-10-01');
    await refuse('POST', `/applications/acme/activate/${a.id}`, undefined, WINDOW);
    assert.equal(await expiry(), '2027-01-14');
    setDay('2027-01-20'); // in grace: still renewable
    const out = await call('POST', `/applications/acme/activate/${a.id}`);
    assert.equal(out.certification.expiration_date, '2028-01-14');
    cert = out.certification;
  });
});

test('a renewal two years early, once refused, is possible when the window opens (the window follows the new expiry)', async () => {
  setDay('2027-01-25');
  await refuse(
    'POST',
    generateUrl(proc.auto),
    { certification_id: cert.id },
    /window runs from 2027-10-16 \(90 days before it expires on 2028-01-14\) to 2028-02-13/,
  );
  setDay('2027-10-16');
  await credit();
  const a = await generate(proc.auto);
  await call('POST', `/applications/acme/submit/${a.id}`);
  const out = await call('POST', `/applications/acme/activate/${a.id}`);
  assert.equal(out.certification.expiration_date, '2029-01-14');
  cert = out.certification;
});

test('a lapsed licence: the renewal is refused before credits are consumed and pointed to reinstatement, which works', async () => {
  const rein = await f.create('applicationProcesses', {
    name: 'Reinstatement',
    type: 'reinstatement',
    program_id: program.id,
    auto_approve: true,
    credit_requirements: [{ credit_type_id: ceType.id, quantity: 10 }],
  });
  setDay('2028-12-01');
  await credit();
  const before = await used();
  const a = await generate(proc.auto); // inside the window
  setDay('2029-03-01'); // past grace (2029-02-13)
  await refuse(
    'POST',
    `/applications/acme/submit/${a.id}`,
    undefined,
    /cannot be renewed: .* closed at the end of its grace period on 2029-02-13; .* apply for reinstatement instead \(its reinstatement window runs from 2029-02-14 to 2029-05-14\)/,
  );
  assert.equal(await used(), before, 'no credit consumed');
  // a reinstatement before the lapse is refused at generate too
  setDay('2029-02-10');
  await refuse(
    'POST',
    generateUrl(rein),
    { certification_id: cert.id },
    /cannot be reinstated: the certification has not lapsed .* renew it instead/,
  );
  setDay('2029-03-01');
  const r = await call('POST', generateUrl(rein), { certification_id: cert.id }, 201);
  assert.equal((await call('POST', `/applications/acme/submit/${r.id}`)).status, 'approved');
  assert.equal(await used(), before + 10);
  const out = await call('POST', `/applications/acme/activate/${r.id}`);
  assert.equal(out.certification.status, 'active');
  assert.equal(out.certification.expiration_date, '2030-02-28');
});

test('without default_renewal_period a renewal has no opening limit, but still closes at the end of grace', async () => {
  const open = await f.create('programs', {
    name: 'Open renewals',
    expiration_rule_set_id: program.expiration_rule_set_id,
    next_certification_number: 1,
  });
  const holder = await f.create('certifications', {
    contact_id: 'nurse-2',
    program_id: open.id,
    status: 'active',
    number: 7,
    name: 'B',
    expiration_date: '2031-06-30',
    grace_period_end_date: '2031-07-30',
  });
  const p = await f.create('applicationProcesses', { name: 'Renew', type: 'renewal', program_id: open.id, auto_approve: true });
  setDay('2029-03-01');
  const a = await call('POST', `/applications/acme/generateApplication/${p.id}/contact/nurse-2`, { certification_id: holder.id }, 201);
  await call('POST', `/applications/acme/submit/${a.id}`);
  setDay('2031-07-31');
  await refuse(
    'POST',
    `/applications/acme/activate/${a.id}`,
    undefined,
    /its renewal window closed at the end of its grace period on 2031-07-30; .* apply for reinstatement instead/,
  );
  setDay('2031-07-30');
  assert.equal((await call('POST', `/applications/acme/activate/${a.id}`)).certification.expiration_date, '2032-06-30');
});

test('a renewal of a retired certification is refused at generate', async () => {
  const old = await f.create('certifications', {
    contact_id: 'nurse-3',
    program_id: program.id,
    status: 'retired',
    number: 9,
    name: 'C',
    expiration_date: '2031-06-30',
  });
  await refuse(
    'POST',
    `/applications/acme/generateApplication/${proc.auto.id}/contact/nurse-3`,
    { certification_id: old.id },
    /is retired/,
  );
});
