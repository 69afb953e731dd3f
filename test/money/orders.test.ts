import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import fc from 'fast-check';
import { startApp, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';
import type { Clock } from '../../src/core/clock.js';

/**
 * Money end to end (issue 20): an application's order priced from its process's fee (the late fee
 * added in grace), regenerated without a second charge, paid by staff and by a Stripe-signed webhook
 * (once, whatever is replayed), refunded; "paid in full" meets the application's fee requirement and a
 * refund opens it again; coupons (100 %, limits under concurrent redemption, per holder); orders of
 * course and exam registrations keep the registration's order_* fields; another currency; another
 * tenant sees nothing. Amounts are integers in cents.
 */
const WHSEC = 'whsec_test_accredit_0123456789abcdef';
let t: TestApp;
let f: Factory;
let now = new Date('2026-01-15T10:00:00Z');
const clock: Clock = { now: () => now };
const setDay = (d: string) => (now = new Date(`${d}T10:00:00Z`));

type R = Record<string, any>;
const send = (method: string, url: string, payload?: unknown, auth: string | false = t.admin) =>
  t.call({ method: method as any, url, payload: payload as any, auth });
const call = async (method: string, url: string, payload?: unknown, status = 200): Promise<R> => {
  const res = await send(method, url, payload);
  assert.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
  return res.json();
};
/** A 4xx naming `field`. */
const refused = async (method: string, url: string, payload: unknown, status: number, field: string, reason?: RegExp) => {
  const res = await send(method, url, payload);
  assert.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
  const body = res.json();
  const e = (body.errors ?? []).find((x: R) => x.field === field);
  assert.ok(e, `an error names ${field}: ${res.body}`);
  if (reason) assert.match(e.reason, reason);
  return body;
};

let program: R;
const fee: Record<string, R> = {};
const proc: Record<string, R> = {};
let n = 0;
/** A draft initial application of a new contact (or of `contact`). */
const draft = (process = proc.initial!, contact = `nurse-${++n}`, extra: R = {}) =>
  call('POST', `/applications/acme/generateApplication/${process.id}/contact/${contact}`, { name: `Nurse ${n}`, ...extra }, 201);
const order = (app: R, extra: R = {}) => call('POST', '/applications/acme/generateOrder', { ...app, ...extra });
const pay = (o: R, amount: number, extra: R = {}, status = 201) =>
  call(
    'POST',
    '/payments/acme',
    { order_id: o.id, amount, currency_code: o.currency_code, method: 'check', reference: 'chk 1', ...extra },
    status,
  );
const get = (slug: string, id: string) => call('GET', `/${slug}/acme/${id}`);
const feeMet = async (app: R) =>
  (await call('GET', `/applications/acme/requirements/${app.id}`)).requirements.find((r: R) => r.kind === 'fee').met as boolean;

const stripeEvent = (type: string, object: R, id = `evt_${Math.random().toString(36).slice(2)}`) => {
  const payload = JSON.stringify({ id, object: 'event', type, data: { object } });
  return { id, payload, signature: Stripe.webhooks.generateTestHeaderString({ payload, secret: WHSEC }) };
};
const webhook = (e: { payload: string; signature: string }, tenant = 'acme') =>
  t.call({
    method: 'POST',
    url: `/webhooks/${tenant}/stripe`,
    payload: e.payload,
    headers: { 'content-type': 'application/json', 'stripe-signature': e.signature },
    auth: false,
  });

before(async () => {
  t = await startApp({ clock, env: { STRIPE_WEBHOOK_SECRET: WHSEC }, logger: { level: 'error' } });
  f = new Factory(t, t.admin);
  const ruleSet = await f.oneYearRuleSet({ reinstatement: { give_renewal_pricing_during_reinstatement_period: true } });
  program = await f.create('programs', {
    name: 'Registered Nurse',
    expiration_rule_set_id: ruleSet.id,
    next_certification_number: 1000,
    late_fee: 50,
  });
  fee.initial = await f.create('applicationFees', {
    name: 'Initial licence',
    program_id: program.id,
    price: 200,
    member_price: 150,
    foreign_currency_prices: [{ currency_code: 'EUR', price: 185.5 }],
  });
  fee.renewal = await f.create('applicationFees', { name: 'Renewal', program_id: program.id, price: 120 });
  proc.initial = await f.create('applicationProcesses', {
    name: 'Initial',
    type: 'certification',
    program_id: program.id,
    auto_approve: true,
    application_fee_id: fee.initial.id,
  });
  fee.reinstatement = await f.create('applicationFees', { name: 'Reinstatement', program_id: program.id, price: 300 });
  proc.reinstatement = await f.create('applicationProcesses', {
    name: 'Reinstatement',
    type: 'reinstatement',
    program_id: program.id,
    auto_approve: true,
    application_fee_id: fee.reinstatement.id,
  });
  proc.renewal = await f.create('applicationProcesses', {
    name: 'Renewal',
    type: 'renewal',
    program_id: program.id,
    auto_approve: true,
    application_fee_id: fee.renewal.id,
  });
});
after(() => t.close());

describe('an application: its order, payments, refunds and its fee requirement', () => {
  test('generateOrder prices the process fee; a second call answers the same open order', async () => {
    const app = await draft();
    const o = await order(app);
    assert.equal(o.currency_code, 'USD');
    assert.equal(o.total, 20000);
    assert.equal(o.balance_due, 20000);
    assert.equal(o.amount_paid, 0);
    assert.equal(o.status, 'awaiting payment');
    assert.equal(o.owner_type, 'contact');
    assert.equal(o.contact_id, app.contact_id);
    assert.equal(o.application_id, app.id);
    assert.ok(Number.isInteger(o.number));
    assert.deepEqual(
      o.lines.map((l: R) => [l.type, l.fee_id, l.quantity, l.unit_amount, l.amount]),
      [['fee', fee.initial.id, 1, 20000, 20000]],
    );
    assert.equal((await get('applications', app.id)).order_id, o.id);
    const again = await order(app);
    assert.equal(again.id, o.id, 'no second order while one is open');
    assert.equal((await call('GET', `/orders/acme/application/${app.id}`)).Items.length, 1);
    // member price, another currency
    const member = await order(await draft(), { is_member: true });
    assert.equal(member.total, 15000);
    const eur = await order(await draft(), { currency_code: 'EUR' });
    assert.equal(eur.currency_code, 'EUR');
    assert.equal(eur.total, 18550);
    await refused(
      'POST',
      '/applications/acme/generateOrder',
      { id: (await draft()).id, currency_code: 'GBP' },
      422,
      'currency_code',
      /GBP/,
    );
    await refused('POST', '/applications/acme/generateOrder', { currency_code: 'EUR' }, 400, 'id');
  });

  test('paid in full meets the fee requirement; a refund that leaves a balance opens it again', async () => {
    const app = await draft();
    const o = await order(app);
    assert.equal(await feeMet(app), false);
    assert.equal((await call('POST', `/applications/acme/submit/${app.id}`)).status, 'missing requirements');
    await pay(o, 5000);
    let now2 = await get('orders', o.id);
    assert.deepEqual([now2.amount_paid, now2.balance_due, now2.status], [5000, 15000, 'awaiting payment']);
    assert.equal(await feeMet(app), false);
    await refused('POST', '/payments/acme', { order_id: o.id, amount: 100, currency_code: 'EUR', method: 'cash' }, 422, 'currency_code');
    await refused('POST', '/payments/acme', { order_id: o.id, amount: 0, currency_code: 'USD', method: 'cash' }, 422, 'amount');
    await pay(o, 15000, { method: 'card' });
    now2 = await get('orders', o.id);
    assert.deepEqual([now2.amount_paid, now2.balance_due, now2.status], [20000, 0, 'completed']);
    assert.equal(now2.paid_date, now.toISOString());
    assert.equal((await get('applications', app.id)).fee_paid_date, now.toISOString());
    assert.equal(await feeMet(app), true);
    // a refund needs a reason, never exceeds what was paid, and opens the balance again
    await refused('POST', '/payments/acme', { order_id: o.id, amount: -5000, currency_code: 'USD', method: 'card' }, 422, 'reason');
    await refused(
      'POST',
      '/payments/acme',
      { order_id: o.id, amount: -20001, currency_code: 'USD', method: 'card', reason: 'x' },
      422,
      'amount',
    );
    const refund = await pay(o, -5000, { method: 'card', reason: 'paid twice by mistake' });
    now2 = await get('orders', o.id);
    assert.deepEqual([now2.amount_paid, now2.balance_due, now2.status], [15000, 5000, 'awaiting payment']);
    assert.equal((await get('applications', app.id)).fee_paid_date, undefined);
    assert.equal(await feeMet(app), false);
    // payments are append-only
    const put = await send('PUT', `/payments/acme/${refund.id}`, { ...refund, amount: -1 });
    assert.equal(put.statusCode, 409, put.body);
    assert.equal((await send('DELETE', `/payments/acme/${refund.id}`)).statusCode, 409);
    assert.equal((await call('GET', `/payments/acme/order/${o.id}`)).Items.length, 3);
    // the computed fields cannot be stated otherwise, nor the status against the balance
    await refused('PATCH', `/orders/acme/${o.id}`, [{ op: 'replace', path: '/total', value: 1 }], 422, 'total');
    await refused(
      'PATCH',
      `/orders/acme/${o.id}`,
      [{ op: 'replace', path: '/status', value: 'completed' }],
      422,
      'status',
      /awaiting payment/,
    );
    // paid again: submit passes the fee requirement
    await pay(o, 5000);
    assert.equal(await feeMet(app), true);
    assert.equal((await call('POST', `/applications/acme/submit/${app.id}`)).status, 'approved');
  });

  test('a renewal in grace costs the renewal fee plus the late fee; a 100 % coupon brings the balance to zero and meets the fee', async () => {
    setDay('2026-01-15');
    const first = await draft(proc.initial, 'grace-nurse');
    const o = await order(first);
    await pay(o, o.total);
    await call('POST', `/applications/acme/submit/${first.id}`);
    const cert = (await call('POST', `/applications/acme/activate/${first.id}`)).certification;
    assert.equal(cert.expiration_date, '2027-01-14');
    setDay('2027-01-20'); // in grace until 2027-02-13
    const renewal = await call(
      'POST',
      `/applications/acme/generateApplication/${proc.renewal.id}/contact/grace-nurse`,
      { certification_id: cert.id },
      201,
    );
    const ro = await order(renewal);
    assert.equal(ro.total, 17000, '120 + 50');
    assert.deepEqual(
      ro.lines.map((l: R) => [l.type, l.amount]),
      [
        ['fee', 12000],
        ['late fee', 5000],
      ],
    );
    // the same renewal before expiry: no late fee
    setDay('2027-01-10');
    const early = await call(
      'POST',
      `/applications/acme/generateApplication/${proc.renewal.id}/contact/grace-nurse`,
      { certification_id: cert.id },
      201,
    );
    assert.equal((await order(early)).total, 12000);
    setDay('2027-01-20');
    const military = await f.create('coupons', {
      name: 'Military',
      code: 'MILITARY',
      is_active: true,
      apply_to_application_fees: true,
      application_fee_discount: { discount_type: 'percentage', amount: 100 },
    });
    const done = await call('POST', `/orders/acme/applyCoupon/${ro.id}`, { coupon_code: 'MILITARY' });
    assert.equal(done.coupon_id, military.id);
    assert.equal(done.total, 0);
    assert.equal(done.balance_due, 0);
    assert.equal(done.status, 'completed');
    assert.equal(await feeMet(renewal), true);
    // a coupon on an order that has one, or a code nobody has
    assert.equal((await send('POST', `/orders/acme/applyCoupon/${ro.id}`, { coupon_code: 'MILITARY' })).statusCode, 409);
    const other = await order(await draft());
    await refused('POST', `/orders/acme/applyCoupon/${other.id}`, { coupon_code: 'NOPE' }, 422, 'coupon_code', /no coupon/);
    // past grace, inside the reinstatement period of a rule set with renewal pricing: the renewal fee, not the reinstatement fee
    setDay('2027-03-01');
    const back = await call(
      'POST',
      `/applications/acme/generateApplication/${proc.reinstatement.id}/contact/grace-nurse`,
      { certification_id: cert.id },
      201,
    );
    assert.deepEqual(
      (await order(back)).lines.map((l: R) => [l.type, l.fee_id, l.amount]),
      [['fee', fee.renewal.id, 12000]],
    );
    setDay('2027-01-20');
  });
});

describe('coupons', () => {
  test('a usage limit holds under concurrent redemption; a per-holder limit; dates', async () => {
    await f.create('coupons', {
      name: 'Three only',
      code: 'THREE',
      is_active: true,
      maximum_number_of_uses: 3,
      apply_to_application_fees: true,
      application_fee_discount: { discount_type: 'fixed amount', amount: 25 },
    });
    // a code names one coupon
    const again = await send('POST', '/coupons/acme', { name: 'Copy', code: 'THREE', is_active: true });
    assert.equal(again.statusCode, 409, again.body);
    assert.equal(again.json().errors[0].field, 'code');
    const apps = [];
    for (let i = 0; i < 8; i++) apps.push(await draft());
    const answers = await Promise.all(
      apps.map((a) => send('POST', '/applications/acme/generateOrder', { id: a.id, coupon_code: 'THREE' })),
    );
    const ok = answers.filter((r) => r.statusCode === 200);
    const no = answers.filter((r) => r.statusCode !== 200);
    assert.equal(ok.length, 3, answers.map((r) => r.statusCode).join(','));
    for (const r of ok) assert.equal(r.json().total, 17500);
    for (const r of no) {
      assert.equal(r.statusCode, 422, r.body);
      assert.equal(r.json().errors[0].field, 'coupon_code');
    }
    assert.equal((await call('POST', '/orders/acme/search', { coupon_id: [ok[0]!.json().coupon_id] })).Items.length, 3);
    // a cancelled order gives its use back
    await call('PATCH', `/orders/acme/${ok[0]!.json().id}`, [{ op: 'replace', path: '/status', value: 'cancelled' }]);
    assert.equal((await order(apps[7]!, { coupon_code: 'THREE' })).total, 17500);

    await f.create('coupons', {
      name: 'Once each',
      code: 'ONCE',
      is_active: true,
      maximum_uses_per_holder: 1,
      start_date: '2027-01-01',
      end_date: '2027-12-31',
      apply_to_application_fees: true,
      application_fee_discount: { discount_type: 'percentage', amount: 10 },
    });
    const a1 = await draft(proc.initial, 'repeat-nurse');
    const a2 = await draft(proc.initial, 'repeat-nurse');
    assert.equal((await order(a1, { coupon_code: 'ONCE' })).total, 18000);
    await refused('POST', '/applications/acme/generateOrder', { id: a2.id, coupon_code: 'ONCE' }, 422, 'coupon_code');
    setDay('2028-01-01');
    await refused('POST', '/applications/acme/generateOrder', { id: (await draft()).id, coupon_code: 'ONCE' }, 422, 'coupon_code');
    setDay('2027-01-20');
  });
});

describe('Stripe webhooks', () => {
  test('a signed checkout.session.completed pays the order once; a replay and the payment_intent event record nothing more', async () => {
    const app = await draft();
    const o = await order(app);
    const session = {
      id: 'cs_test_1',
      object: 'checkout.session',
      payment_status: 'paid',
      amount_total: o.total,
      currency: 'usd',
      payment_intent: 'pi_test_1',
      metadata: { order_id: o.id, tenant_id: 'acme' },
    };
    const e = stripeEvent('checkout.session.completed', session);
    const first = await webhook(e);
    assert.equal(first.statusCode, 200, first.body);
    assert.equal(first.json().recorded, true);
    const paid = await get('orders', o.id);
    assert.deepEqual([paid.amount_paid, paid.balance_due, paid.status], [o.total, 0, 'completed']);
    assert.equal(await feeMet(app), true);
    const replay = await webhook(e);
    assert.equal(replay.statusCode, 200);
    assert.equal(replay.json().recorded, false);
    const pi = await webhook(
      stripeEvent('payment_intent.succeeded', {
        id: 'pi_test_1',
        object: 'payment_intent',
        amount_received: o.total,
        currency: 'usd',
        metadata: { order_id: o.id },
      }),
    );
    assert.equal(pi.json().recorded, false, pi.body);
    const payments = (await call('GET', `/payments/acme/order/${o.id}`)).Items;
    assert.equal(payments.length, 1);
    assert.deepEqual([payments[0].method, payments[0].provider_event_id, payments[0].provider_payment_id], ['stripe', e.id, 'pi_test_1']);
  });

  test('concurrent deliveries of one event record it once', async () => {
    const o = await order(await draft());
    const e = stripeEvent('payment_intent.succeeded', {
      id: 'pi_test_conc',
      object: 'payment_intent',
      amount_received: o.total,
      currency: 'usd',
      metadata: { order_id: o.id },
    });
    const answers = await Promise.all([webhook(e), webhook(e), webhook(e), webhook(e)]);
    for (const r of answers) assert.equal(r.statusCode, 200, r.body);
    assert.equal(answers.filter((r) => r.json().recorded).length, 1);
    assert.equal((await call('GET', `/payments/acme/order/${o.id}`)).Items.length, 1);
  });

  test('a bad signature is a 400 and changes nothing; other events are ignored; another tenant cannot pay this one', async () => {
    const o = await order(await draft());
    const obj = { id: 'pi_test_bad', object: 'payment_intent', amount_received: o.total, currency: 'usd', metadata: { order_id: o.id } };
    const e = stripeEvent('payment_intent.succeeded', obj);
    const tampered = { payload: e.payload.replace(`"amount_received":${o.total}`, '"amount_received":1'), signature: e.signature };
    for (const bad of [tampered, { payload: e.payload, signature: 't=1,v1=00' }, { payload: e.payload, signature: '' }]) {
      const r = await webhook(bad);
      assert.equal(r.statusCode, 400, r.body);
      assert.equal(r.json().errors[0].field, 'stripe-signature');
    }
    const forged = Stripe.webhooks.generateTestHeaderString({ payload: e.payload, secret: 'whsec_someone_else' });
    assert.equal((await webhook({ payload: e.payload, signature: forged })).statusCode, 400);
    assert.equal((await call('GET', `/payments/acme/order/${o.id}`)).Items.length, 0);
    assert.equal((await get('orders', o.id)).amount_paid, 0);
    const other = await webhook(stripeEvent('customer.created', { id: 'cus_1', object: 'customer' }));
    assert.equal(other.statusCode, 200);
    assert.equal(other.json().recorded, false);
    // the same order through another tenant's endpoint: not found there, nothing written
    const beta = await webhook(e, 'beta');
    assert.ok(beta.statusCode >= 400 && beta.statusCode < 500, beta.body);
    assert.equal((await get('orders', o.id)).amount_paid, 0);
    const betaToken = await t.token({ tenants: ['beta'] });
    assert.equal((await send('GET', `/orders/beta/${o.id}`, undefined, betaToken)).statusCode, 404);
    assert.equal((await send('GET', `/orders/acme/${o.id}`, undefined, betaToken)).statusCode, 403);
  });
});

describe('registrations', () => {
  test("a course registration's order keeps its order_* fields in step", async () => {
    const course = await f.create('courses', {});
    const courseFee = await f.create('courseFees', { course_id: course.id, name: 'Course fee', price: 80 });
    const offering = await f.create('courseOfferings', { course_id: course.id, fee_id: courseFee.id });
    const reg = await f.create('courseRegistrations', { course_id: course.id, course_offering_id: offering.id, student_id: 'student-1' });
    const o = await call('POST', '/courseRegistrations/acme/generateOrder', { ...reg });
    assert.equal(o.total, 8000);
    assert.equal(o.course_registration_id, reg.id);
    let r = await get('courseRegistrations', reg.id);
    assert.deepEqual(
      [r.order_id, r.order_status, r.order_total, r.order_balance_due, r.order_currency_code],
      [o.id, 'awaiting payment', 80, 80, 'USD'],
    );
    assert.equal((await call('POST', '/courseRegistrations/acme/generateOrder', { id: reg.id })).id, o.id);
    await pay(o, 8000);
    r = await get('courseRegistrations', reg.id);
    assert.deepEqual([r.order_status, r.order_amount_paid, r.order_balance_due], ['completed', 80, 0]);
  });

  test("an exam registration's retake costs the offering's retest fee; a coupon for course fees does not apply to it", async () => {
    const exam = await f.create('exams', {});
    const first = await f.create('examFees', { exam_id: exam.id, name: 'Sitting', price: 100 });
    const retest = await f.create('examFees', { exam_id: exam.id, name: 'Retake', price: 60 });
    const offering = await f.create('examOfferings', { exam_id: exam.id, fee_id: first.id, retest_fee_id: retest.id });
    const register = await f.create('examRegProcesses', { name: 'Sitting', type: 'register' });
    const retake = await f.create('examRegProcesses', { name: 'Retake', type: 'retest' });
    // a first sitting, failed: the next is a retake
    const sat = await f.create('examRegistrations', {
      exam_id: exam.id,
      exam_offering_id: offering.id,
      student_id: 'student-2',
      process_id: register.id,
    });
    assert.equal((await call('POST', '/examRegistrations/acme/generateOrder', { id: sat.id })).total, 10000);
    await call('PATCH', `/examRegistrations/acme/${sat.id}`, [{ op: 'add', path: '/status', value: 'registered' }]);
    await call('PATCH', `/examRegistrations/acme/${sat.id}`, [{ op: 'replace', path: '/status', value: 'failed' }]);
    const reg = await f.create('examRegistrations', {
      exam_id: exam.id,
      exam_offering_id: offering.id,
      student_id: 'student-2',
      process_id: retake.id,
    });
    await f.create('coupons', {
      name: 'Course discount',
      code: 'COURSE10',
      is_active: true,
      apply_to_course_fees: true,
      course_fee_discount: { discount_type: 'percentage', amount: 10 },
    });
    await refused('POST', '/examRegistrations/acme/generateOrder', { id: reg.id, coupon_code: 'COURSE10' }, 422, 'coupon_code');
    const o = await call('POST', '/examRegistrations/acme/generateOrder', { id: reg.id });
    assert.deepEqual(
      o.lines.map((l: R) => [l.fee_id, l.fee_kind, l.amount]),
      [[retest.id, 'exam', 6000]],
    );
    const r = await get('examRegistrations', reg.id);
    assert.deepEqual([r.order_id, r.order_status, r.order_number], [o.id, 'awaiting payment', o.number]);
  });
});

describe('bad input on the money routes', () => {
  test('any body to generateOrder, applyCoupon and payments, any bytes and signature to the webhook: a 4xx or an answer, never a 5xx; no payment appears', async () => {
    const app = await draft();
    const o = await order(app);
    const before = (await call('POST', '/payments/acme/search', {})).Items.length;
    const value = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string(), { maxLength: 3 }),
      fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
    );
    const body = fc.oneof(
      fc.dictionary(
        fc.constantFrom('id', 'coupon_code', 'currency_code', 'is_member', 'order_id', 'amount', 'method', 'reason', 'lines', 'x'),
        value,
        { maxKeys: 5 },
      ),
      value,
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          '/applications/acme/generateOrder',
          '/courseRegistrations/acme/generateOrder',
          '/examRegistrations/acme/generateOrder',
          `/orders/acme/applyCoupon/${o.id}`,
          '/payments/acme',
        ),
        body,
        async (url, b) => {
          const r = await t.call({
            method: 'POST',
            url,
            payload: JSON.stringify(b),
            headers: { 'content-type': 'application/json' },
            auth: t.admin,
          });
          assert.ok(r.statusCode < 500, `${url} ${JSON.stringify(b)}: ${r.body}`);
        },
      ),
      { numRuns: 150, seed: 20_261_203 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc.constant(
            stripeEvent('payment_intent.succeeded', { id: 'pi_fuzz', amount_received: 1, currency: 'usd', metadata: { order_id: o.id } })
              .payload,
          ),
        ),
        fc.string(),
        async (payload, signature) => {
          const r = await webhook({ payload, signature });
          assert.ok(r.statusCode >= 400 && r.statusCode < 500, `${r.statusCode} ${r.body}`);
        },
      ),
      { numRuns: 150, seed: 20_261_203 },
    );
    assert.equal((await call('POST', '/payments/acme/search', {})).Items.length, before, 'no payment recorded by bad input');
  });
});
