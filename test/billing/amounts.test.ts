import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';
import type { Clock } from '../../src/core/clock.js';
import { RESOURCES } from '../../src/resources/index.js';
import { outboxFor } from '../../src/mail/outbox.js';
import { asTenant } from '../../src/store/tenant-scope.js';
import { addDays, executionEnded, injectCall, listAll } from './population.js';

/**
 * Billing runs speak money: a refresh prices each renewal forecast (the programme's renewal fee, plus
 * its late fee for a certification in grace), the run and /statistics/{t}/billing total the amounts per
 * action type and currency before execution, and the execution writes the same amount as the
 * certification's forecasted_renewal_amount (major units, as the catalog has it).
 */
const TODAY = '2026-06-15';
const clock: Clock = { now: () => new Date(`${TODAY}T09:00:00Z`) };
let t: TestApp;
let f: Factory;
let nextNumber = 5000;

const call = injectCall(() => t);
const finished = (handle: { executionArn: string }) => executionEnded(call, handle);

before(async () => {
  t = await startApp({ clock, env: { WORKER_POLL_MS: '50', SCHEDULER_POLL_MS: '0' } });
  f = new Factory(t, t.admin);
});
after(() => t.close());

/** A programme with a renewal fee of `price` and a late fee of `late`, and certifications expiring on the given days. */
async function programme(label: string, price: number, late: number | undefined, expirations: { expires: string; graceEnds?: string }[]) {
  const program = await f.create('programs', { name: label, ...(late !== undefined ? { late_fee: late } : {}) });
  const fee = await f.create('applicationFees', { name: `${label} renewal`, price, program_id: program.id });
  await f.create('applicationProcesses', { name: 'Renewal', type: 'renewal', program_id: program.id, application_fee_id: fee.id });
  const certs: any[] = [];
  for (const [i, e] of expirations.entries()) {
    certs.push(
      await call(
        'POST',
        '/certifications/acme',
        {
          number: nextNumber++,
          contact_id: `${label}-${i}`,
          program_id: program.id,
          status: 'active',
          name: `${label} holder ${i}`,
          expiration_date: e.expires,
          ...(e.graceEnds ? { grace_period_end_date: e.graceEnds } : {}),
        },
        201,
      ),
    );
  }
  return { program, fee, certs };
}

const forecastRun = (programIds: string[]) =>
  call(
    'POST',
    '/billingRuns/acme',
    {
      name: 'forecast',
      status: 'draft',
      notification_email: 'board@example.test',
      forecast_renewals: true,
      renewal_forecasting_options: {
        expiration_date_range_start: addDays(TODAY, -60),
        expiration_date_range_end: addDays(TODAY, 90),
        program_ids: programIds,
        program_restriction: 'include',
      },
    },
    201,
  );

