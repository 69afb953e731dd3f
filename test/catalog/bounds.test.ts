import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';
import { allErrors, load } from '../bulk/util.js';

/**
 * The catalog's bounds, enforced on every write path: numeric ranges (percentages 0-100, money and
 * quantities >= 0, coordinates, the expiration options the calculator reads), a bound that applies only
 * to a percentage discount, and ordered pairs (start on or before end, minimum <= maximum). Each refusal
 * is a 400 naming the field and the reason (422 for a PATCH whose result breaks it); OpenAPI carries the
 * bounds. The fuzz suite (test/fuzz/bounds.test.ts) generates the same refusals for every bound.
 */
let t: TestApp;
let f: Factory;
before(async () => {
  t = await startApp({ env: { WORKER_POLL_MS: '50', SCHEDULER_POLL_MS: '0' } });
  f = new Factory(t, t.admin);
});
after(() => t.close());

type S = Record<string, any>;
const post = (slug: string, payload: object) => t.call({ method: 'POST', url: `/${slug}/acme`, payload });
const patch = (slug: string, id: string, ops: object[]) => t.call({ method: 'PATCH', url: `/${slug}/acme/${id}`, payload: ops });
/** A refusal naming the field first (a field of several types also lists what each type wanted). */
function refused(res: { statusCode: number; json(): any; body: string }, status: number, field: string, reason: RegExp) {
  assert.equal(res.statusCode, status, res.body);
  const errors = res.json().errors as { field: string; reason: string }[];
  assert.ok(errors?.length >= 1, res.body);
  assert.equal(errors[0]!.field, field, res.body);
  assert.match(errors[0]!.reason, reason);
}
const created = (res: { statusCode: number; json(): any; body: string }) => {
  assert.equal(res.statusCode, 201, res.body);
  return res.json() as S;
};
const coupon = (over: S = {}) => ({ name: 'Spring', ...over });
const discount = (discount_type: string, amount: number) => ({
  apply_to_application_fees: true,
  application_fee_discount: { discount_type, amount },
});

describe('a percentage is 0 to 100', () => {
  test('a coupon with a 150 % discount is a 400 naming the amount; 100 % and a fixed amount of 150 are accepted', async () => {
    refused(await post('coupons', coupon(discount('percentage', 150))), 400, 'application_fee_discount.amount', /<= 100/);
    refused(await post('coupons', coupon(discount('percentage', -5))), 400, 'application_fee_discount.amount', />= 0/);
    created(await post('coupons', coupon(discount('percentage', 100))));
    created(await post('coupons', coupon(discount('percentage', 0))));
    const fixed = created(await post('coupons', coupon(discount('fixed amount', 150))));
    // turning a 150 fixed discount into a percentage keeps the amount: the patched coupon breaks the bound
    const res = await patch('coupons', fixed.id, [{ op: 'replace', path: '/application_fee_discount/discount_type', value: 'percentage' }]);
    refused(res, 422, 'application_fee_discount.amount', /<= 100/);
    assert.equal(
      (await t.call({ method: 'GET', url: `/coupons/acme/${fixed.id}` })).json().application_fee_discount.discount_type,
      'fixed amount',
    );
  });

  test('a course registration completion percentage above 100 is a 400 naming it', async () => {
    const body = await f.build('courseRegistrations');
    refused(await post('courseRegistrations', { ...body, completion_percentage: 100.5 }), 400, 'completion_percentage', /<= 100/);
    refused(await post('courseRegistrations', { ...body, completion_percentage: -1 }), 400, 'completion_percentage', />= 0/);
  });
});

