import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type CouponLike,
  type CouponOffer,
  couponRefusal,
  type FeeLike,
  type PricingInput,
  type PricingResult,
  price,
  type Purchase,
  totalsOf,
} from './pricing.js';

const DAY = '2026-06-15';
const renewalFee: FeeLike = { id: 'fee-renew', name: 'Renewal', price: 120, member_price: 90, is_active: true };
const certFee: FeeLike = { id: 'fee-cert', name: 'Certification', price: 250, is_active: true };
const reinstateFee: FeeLike = { id: 'fee-reinstate', name: 'Reinstatement', price: 300, is_active: true };
const courseFee: FeeLike = { id: 'fee-course', name: 'Course', price: 400, member_price: 350 };
const examFee: FeeLike = { id: 'fee-exam', name: 'Exam', price: 200, member_price: 150 };
const otherFee: FeeLike = { id: 'fee-other', name: 'Wall certificate', price: 25 };

const renewal: Purchase = { kind: 'application', application_type: 'renewal', fee: renewalFee, fee_kind: 'application' };

function input(over: Partial<PricingInput> = {}): PricingInput {
  return { purchase: renewal, buyer: { member: false, standing: 'current' }, base_currency: 'USD', date: DAY, ...over };
}

function ok(r: PricingResult) {
  if (!r.ok) assert.fail(`expected a price, got ${JSON.stringify(r.errors)}`);
  return r.priced;
}
function errors(r: PricingResult) {
  if (r.ok) assert.fail(`expected errors, got ${JSON.stringify(r.priced)}`);
  return r.errors;
}
const offer = (coupon: Partial<CouponLike>, uses = 0, uses_by_holder = 0): CouponOffer => ({
  coupon: { id: 'cp', code: 'SAVE', ...coupon },
  uses,
  uses_by_holder,
});
const appPercent = (amount: number, extra: Partial<CouponLike> = {}) =>
  offer({ apply_to_application_fees: true, application_fee_discount: { discount_type: 'percentage', amount }, ...extra });

test('every fee kind is priced at its fee, in cents', () => {
  const kinds: [Purchase['kind'], Purchase['fee_kind'], FeeLike, number][] = [
    ['application', 'application', certFee, 25000],
    ['course registration', 'course', courseFee, 40000],
    ['exam registration', 'exam', examFee, 20000],
    ['other', 'other', otherFee, 2500],
  ];
  for (const [kind, fee_kind, fee, cents] of kinds) {
    const p = ok(
      price(input({ purchase: { kind, fee, fee_kind, application_type: kind === 'application' ? 'certification' : undefined } })),
    );
    assert.deepEqual(p.lines, [
      { type: 'fee', description: fee.name, fee_kind, fee_id: fee.id, quantity: 1, unit_amount: cents, amount: cents },
    ]);
    assert.deepEqual(
      { currency: p.currency, subtotal: p.subtotal, discount_total: p.discount_total, total: p.total },
      {
        currency: 'USD',
        subtotal: cents,
        discount_total: 0,
        total: cents,
      },
    );
  }
  const retest = ok(
    price(input({ purchase: { kind: 'exam registration', retest: true, fee: { id: 'r', price: 75.5 }, fee_kind: 'exam' } })),
  );
  assert.equal(retest.total, 7550);
  assert.equal(retest.lines[0]!.description, 'r', 'a fee without a name is described by its id');
});

test('extra fees are lines of kind other', () => {
  const p = ok(price(input({ purchase: { ...renewal, extra_fees: [otherFee, { id: 'x', name: 'Shipping', price: 9.99 }] } })));
  assert.deepEqual(
    p.lines.map((l) => [l.type, l.fee_kind, l.fee_id, l.amount]),
    [
      ['fee', 'application', 'fee-renew', 12000],
      ['fee', 'other', 'fee-other', 2500],
      ['fee', 'other', 'x', 999],
    ],
  );
  assert.equal(p.total, 12000 + 2500 + 999);
});