test('an in-grace renewal is forecast at 120 + 50; the run and the billing statistics total the amounts before execution', async () => {
  const p = await programme('Grace', 120, 50, [
    { expires: addDays(TODAY, -10), graceEnds: addDays(TODAY, 20) }, // in grace today: 120 + 50
    { expires: addDays(TODAY, 30) }, // current: 120
    { expires: addDays(TODAY, 60) }, // current: 120
  ]);
  // a second programme without a late fee: its in-grace certification pays the renewal fee only
  const q = await programme('NoLate', 99.99, undefined, [
    { expires: addDays(TODAY, -5), graceEnds: addDays(TODAY, 30) },
    { expires: addDays(TODAY, 5) },
  ]);
  const before = (await call('GET', '/statistics/acme/billing')).billing_run_actions.pending_amounts;

  const run = await forecastRun([p.program.id, q.program.id]);
  assert.equal((await finished(await call('POST', `/billingRuns/acme/refresh/${run.id}`))).status, 'SUCCEEDED');

  // the preview: each pending action carries its amount in cents
  const actions = await listAll(call, `/billingRunActions/acme/billingRun/${run.id}`);
  const amountOf = (cert: any) => actions.find((a) => a.certification_id === cert.id);
  assert.deepEqual(
    [...p.certs, ...q.certs].map((c) => [amountOf(c)?.status, amountOf(c)?.amount, amountOf(c)?.currency_code]),
    [
      ['pending', 17000, 'USD'],
      ['pending', 12000, 'USD'],
      ['pending', 12000, 'USD'],
      ['pending', 9999, 'USD'],
      ['pending', 9999, 'USD'],
    ],
  );
  const ready = await call('GET', `/billingRuns/acme/${run.id}`);
  assert.deepEqual(ready.amounts, [
    { type: 'forecast renewal', currency: 'USD', total: 17000 + 24000 + 19998, count: 5, formatted: '609.98 USD' },
  ]);

  // /statistics/{t}/billing: the pending amounts per type and currency
  const pending = (await call('GET', '/statistics/acme/billing')).billing_run_actions.pending_amounts;
  const forecastBefore = before.find((x: any) => x.type === 'forecast renewal' && x.currency === 'USD') ?? { total: 0, count: 0 };
  const forecastNow = pending.find((x: any) => x.type === 'forecast renewal' && x.currency === 'USD');
  assert.deepEqual([forecastNow.total - forecastBefore.total, forecastNow.count - forecastBefore.count], [60998, 5]);
  assert.match(forecastNow.formatted, / USD$/);

  // execution writes the same amounts, in major units, as the catalog's forecasted_renewal_amount
  assert.equal((await finished(await call('POST', `/billingRuns/acme/execute/${run.id}`))).status, 'SUCCEEDED');
  const forecasts = [];
  for (const c of [...p.certs, ...q.certs]) forecasts.push((await call('GET', `/certifications/acme/${c.id}`)).forecasted_renewal_amount);
  assert.deepEqual(forecasts, [170, 120, 120, 99.99, 99.99]);
  const done = await call('GET', `/billingRuns/acme/${run.id}`);
  assert.equal(done.status, 'completed');
  assert.deepEqual(done.amounts, ready.amounts, 'performed actions keep counting in the run');
  // the run's summary e-mail says it too
  const [summary] = await asTenant('acme', () => outboxFor(t.store.db, 'acme', `billingRuns/${run.id}`));
  assert.match(JSON.parse(summary!.message).html, /<p>Amounts: forecast renewal × 5: 609\.98 USD<\/p>/);
  const after = (await call('GET', '/statistics/acme/billing')).billing_run_actions.pending_amounts;
  const forecastAfter = after.find((x: any) => x.type === 'forecast renewal' && x.currency === 'USD') ?? { total: 0, count: 0 };
  assert.deepEqual([forecastAfter.total, forecastAfter.count], [forecastBefore.total, forecastBefore.count], 'nothing pending any more');
});

test('a programme whose renewal fee cannot be priced: the action has no amount, its execution fails naming the fee', async () => {
  const p = await programme('Inactive', 120, 50, [{ expires: addDays(TODAY, 30) }]);
  await call('PATCH', `/applicationFees/acme/${p.fee.id}`, [{ op: 'add', path: '/is_active', value: false }]);
  const run = await forecastRun([p.program.id]);
  await finished(await call('POST', `/billingRuns/acme/refresh/${run.id}`));
  const [action] = await listAll(call, `/billingRunActions/acme/billingRun/${run.id}`);
  assert.equal(action.amount, undefined);
  assert.deepEqual((await call('GET', `/billingRuns/acme/${run.id}`)).amounts, []);
  await finished(await call('POST', `/billingRuns/acme/execute/${run.id}`));
  const failed = await call('GET', `/billingRunActions/acme/${action.id}`);
  assert.equal(failed.status, 'error');
  assert.match(failed.error_message, /fee: fee Inactive renewal is not active/);
  assert.equal((await call('GET', `/certifications/acme/${p.certs[0].id}`)).forecasted_renewal_amount, undefined);
});