describe('numeric bounds', () => {
  const cases: [string, S, string, RegExp][] = [
    ['a negative fee price', { price: -0.01 }, 'price', />= 0/],
    [
      'a negative foreign-currency price',
      { foreign_currency_prices: [{ currency_code: 'EUR', price: -1 }] },
      'foreign_currency_prices.0.price',
      />= 0/,
    ],
    [
      'a bundled product quantity of 0',
      { bundled_products: [{ type: 'bundled product', product_type: 'x', product_id: 'p', quantity: 0 }] },
      'bundled_products.0.quantity',
      />= 1/,
    ],
    [
      'a negative minimum age',
      { purchasing_eligibility_criteria: { minimum_age: -1 } },
      'purchasing_eligibility_criteria.minimum_age',
      />= 0/,
    ],
  ];
  for (const [what, over, field, reason] of cases) {
    test(`fees: ${what} is a 400 naming ${field}`, async () => {
      refused(await post('fees', { ...(await f.build('fees')), ...over }), 400, field, reason);
    });
  }

  test('coordinates: a latitude above 90 and a longitude below -180 are refused; the edges are accepted', async () => {
    const body = await f.build('trainingLocations');
    refused(await post('trainingLocations', { ...body, address: { latitude: 90.5 } }), 400, 'address.latitude', /<= 90/);
    refused(await post('trainingLocations', { ...body, address: { longitude: -180.5 } }), 400, 'address.longitude', />= -180/);
    created(await post('trainingLocations', { ...body, address: { latitude: -90, longitude: 180 } }));
  });

  test('expiration options: a month outside 1-12, a term of 0, a fraction of a day of grace are refused at write, not at activation', async () => {
    const base = {
      name: 'Rules',
      default_expiration_options: {
        expiration_type: 'calendar',
        calendar_expiration_options: { start_of_calendar_year: 1, number_of_years: 2 },
      },
    };
    created(await post('expirationRuleSets', base));
    const withOptions = (o: S) => ({ ...base, default_expiration_options: { ...base.default_expiration_options, ...o } });
    refused(
      await post('expirationRuleSets', withOptions({ calendar_expiration_options: { start_of_calendar_year: 13 } })),
      400,
      'default_expiration_options.calendar_expiration_options.start_of_calendar_year',
      /<= 12/,
    );
    refused(
      await post('expirationRuleSets', withOptions({ calendar_expiration_options: { number_of_years: 0 } })),
      400,
      'default_expiration_options.calendar_expiration_options.number_of_years',
      />= 1/,
    );
    refused(
      await post('expirationRuleSets', withOptions({ grace_period: 2.5 })),
      400,
      'default_expiration_options.grace_period',
      /whole number/,
    );
    refused(await post('expirationRuleSets', withOptions({ grace_period: -30 })), 400, 'default_expiration_options.grace_period', />= 0/);
    refused(
      await post(
        'expirationRuleSets',
        withOptions({ expiration_type: 'anniversary', anniversary_expiration_options: { sell_for_next_month_after: 32 } }),
      ),
      400,
      'default_expiration_options.anniversary_expiration_options.sell_for_next_month_after',
      /<= 31/,
    );
    created(
      await post(
        'expirationRuleSets',
        withOptions({
          expiration_type: 'anniversary',
          anniversary_expiration_options: { sell_for_next_month_after: null, term_length: 1 },
        }),
      ),
    );
  });

  test('credits: a quantity of 0 and a negative quantity used are refused', async () => {
    const body = await f.build('credits');
    refused(await post('credits', { ...body, quantity: 0 }), 400, 'quantity', />= 0.01/);
    refused(await post('credits', { ...body, quantity_used: -1 }), 400, 'quantity_used', />= 0/);
  });
});