test('member prices for members, where the fee has one', () => {
  assert.equal(ok(price(input({ buyer: { member: true } }))).total, 9000);
  assert.equal(ok(price(input({ buyer: { member: false } }))).total, 12000);
  const noMemberPrice = { kind: 'application' as const, application_type: 'certification', fee: certFee, fee_kind: 'application' as const };
  assert.equal(ok(price(input({ purchase: noMemberPrice, buyer: { member: true } }))).total, 25000);
  assert.equal(
    ok(price(input({ purchase: { ...renewal, extra_fees: [{ id: 'o', price: 10, member_price: 5 }] }, buyer: { member: true } }))).total,
    9500,
  );
});

test('a renewal in grace adds the late fee: 120 + 50', () => {
  const p = ok(price(input({ buyer: { member: false, standing: 'in_grace' }, late_fee: 50 })));
  assert.equal(p.total, 17000);
  assert.equal(p.subtotal, 17000);
  assert.deepEqual(p.lines[1], {
    type: 'late fee',
    description: 'Late fee',
    fee_kind: 'application',
    quantity: 1,
    unit_amount: 5000,
    amount: 5000,
  });
});

test('no late fee when current, lapsed, without a late fee, or not a renewal', () => {
  assert.equal(ok(price(input({ buyer: { member: false, standing: 'current' }, late_fee: 50 }))).total, 12000);
  assert.equal(ok(price(input({ buyer: { member: false, standing: 'lapsed' }, late_fee: 50 }))).total, 12000);
  assert.equal(ok(price(input({ buyer: { member: false }, late_fee: 50 }))).total, 12000);
  assert.equal(ok(price(input({ buyer: { member: false, standing: 'in_grace' } }))).total, 12000);
  assert.equal(ok(price(input({ buyer: { member: false, standing: 'in_grace' }, late_fee: 0 }))).total, 12000);
  const cert = { kind: 'application' as const, application_type: 'certification', fee: certFee, fee_kind: 'application' as const };
  assert.equal(ok(price(input({ purchase: cert, buyer: { member: false, standing: 'in_grace' }, late_fee: 50 }))).total, 25000);
});

test('a late fee with more decimals than the currency is an error naming late_fee', () => {
  assert.deepEqual(errors(price(input({ buyer: { member: false, standing: 'in_grace' }, late_fee: 50.001 }))), [
    { field: 'late_fee', reason: 'the late fee 50.001 is not an amount in USD (2 decimals at most)' },
  ]);
});

test('reinstatement: its fee, or the renewal fee at renewal pricing', () => {
  const reinstatement: Purchase = {
    kind: 'application',
    application_type: 'reinstatement',
    fee: reinstateFee,
    renewal_fee: renewalFee,
    fee_kind: 'application',
  };
  const plain = ok(price(input({ purchase: reinstatement, buyer: { member: false, standing: 'lapsed' } })));
  assert.equal(plain.total, 30000);
  assert.equal(plain.lines[0]!.fee_id, 'fee-reinstate');
  const atRenewal = ok(price(input({ purchase: reinstatement, buyer: { member: false, standing: 'lapsed', renewal_pricing: true } })));
  assert.equal(atRenewal.total, 12000);
  assert.equal(atRenewal.lines[0]!.fee_id, 'fee-renew');
  assert.equal(
    ok(price(input({ purchase: reinstatement, buyer: { member: true, renewal_pricing: true } }))).total,
    9000,
    'member renewal price',
  );
  const noRenewalFee = { ...reinstatement, renewal_fee: undefined };
  assert.equal(ok(price(input({ purchase: noRenewalFee, buyer: { member: false, renewal_pricing: true } }))).total, 30000);
  assert.equal(
    ok(price(input({ purchase: reinstatement, buyer: { member: false, standing: 'in_grace' }, late_fee: 50 }))).total,
    30000,
    'no late fee',
  );
});