test('renewal reminders and training-provider bills carry their amounts too; the run totals each type', async () => {
  const p = await programme('Remind', 120, 50, [
    { expires: addDays(TODAY, -3), graceEnds: addDays(TODAY, 27) },
    { expires: addDays(TODAY, 20) },
  ]);
  const notice = await f.create('notices', { name: 'Renew', email: { subject: 'Renew {{number}}', body: '<p>Renew {{number}}</p>' } });
  // a provider with two course registrations at its course fee of 40.10: 80.20, added in cents
  const provider = await f.create('trainingProviders', { name: 'Sums College' });
  await call('POST', '/trainingProvPrograms/acme', { training_provider_id: provider.id, program_id: p.program.id, course_fee: 40.1 }, 201);
  const course = await call('POST', '/courses/acme', { name: 'Sums course' }, 201);
  const offering = await call(
    'POST',
    '/courseOfferings/acme',
    { name: 'Sums', course_id: course.id, training_provider_id: provider.id, program_ids: [p.program.id] },
    201,
  );
  for (const student of ['s-1', 's-2'])
    await call(
      'POST',
      '/courseRegistrations/acme',
      { name: student, student_id: student, course_id: course.id, course_offering_id: offering.id, status: 'registered' },
      201,
    );
  const run = await call(
    'POST',
    '/billingRuns/acme',
    {
      name: 'reminders and bills',
      status: 'draft',
      send_renewal_reminders: true,
      renewal_reminder_options: {
        program_ids: [p.program.id],
        program_restriction: 'include',
        reminders: [
          {
            id: 1,
            expiration_date_range_start: addDays(TODAY, -30),
            expiration_date_range_end: addDays(TODAY, 30),
            reminder_notice_id: notice.id,
          },
        ],
      },
      bill_training_providers: true,
      training_provider_billing_options: {
        expiration_date_range_start: addDays(TODAY, -30),
        expiration_date_range_end: TODAY,
        invoice_template_id: 'standard',
        payment_terms_id: 'net-30',
      },
    },
    201,
  );
  await finished(await call('POST', `/billingRuns/acme/refresh/${run.id}`));
  const actions = await listAll(call, `/billingRunActions/acme/billingRun/${run.id}`);
  assert.deepEqual(actions.map((a) => [a.type, a.amount, a.currency_code]).sort(), [
    ['bill training provider', 8020, 'USD'],
    ['send renewal reminder', 12000, 'USD'],
    ['send renewal reminder', 17000, 'USD'],
  ]);
  assert.deepEqual((await call('GET', `/billingRuns/acme/${run.id}`)).amounts, [
    { type: 'bill training provider', currency: 'USD', total: 8020, count: 1, formatted: '80.20 USD' },
    { type: 'send renewal reminder', currency: 'USD', total: 29000, count: 2, formatted: '290.00 USD' },
  ]);
  await finished(await call('POST', `/billingRuns/acme/execute/${run.id}`));
  const bill = (await listAll(call, `/billingRunActions/acme/billingRun/${run.id}`)).find((a) => a.type === 'bill training provider');
  assert.deepEqual([bill.status, bill.amount], ['completed', 8020]);
  assert.equal((await call('GET', `/invoices/acme/${bill.invoice_id}`)).total, 80.2);
});

test("amounts are in the tenant's currency (settings.currency_code): JPY has no minor units", async () => {
  const settings = await f.body(RESOURCES.find((r) => r.def.slug === 'settings')!);
  await call('POST', '/settings/acme', { ...settings, currency_code: 'JPY' }, 201);
  const p = await programme('Yen', 15000, 3000, [{ expires: addDays(TODAY, -1), graceEnds: addDays(TODAY, 10) }]);
  const run = await forecastRun([p.program.id]);
  await finished(await call('POST', `/billingRuns/acme/refresh/${run.id}`));
  const [action] = await listAll(call, `/billingRunActions/acme/billingRun/${run.id}`);
  assert.deepEqual([action.amount, action.currency_code], [18000, 'JPY']);
  assert.deepEqual((await call('GET', `/billingRuns/acme/${run.id}`)).amounts, [
    { type: 'forecast renewal', currency: 'JPY', total: 18000, count: 1, formatted: '18,000 JPY' },
  ]);
  await finished(await call('POST', `/billingRuns/acme/execute/${run.id}`));
  assert.equal((await call('GET', `/certifications/acme/${p.certs[0].id}`)).forecasted_renewal_amount, 18000);
});