describe('ordered pairs: a start on or before its end', () => {
  test('a coupon ending before it starts is a 400 naming end_date; the same day is accepted', async () => {
    refused(
      await post('coupons', coupon({ start_date: '2026-05-02', end_date: '2026-05-01' })),
      400,
      'end_date',
      /must not be before start_date \("2026-05-02"\)/,
    );
    created(await post('coupons', coupon({ start_date: '2026-05-01', end_date: '2026-05-01' })));
    // one of the pair alone is never refused for the order
    created(await post('coupons', coupon({ end_date: '2020-01-01' })));
  });

  test('a PATCH of one date is judged against the other, stored: 422 naming the later field, nothing written', async () => {
    const c = created(await post('coupons', coupon({ start_date: '2026-05-01', end_date: '2026-05-31' })));
    refused(
      await patch('coupons', c.id, [{ op: 'replace', path: '/start_date', value: '2026-06-01' }]),
      422,
      'end_date',
      /must not be before start_date/,
    );
    refused(
      await patch('coupons', c.id, [{ op: 'replace', path: '/end_date', value: '2026-04-30' }]),
      422,
      'end_date',
      /must not be before start_date/,
    );
    const after = (await t.call({ method: 'GET', url: `/coupons/acme/${c.id}` })).json();
    assert.deepEqual([after.start_date, after.end_date, after.sys_version], ['2026-05-01', '2026-05-31', 1]);
    // moving both together is fine
    const ok = await patch('coupons', c.id, [
      { op: 'replace', path: '/end_date', value: '2026-07-31' },
      { op: 'replace', path: '/start_date', value: '2026-07-01' },
    ]);
    assert.equal(ok.statusCode, 200, ok.body);
  });

  test('PUT and batch operations are refused the same way, each batch operation on its own', async () => {
    const c = created(await post('coupons', coupon({ start_date: '2026-05-01', end_date: '2026-05-31' })));
    refused(
      await t.call({ method: 'PUT', url: `/coupons/acme/${c.id}`, payload: coupon({ start_date: '2026-05-01', end_date: '2026-04-01' }) }),
      400,
      'end_date',
      /before start_date/,
    );
    const res = await t.call({
      method: 'POST',
      url: '/coupons/acme/batch',
      payload: {
        operations: [
          { operation: 'create', object: coupon({ start_date: '2026-01-02', end_date: '2026-01-01' }) },
          { operation: 'create', object: coupon({ start_date: '2026-01-01', end_date: '2026-01-02' }) },
          { operation: 'patch', id: c.id, patch_directives: [{ op: 'replace', path: '/start_date', value: '2027-01-01' }] },
        ],
      },
    });
    assert.equal(res.statusCode, 200, res.body);
    const r = res.json().results as S[];
    assert.deepEqual(
      r.map((x) => [x.success, x.status]),
      [
        [false, 400],
        [true, 201],
        [false, 422],
      ],
    );
    assert.equal(r[0]!.error.errors[0].field, 'operations.0.object.end_date');
    assert.equal(r[2]!.error.errors[0].field, 'operations.2.patch_directives.end_date');
  });

  test('date-times are compared as instants, whatever their time zones', async () => {
    const body = await f.build('courseOfferings');
    // 10:00 at UTC-2 is 12:00Z: after an end at 11:00Z although it sorts before it as text
    refused(
      await post('courseOfferings', { ...body, start_date: '2026-05-01T10:00:00-02:00', end_date: '2026-05-01T11:00:00Z' }),
      400,
      'end_date',
      /before start_date/,
    );
    // 10:00 at UTC+2 is 08:00Z: before an end at 09:00Z although it sorts after it as text
    created(await post('courseOfferings', { ...body, start_date: '2026-05-01T10:00:00+02:00', end_date: '2026-05-01T09:00:00Z' }));
    refused(
      await post('courseOfferings', { ...body, sell_from: '2026-04-02T00:00:00Z', sell_until: '2026-04-01T23:59:59Z' }),
      400,
      'sell_until',
      /before sell_from/,
    );
  });

  test('pairs inside nested objects and array items name the item', async () => {
    const instructor = await f.build('courseInstructors');
    refused(
      await post('courseInstructors', {
        ...instructor,
        courses: [{ valid_from: '2026-01-01' }, { valid_from: '2026-02-01', valid_until: '2026-01-31' }],
      }),
      400,
      'courses.1.valid_until',
      /before valid_from/,
    );
    const fee = await f.build('fees');
    refused(
      await post('fees', { ...fee, portal_options: { available_from: '2026-02-01T00:00:00Z', available_until: '2026-01-01T00:00:00Z' } }),
      400,
      'portal_options.available_until',
      /before available_from/,
    );
    refused(
      await post('fees', { ...fee, purchasing_eligibility_criteria: { minimum_age: 65, maximum_age: 18 } }),
      400,
      'purchasing_eligibility_criteria.maximum_age',
      /less than minimum_age \(65\)/,
    );
    refused(
      await post('billingRuns', {
        name: 'Drops',
        status: 'draft',
        perform_drops: true,
        drop_options: { expiration_date_range_start: '2026-03-01', expiration_date_range_end: '2026-02-01' },
      }),
      400,
      'drop_options.expiration_date_range_end',
      /before expiration_date_range_start/,
    );
    refused(
      await post('billingRuns', {
        name: 'Reminders',
        status: 'draft',
        send_renewal_reminders: true,
        renewal_reminder_options: {
          reminders: [
            { expiration_date_range_start: '2026-03-01', expiration_date_range_end: '2026-03-31', reminder_notice_id: 'n' },
            { expiration_date_range_start: '2026-03-01', expiration_date_range_end: '2026-02-28', reminder_notice_id: 'n' },
          ],
        },
      }),
      400,
      'renewal_reminder_options.reminders.1.expiration_date_range_end',
      /before expiration_date_range_start/,
    );
  });

  test('a credit cannot expire before the day it was earned', async () => {
    const body = await f.build('credits', { date: '2026-03-10' });
    refused(await post('credits', { ...body, expiration_date: '2026-03-09' }), 400, 'expiration_date', /before date \("2026-03-10"\)/);
    created(await post('credits', { ...body, expiration_date: '2026-03-10' }));
  });
});