test('exam special prices inside their window, when enabled', () => {
  const special: FeeLike = {
    ...examFee,
    enable_special_prices: true,
    special_prices: [
      {
        name: 'Early bird',
        price: 180,
        member_price: 130,
        available_from: '2026-06-01T00:00:00Z',
        available_until: '2026-06-15T23:59:59Z',
      },
      { name: 'Late', price: 220, available_from: '2026-06-16T00:00:00Z' },
    ],
  };
  const exam = (fee: FeeLike) => ({ kind: 'exam registration' as const, fee, fee_kind: 'exam' as const });
  assert.equal(ok(price(input({ purchase: exam(special) }))).total, 18000, 'last day of the window included');
  assert.equal(ok(price(input({ purchase: exam(special), buyer: { member: true } }))).total, 13000);
  assert.equal(ok(price(input({ purchase: exam(special), date: '2026-05-31' }))).total, 20000, 'before every window: the price');
  assert.equal(ok(price(input({ purchase: exam(special), date: '2026-09-01' }))).total, 22000, 'open-ended window');
  assert.equal(
    ok(price(input({ purchase: exam(special), date: '2026-09-01', buyer: { member: true } }))).total,
    22000,
    'no member price there',
  );
  assert.equal(ok(price(input({ purchase: exam({ ...special, enable_special_prices: false }) }))).total, 20000, 'switched off');
});

test('another currency: the fee’s foreign price, its member price for members', () => {
  const fee: FeeLike = {
    ...renewalFee,
    foreign_currency_prices: [
      { currency_code: 'EUR', price: 110, member_price: 80.5 },
      { currency_code: 'JPY', price: 18000 },
      { currency_code: 'BHD', price: 45.125 },
    ],
  };
  const purchase = { ...renewal, fee };
  const eur = ok(price(input({ purchase, currency: 'EUR' })));
  assert.deepEqual([eur.currency, eur.total], ['EUR', 11000]);
  assert.equal(ok(price(input({ purchase, currency: 'EUR', buyer: { member: true } }))).total, 8050);
  const jpy = ok(price(input({ purchase, currency: 'JPY', buyer: { member: true } })));
  assert.deepEqual([jpy.currency, jpy.total], ['JPY', 18000], 'no foreign member price: the foreign price; 0 digits');
  assert.deepEqual(ok(price(input({ purchase, currency: 'BHD' }))).total, 45125, '3 digits');
});

test('a fee without a price in the currency is an error naming currency', () => {
  const purchase = {
    ...renewal,
    extra_fees: [{ id: 'o', name: 'Shipping', price: 5, foreign_currency_prices: [{ currency_code: 'GBP', price: 4 }] }],
  };
  assert.deepEqual(errors(price(input({ purchase, currency: 'EUR' }))), [
    { field: 'currency', reason: 'fee Renewal has no price in EUR' },
    { field: 'currency', reason: 'fee Shipping has no price in EUR' },
  ]);
  assert.deepEqual(errors(price(input({ purchase, currency: 'EURO' }))), [
    { field: 'currency', reason: 'EURO is not an ISO 4217 currency code' },
  ]);
  assert.deepEqual(errors(price(input({ base_currency: 'usd' })))[0]!.field, 'base_currency');
});

test('the late fee is charged in the base currency only', () => {
  const purchase = { ...renewal, fee: { ...renewalFee, foreign_currency_prices: [{ currency_code: 'EUR', price: 110 }] } };
  assert.deepEqual(errors(price(input({ purchase, currency: 'EUR', buyer: { member: false, standing: 'in_grace' }, late_fee: 50 }))), [
    { field: 'currency', reason: 'the late fee has no price in EUR (it is charged in USD only)' },
  ]);
  assert.equal(ok(price(input({ purchase, currency: 'EUR', late_fee: 50 }))).total, 11000, 'not in grace: no late fee, no error');
});

test('an inactive fee is an error naming fee', () => {
  assert.deepEqual(errors(price(input({ purchase: { ...renewal, fee: { ...renewalFee, is_active: false } } }))), [
    { field: 'fee', reason: 'fee Renewal is not active' },
  ]);
  assert.deepEqual(errors(price(input({ purchase: { ...renewal, extra_fees: [{ ...otherFee, is_active: false }] } }))), [
    { field: 'fee', reason: 'fee Wall certificate is not active' },
  ]);
});

test('a price with more decimals than the currency, or none, is an error naming price', () => {
  assert.deepEqual(errors(price(input({ purchase: { ...renewal, fee: { ...renewalFee, price: 10.005 } } }))), [
    { field: 'price', reason: 'fee Renewal costs 10.005, not an amount in USD (2 decimals at most)' },
  ]);
  const yen = { ...renewal, fee: { ...renewalFee, foreign_currency_prices: [{ currency_code: 'JPY', price: 1500.5 }] } };
  assert.equal(errors(price(input({ purchase: yen, currency: 'JPY' })))[0]!.field, 'price');
  assert.deepEqual(errors(price(input({ purchase: { ...renewal, fee: { id: 'f' } } }))), [
    { field: 'price', reason: 'fee f has no price' },
  ]);
});

test('prices sum exactly: 0.1 + 0.2 is 0.30', () => {
  const purchase = {
    ...renewal,
    fee: { id: 'a', price: 0.1 },
    extra_fees: [
      { id: 'b', price: 0.2 },
      { id: 'c', price: 4.35 },
      { id: 'd', price: 0.29 },
    ],
  };
  const p = ok(price(input({ purchase })));
  assert.equal(p.total, 10 + 20 + 435 + 29);
  assert.deepEqual(totalsOf(p.lines), { subtotal: 494, discount_total: 0, total: 494 });
});

test('coupon: a percentage, inline on the lines', () => {
  const p = ok(price(input({ coupon: appPercent(25) })));
  assert.deepEqual(p.lines, [
    {
      type: 'fee',
      description: 'Renewal',
      fee_kind: 'application',
      fee_id: 'fee-renew',
      quantity: 1,
      unit_amount: 12000,
      amount: 9000,
      discount: 3000,
    },
  ]);
  assert.deepEqual([p.subtotal, p.discount_total, p.total, p.coupon_id], [12000, 3000, 9000, 'cp']);
  assert.deepEqual(totalsOf(p.lines), { subtotal: 12000, discount_total: 3000, total: 9000 });
});

test('coupon: one discount line item', () => {
  const p = ok(price(input({ coupon: appPercent(25, { discount_method: 'discount line item', name: 'Quarter off' }) })));
  assert.deepEqual(p.lines, [
    { type: 'fee', description: 'Renewal', fee_kind: 'application', fee_id: 'fee-renew', quantity: 1, unit_amount: 12000, amount: 12000 },
    { type: 'discount', description: 'Coupon SAVE', coupon_id: 'cp', quantity: 1, unit_amount: -3000, amount: -3000 },
  ]);
  assert.deepEqual([p.subtotal, p.discount_total, p.total], [12000, 3000, 9000]);
  assert.deepEqual(totalsOf(p.lines), { subtotal: 12000, discount_total: 3000, total: 9000 });
});

test('coupon: percentages round half up per line (33.33 % of 10.00 is 3.33; 12.5 % of 0.99 is 0.12; 50 % of 0.05 is 0.03)', () => {
  const fee = (amount: number) => ({ ...renewal, fee: { id: 'f', price: amount } });
  assert.equal(ok(price(input({ purchase: fee(10), coupon: appPercent(33.33) }))).discount_total, 333);
  assert.equal(ok(price(input({ purchase: fee(0.99), coupon: appPercent(12.5) }))).discount_total, 12);
  assert.equal(ok(price(input({ purchase: fee(0.05), coupon: appPercent(50) }))).discount_total, 3);
  assert.equal(ok(price(input({ purchase: fee(1.15), coupon: appPercent(10) }))).discount_total, 12, '11.5 cents rounds up');
  // per line: two lines of 0.05 at 50 % are 3 + 3, not round(5) on the sum
  const two = { ...renewal, fee: { id: 'f', price: 0.05 }, extra_fees: [{ id: 'g', price: 0.05 }] };
  const both = offer({
    apply_to_application_fees: true,
    application_fee_discount: { discount_type: 'percentage', amount: 50 },
    apply_to_fees: true,
    fee_discount: { discount_type: 'percentage', amount: 50 },
  });
  assert.equal(ok(price(input({ purchase: two, coupon: both }))).discount_total, 6);
});