test('a bulk load rejects the rows that break a bound or an order, with the field and the reason', async () => {
  const csv = [
    'name,start_date,end_date,apply_to_application_fees,application_fee_discount.discount_type,application_fee_discount.amount',
    'Good,2026-01-01,2026-12-31,true,percentage,25',
    'Too much,2026-01-01,2026-12-31,true,percentage,150',
    'Backwards,2026-12-31,2026-01-01,,,',
  ].join('\r\n');
  const done = await load(t, 'acme', 'coupons', csv);
  assert.equal(done.status, 'completed', JSON.stringify(done));
  assert.deepEqual([done.rows_written, done.rows_rejected], [1, 2]);
  assert.deepEqual(await allErrors(t, 'acme', done.id), [
    { row: 2, errors: [{ field: 'application_fee_discount.amount', reason: 'must be <= 100' }] },
    { row: 3, errors: [{ field: 'end_date', reason: 'must not be before start_date ("2026-12-31")' }] },
  ]);
});

test('OpenAPI carries the bounds (minimum, maximum, the percentage rule) and the ordered pairs', async () => {
  const doc = (await t.call({ method: 'GET', url: '/openapi.json' })).json();
  const schemas = doc.components.schemas as S;
  const input = (name: string) => schemas[`${name}Input`] as S;
  const pct = input('CourseRegistration').properties.completion_percentage;
  assert.deepEqual([pct.minimum, pct.maximum], [0, 100]);
  const lat = input('TrainingLocation').properties.address.properties.latitude;
  assert.deepEqual([lat.minimum, lat.maximum], [-90, 90]);
  assert.equal(input('Fee').properties.price.minimum, 0);
  const month =
    input('ExpirationRuleSet').properties.default_expiration_options.properties.calendar_expiration_options.properties
      .start_of_calendar_year;
  assert.deepEqual([month.minimum, month.maximum, month.multipleOf], [1, 12, 1]);
  const d = input('Coupon').properties.application_fee_discount;
  assert.equal(d.allOf.length, 1);
  assert.deepEqual(d.allOf[0].if.required, ['discount_type']);
  assert.match(JSON.stringify(d.allOf[0].if.properties.discount_type), /"percentage"/);
  assert.deepEqual(d.allOf[0].then.properties.amount, { type: 'number', minimum: 0, maximum: 100 });
  assert.deepEqual(input('Coupon')['x-ordered'], [['start_date', 'end_date']]);
  assert.deepEqual(input('CourseOffering')['x-ordered'], [
    ['start_date', 'end_date'],
    ['sell_from', 'sell_until'],
  ]);
  assert.deepEqual(input('BillingRun').properties.drop_options['x-ordered'], [
    ['expiration_date_range_start', 'expiration_date_range_end'],
  ]);
});