test('coupon: a fixed amount per matching fee, never more than the line', () => {
  const fixed = (amount: number) =>
    offer({
      apply_to_application_fees: true,
      application_fee_discount: { discount_type: 'fixed amount', amount },
      apply_to_fees: true,
      fee_discount: { discount_type: 'fixed amount', amount: 10 },
    });
  const purchase = { ...renewal, extra_fees: [otherFee, { id: 'cheap', price: 4 }] };
  const p = ok(price(input({ purchase, coupon: fixed(20.5) })));
  assert.deepEqual(
    p.lines.map((l) => [l.amount, l.discount]),
    [
      [9950, 2050],
      [1500, 1000],
      [0, 400],
    ],
  );
  assert.deepEqual([p.subtotal, p.discount_total, p.total], [12000 + 2500 + 400, 2050 + 1000 + 400, 9950 + 1500]);
  assert.equal(ok(price(input({ coupon: fixed(500) }))).total, 0, 'more than the fee: the fee');
});

test('coupon: maximum_discount caps the total discount', () => {
  const purchase = { ...renewal, extra_fees: [otherFee] };
  const coupon = offer({
    maximum_discount: 40,
    apply_to_application_fees: true,
    application_fee_discount: { discount_type: 'percentage', amount: 50 },
    apply_to_fees: true,
    fee_discount: { discount_type: 'percentage', amount: 50 },
  });
  const p = ok(price(input({ purchase, coupon })));
  assert.deepEqual([p.subtotal, p.discount_total, p.total], [14500, 4000, 10500]);
  assert.deepEqual(
    p.lines.map((l) => l.discount),
    [4000, undefined],
    'taken from the lines in order',
  );
  assert.equal(
    ok(price(input({ purchase, coupon: { ...coupon, coupon: { ...coupon.coupon, maximum_discount: 100 } } }))).discount_total,
    7250,
    'under the cap',
  );
});

test('coupon: 100 % brings the total to 0, late fee included', () => {
  const p = ok(
    price(
      input({ buyer: { member: false, standing: 'in_grace' }, late_fee: 50, coupon: appPercent(100, { name: 'Military', code: 'MIL' }) }),
    ),
  );
  assert.deepEqual([p.subtotal, p.discount_total, p.total], [17000, 17000, 0]);
  assert.deepEqual(
    p.lines.map((l) => [l.type, l.amount, l.discount]),
    [
      ['fee', 0, 12000],
      ['late fee', 0, 5000],
    ],
  );
  const line = ok(
    price(
      input({
        buyer: { member: false, standing: 'in_grace' },
        late_fee: 50,
        coupon: appPercent(100, { discount_method: 'discount line item' }),
      }),
    ),
  );
  assert.equal(line.total, 0);
  assert.equal(line.lines.at(-1)!.amount, -17000);
});

test('coupon: the late fee follows the application fee (a fixed amount is taken once off the two)', () => {
  const grace = { buyer: { member: false, standing: 'in_grace' as const }, late_fee: 50 };
  const fixed = offer({ apply_to_application_fees: true, application_fee_discount: { discount_type: 'fixed amount', amount: 150 } });
  const p = ok(price(input({ ...grace, coupon: fixed })));
  assert.deepEqual(
    p.lines.map((l) => l.discount),
    [12000, 3000],
  );
  assert.equal(p.total, 2000);
  // a course-fee coupon does not touch it; an application coupon limited to another fee does not either
  const other = offer({
    apply_to_application_fees: true,
    application_fee_discount: { discount_type: 'percentage', amount: 50, application_fee_ids: ['fee-cert'] },
    apply_to_fees: true,
    fee_discount: { discount_type: 'percentage', amount: 50 },
  });
  const q = ok(price(input({ ...grace, purchase: { ...renewal, extra_fees: [otherFee] }, coupon: other })));
  assert.deepEqual(
    q.lines.map((l) => [l.type, l.discount]),
    [
      ['fee', undefined],
      ['fee', 1250],
      ['late fee', undefined],
    ],
  );
});

test('coupon: limited to fee ids', () => {
  const only = (ids: string[]) =>
    appPercent(10, { application_fee_discount: { discount_type: 'percentage', amount: 10, application_fee_ids: ids } });
  assert.equal(ok(price(input({ coupon: only(['fee-renew']) }))).discount_total, 1200);
  assert.deepEqual(errors(price(input({ coupon: only(['fee-cert']) }))), [
    { field: 'coupon_code', reason: 'coupon SAVE applies to none of the fees of this purchase' },
  ]);
  assert.equal(ok(price(input({ coupon: only([]) }))).discount_total, 1200, 'an empty list limits nothing');
});

test('coupon: applies to none of the fee kinds', () => {
  const course = offer({ apply_to_course_fees: true, course_fee_discount: { discount_type: 'percentage', amount: 10 } });
  assert.deepEqual(errors(price(input({ coupon: course }))), [
    { field: 'coupon_code', reason: 'coupon SAVE applies to none of the fees of this purchase' },
  ]);
  const switchedOff = offer({ apply_to_application_fees: false, application_fee_discount: { discount_type: 'percentage', amount: 10 } });
  assert.equal(errors(price(input({ coupon: switchedOff })))[0]!.field, 'coupon_code');
  const courseBuy = { kind: 'course registration' as const, fee: courseFee, fee_kind: 'course' as const };
  assert.equal(ok(price(input({ purchase: courseBuy, coupon: course }))).discount_total, 4000);
  const examCoupon = offer({ apply_to_exam_fees: true, exam_fee_discount: { discount_type: 'fixed amount', amount: 50 } });
  assert.equal(
    ok(price(input({ purchase: { kind: 'exam registration', fee: examFee, fee_kind: 'exam' }, coupon: examCoupon }))).total,
    15000,
  );
});

test('coupon: validity dates, both ends included', () => {
  const dated = (start_date?: string, end_date?: string) => appPercent(10, { start_date, end_date });
  assert.equal(ok(price(input({ coupon: dated('2026-06-15', '2026-06-15') }))).discount_total, 1200);
  assert.deepEqual(errors(price(input({ coupon: dated('2026-06-16') }))), [
    { field: 'coupon_code', reason: 'coupon SAVE is valid from 2026-06-16' },
  ]);
  assert.deepEqual(errors(price(input({ coupon: dated(undefined, '2026-06-14') }))), [
    { field: 'coupon_code', reason: 'coupon SAVE expired on 2026-06-14' },
  ]);
});

test('coupon: inactive', () => {
  assert.deepEqual(errors(price(input({ coupon: appPercent(10, { is_active: false }) }))), [
    { field: 'coupon_code', reason: 'coupon SAVE is not active' },
  ]);
  assert.equal(ok(price(input({ coupon: appPercent(10, { is_active: true }) }))).discount_total, 1200);
});

test('coupon: usage limits, overall and per holder', () => {
  const limited = (uses: number, byHolder: number) => ({
    ...appPercent(10, { maximum_number_of_uses: 3, maximum_uses_per_holder: 1 }),
    uses,
    uses_by_holder: byHolder,
  });
  assert.equal(ok(price(input({ coupon: limited(2, 0) }))).discount_total, 1200);
  assert.deepEqual(errors(price(input({ coupon: limited(3, 0) }))), [
    { field: 'coupon_code', reason: 'coupon SAVE has been used 3 times, its limit' },
  ]);
  assert.deepEqual(errors(price(input({ coupon: limited(1, 1) }))), [
    { field: 'coupon_code', reason: 'coupon SAVE may be used 1 times per holder, and this holder has' },
  ]);
});

test('coupon: amounts of the base currency are refused on an order in another currency; percentages are not', () => {
  const purchase = { ...renewal, fee: { ...renewalFee, foreign_currency_prices: [{ currency_code: 'EUR', price: 110 }] } };
  assert.equal(ok(price(input({ purchase, currency: 'EUR', coupon: appPercent(10) }))).discount_total, 1100);
  const reason = 'coupon SAVE gives amounts in USD and cannot be used on an order in EUR';
  const fixed = offer({ apply_to_application_fees: true, application_fee_discount: { discount_type: 'fixed amount', amount: 10 } });
  assert.deepEqual(errors(price(input({ purchase, currency: 'EUR', coupon: fixed }))), [{ field: 'coupon_code', reason }]);
  assert.deepEqual(errors(price(input({ purchase, currency: 'EUR', coupon: appPercent(10, { maximum_discount: 5 }) }))), [
    { field: 'coupon_code', reason },
  ]);
});

test('coupon: a fixed amount or cap with more decimals than the base currency is refused', () => {
  const fixed = offer({ apply_to_application_fees: true, application_fee_discount: { discount_type: 'fixed amount', amount: 10.001 } });
  assert.deepEqual(errors(price(input({ coupon: fixed }))), [
    { field: 'coupon_code', reason: "coupon SAVE's amount 10.001 is not an amount in USD (2 decimals at most)" },
  ]);
  assert.equal(errors(price(input({ coupon: appPercent(10, { maximum_discount: 0.001 }) })))[0]!.field, 'coupon_code');
});

test('couponRefusal on its own: any fee the purchase may charge counts', () => {
  const reinstatement: Purchase = {
    kind: 'application',
    application_type: 'reinstatement',
    fee: reinstateFee,
    renewal_fee: renewalFee,
    fee_kind: 'application',
  };
  const onRenewal = appPercent(10, {
    application_fee_discount: { discount_type: 'percentage', amount: 10, application_fee_ids: ['fee-renew'] },
  });
  assert.equal(couponRefusal(onRenewal, reinstatement, DAY, 'USD', 'USD'), undefined);
  assert.equal(
    couponRefusal(onRenewal, { ...reinstatement, renewal_fee: undefined }, DAY, 'USD', 'USD'),
    'coupon SAVE applies to none of the fees of this purchase',
  );
  const onOther = offer({ apply_to_fees: true, fee_discount: { discount_type: 'percentage', amount: 10 } });
  assert.equal(couponRefusal(onOther, { ...renewal, extra_fees: [otherFee] }, DAY, 'USD', 'USD'), undefined);
  assert.equal(
    couponRefusal({ ...onOther, uses: 5, coupon: { ...onOther.coupon, maximum_number_of_uses: 5 } }, renewal, DAY, 'USD', 'USD'),
    'coupon SAVE has been used 5 times, its limit',
  );
  // price() judges the fee it charges: a coupon for the renewal fee on a reinstatement at full price
  assert.equal(errors(price(input({ purchase: reinstatement, coupon: onRenewal })))[0]!.field, 'coupon_code');
  assert.equal(
    ok(price(input({ purchase: reinstatement, buyer: { member: false, renewal_pricing: true }, coupon: onRenewal }))).discount_total,
    1200,
  );
});

test('totalsOf: lines written by staff', () => {
  assert.deepEqual(totalsOf([]), { subtotal: 0, discount_total: 0, total: 0 });
  assert.deepEqual(
    totalsOf([
      { type: 'fee', description: 'a', quantity: 3, unit_amount: 1000, amount: 2500, discount: 500 },
      { type: 'late fee', description: 'b', quantity: 1, unit_amount: 5000, amount: 5000 },
      { type: 'discount', description: 'c', quantity: 1, unit_amount: -1000, amount: -1000 },
    ]),
    { subtotal: 8000, discount_total: 1500, total: 6500 },
  );
  assert.deepEqual(
    totalsOf([
      { type: 'fee', description: 'a', quantity: 1, unit_amount: 1000, amount: 1000 },
      { type: 'discount', description: 'c', quantity: 1, unit_amount: -5000, amount: -5000 },
    ]),
    { subtotal: 1000, discount_total: 1000, total: 0 },
    'a discount never takes the total below zero',
  );
});
