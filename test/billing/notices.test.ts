import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startMailApp, type CapturedMail, type MailApp } from '../mail/capture.js';
import { minimalRun, type TestApp } from '../helpers.js';
import type { Factory } from '../factory.js';
import type { Clock } from '../../src/core/clock.js';
import { asSystem, asTenant } from '../../src/store/tenant-scope.js';
import { outboxFor } from '../../src/mail/outbox.js';
import { migrate } from '../../src/store/migrate.js';
import { tableSpecs } from '../../src/resources/index.js';
import { addDays, executionEnded, injectCall, listAll } from './population.js';

/**
 * The notices of billing runs: their ids are references (a missing one is a 400, a named one cannot
 * be deleted), a run sends only a notice that applies (switched on, of the record's programme, to an
 * address) and each action says what became of its e-mail, up to its delivery (written back by the
 * mailer from a real SMTP server on loopback).
 */
const TODAY = '2026-06-15';
const now = new Date(`${TODAY}T09:00:00Z`);
const clock: Clock = { now: () => now };
let t: TestApp;
let f: Factory;
let m: MailApp;
let mails: CapturedMail[] = [];
type R = Record<string, any>;

const call = injectCall(() => t);
const send = (method: string, url: string, payload?: unknown) =>
  t.call({ method: method as any, url, payload: payload as any, auth: t.admin });
const finished = (handle: { executionArn: string }) => executionEnded(call, handle);
const drain = () => m.drain();
const notice = (name: string, extra: R = {}) =>
  f.create('notices', { name, email: { subject: `${name}: certificate {{number}}`, body: '<p>Dear {{name}}</p>' }, ...extra });
const window = { expiration_date_range_start: addDays(TODAY, 20), expiration_date_range_end: addDays(TODAY, 40) };
const refsOf = (res: { json(): any }) => (res.json().referenced_by as R[]).map((r) => `${r.resource}/${r.id}/${r.field}`).sort();

before(async () => {
  m = await startMailApp({ clock });
  ({ t, f } = m);
  mails = m.smtp.mails;
});
after(() => m?.close());

describe('the notice ids of billing runs are references', () => {
  test('a missing notice is a 400 naming the field, on create, PUT, PATCH and batch', async () => {
    const certNotice = await notice('Renewal');
    const reminders = (id: string) => ({ reminders: [{ id: 1, ...window, reminder_notice_id: id }] });
    const cases: [R, string][] = [
      [
        { send_renewal_reminders: true, renewal_reminder_options: reminders('ghost') },
        'renewal_reminder_options.reminders.0.reminder_notice_id',
      ],
      [{ perform_drops: true, drop_options: { ...window, drop_notice_id: 'ghost' } }, 'drop_options.drop_notice_id'],
      // an application reminder names an application notice: a certification notice is not one
      [
        { send_application_reminders: true, application_reminder_options: reminders(certNotice.id) },
        'application_reminder_options.reminders.0.reminder_notice_id',
      ],
    ];
    for (const [body, field] of cases) {
      const res = await send('POST', '/billingRuns/acme', minimalRun(body));
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().errors[0].field, field);
      assert.match(res.json().errors[0].reason, /notice that does not exist/);
    }
    const run = await call(
      'POST',
      '/billingRuns/acme',
      minimalRun({ send_renewal_reminders: true, renewal_reminder_options: reminders(certNotice.id) }),
      201,
    );

    const put = await send(
      'PUT',
      `/billingRuns/acme/${run.id}`,
      minimalRun({ perform_drops: true, drop_options: { ...window, drop_notice_id: 'ghost' } }),
    );
    assert.equal(put.statusCode, 400, put.body);
    assert.equal(put.json().errors[0].field, 'drop_options.drop_notice_id');
    const patch = await send('PATCH', `/billingRuns/acme/${run.id}`, [
      { op: 'replace', path: '/renewal_reminder_options/reminders/0/reminder_notice_id', value: 'ghost' },
    ]);
    assert.equal(patch.statusCode, 422, patch.body);
    assert.equal(patch.json().errors[0].field, 'renewal_reminder_options.reminders.0.reminder_notice_id');
    const batch = await send('POST', '/billingRuns/acme/batch', {
      operations: [
        { operation: 'create', object: minimalRun({ perform_drops: true, drop_options: { ...window, drop_notice_id: 'ghost' } }) },
      ],
    });
    assert.equal(batch.json().results[0].status, 400);
    assert.equal(batch.json().results[0].error.errors[0].field, 'operations.0.object.drop_options.drop_notice_id');
    assert.equal((await call('GET', `/billingRuns/acme/${run.id}`)).sys_version, 1, 'nothing half-written');
  });

  test('deleting a notice that a run, a template or a process names is a 409 with referenced_by', async () => {
    const n = await notice('Drop');
    const appNotice = await f.create('applicationNotices', { name: 'Approved', email: { subject: 'Approved', body: 'ok' } });
    const run = await call(
      'POST',
      '/billingRuns/acme',
      minimalRun({
        perform_drops: true,
        drop_options: { ...window, drop_notice_id: n.id },
        send_renewal_reminders: true,
        renewal_reminder_options: { reminders: [{ id: 1, ...window, reminder_notice_id: n.id }] },
        send_application_reminders: true,
        application_reminder_options: { reminders: [{ id: 1, ...window, reminder_notice_id: appNotice.id }] },
      }),
      201,
    );
    const relative = { position: 'before', number: 1, unit_of_time: 'days', relative_to: 'the reference date' };
    const template = await call(
      'POST',
      '/billingTemplates/acme',
      {
        name: 'Monthly drops',
        perform_drops: true,
        drop_options: { expiration_date_range_start: relative, expiration_date_range_end: relative, drop_notice_id: n.id },
      },
      201,
    );
    const process = await f.create('applicationProcesses', { approved_notice_id: appNotice.id });

    const del = await send('DELETE', `/notices/acme/${n.id}`);
    assert.equal(del.statusCode, 409, del.body);
    assert.deepEqual(
      refsOf(del),
      [
        `billingRuns/${run.id}/drop_options.drop_notice_id`,
        `billingRuns/${run.id}/renewal_reminder_options.reminders.0.reminder_notice_id`,
        `billingTemplates/${template.id}/drop_options.drop_notice_id`,
      ].sort(),
    );
    const delApp = await send('DELETE', `/applicationNotices/acme/${appNotice.id}`);
    assert.equal(delApp.statusCode, 409, delApp.body);
    assert.deepEqual(
      refsOf(delApp),
      [
        `applicationProcesses/${process.id}/approved_notice_id`,
        `billingRuns/${run.id}/application_reminder_options.reminders.0.reminder_notice_id`,
      ].sort(),
    );
    assert.equal((await send('GET', `/notices/acme/${n.id}`)).statusCode, 200);

    // Once nothing names it any more, it can go.
    await call('PUT', `/billingRuns/acme/${run.id}`, minimalRun());
    await call('DELETE', `/billingTemplates/acme/${template.id}`);
    assert.equal((await send('DELETE', `/notices/acme/${n.id}`)).statusCode, 200);
  });

  test('runs stored before the notice ids were references are indexed by the migration', async () => {
    const n = await notice('Legacy drop');
    const run = await call(
      'POST',
      '/billingRuns/acme',
      minimalRun({ perform_drops: true, drop_options: { ...window, drop_notice_id: n.id } }),
      201,
    );
    // as a database written by an earlier release: the run holds the id, the reference index does not
    await asSystem(async () => {
      await t.store.db.deleteFrom('refs').where('source', '=', 'billingRuns').where('source_id', '=', run.id).execute();
      await t.store.db.deleteFrom('accredit_migrations').where('id', '=', 8).execute();
    });
    assert.ok((await migrate(t.store, tableSpecs())).includes('8-billing_run_notice_refs'));
    const del = await send('DELETE', `/notices/acme/${n.id}`);
    assert.equal(del.statusCode, 409, del.body);
    assert.deepEqual(refsOf(del), [`billingRuns/${run.id}/drop_options.drop_notice_id`]);
  });
});

describe('a run sends only the notices that apply, and each action says what became of its e-mail', () => {
  let rn: R, midwife: R, certs: R[];
  let actions: R[];
  const actionOf = (cert: R, reminder?: number) => actions.find((a) => a.certification_id === cert.id && a.reminder_id === reminder)!;
  const summary = (a: R) => [a.status, a.notice_status, a.notice_status_reason];
  /** Right after the execution: the app's own sender (it polls) may have sent a queued one already. */
  const early = (a: R) => [a.status, a.notice_status === 'sent' ? 'queued' : a.notice_status, a.notice_status_reason];

  test('reminders: an inactive notice, one of another programme, a holder without address: excluded, not sent, with the reason', async () => {
    rn = await f.create('programs', { name: 'Registered Nurse' });
    midwife = await f.create('programs', { name: 'Midwife' });
    const active = await notice('Renew');
    const off = await notice('Switched off', { is_active: false });
    const midwivesOnly = await notice('Midwives', { restrict_to_certain_programs: true, restricted_program_ids: [midwife.id] });
    const dropped = await notice('Dropped', { is_active: false });
    const cert = (i: number, program: R, extra: R) =>
      call(
        'POST',
        '/certifications/acme',
        { number: 7000 + i, contact_id: `n-${i}`, program_id: program.id, status: 'active', name: `Holder ${i}`, ...extra },
        201,
      );
    const due = addDays(TODAY, 30);
    certs = [
      await cert(0, rn, { email_address: 'rn0@example.test', expiration_date: due }),
      await cert(1, rn, { expiration_date: due }), // no address
      await cert(2, midwife, { email_address: 'mw2@example.test', expiration_date: due }),
      await cert(3, rn, {
        email_address: 'rn3@example.test',
        expiration_date: addDays(TODAY, -60),
        grace_period_end_date: addDays(TODAY, -30),
      }),
    ];
    const run = await call(
      'POST',
      '/billingRuns/acme',
      minimalRun({
        send_renewal_reminders: true,
        renewal_reminder_options: {
          program_ids: [rn.id, midwife.id],
          program_restriction: 'include',
          reminders: [
            { id: 1, name: 'active', ...window, reminder_notice_id: active.id },
            { id: 2, name: 'switched off', ...window, reminder_notice_id: off.id },
            { id: 3, name: 'midwives only', ...window, reminder_notice_id: midwivesOnly.id },
          ],
        },
        perform_drops: true,
        drop_options: {
          expiration_date_range_start: addDays(TODAY, -90),
          expiration_date_range_end: addDays(TODAY, -50),
          program_ids: [rn.id],
          program_restriction: 'include',
          drop_notice_id: dropped.id,
        },
      }),
      201,
    );
    assert.equal((await finished(await call('POST', `/billingRuns/acme/refresh/${run.id}`))).status, 'SUCCEEDED');
    assert.equal((await finished(await call('POST', `/billingRuns/acme/execute/${run.id}`))).status, 'SUCCEEDED');
    actions = await listAll(call, `/billingRunActions/acme/billingRun/${run.id}`);
    assert.equal(actions.length, 10);
    const [c0, c1, c2, c3] = certs as [R, R, R, R];
    assert.deepEqual(early(actionOf(c0, 1)), ['completed', 'queued', undefined]);
    assert.deepEqual(summary(actionOf(c0, 2)), ['excluded', 'not sent', 'notice inactive']);
    assert.deepEqual(summary(actionOf(c0, 3)), ['excluded', 'not sent', 'notice limited to other programmes']);
    assert.deepEqual(summary(actionOf(c1, 1)), ['excluded', 'not sent', 'no address']);
    assert.deepEqual(summary(actionOf(c1, 2)), ['excluded', 'not sent', 'notice inactive']);
    assert.deepEqual(early(actionOf(c2, 1)), ['completed', 'queued', undefined]);
    assert.deepEqual(summary(actionOf(c2, 2)), ['excluded', 'not sent', 'notice inactive']);
    assert.deepEqual(early(actionOf(c2, 3)), ['completed', 'queued', undefined]);
    assert.equal(actionOf(c0, 2).notice_id, off.id);
    // the drop is done; its notice, switched off, is not sent, and the action says so
    assert.deepEqual(summary(actionOf(c3)), ['completed', 'not sent', 'notice inactive']);
    assert.equal((await call('GET', `/certifications/acme/${c3.id}`)).status, 'inactive');
    // a reminder that did not go out is not recorded as sent on the certification
    assert.equal((await call('GET', `/certifications/acme/${c0.id}`)).last_reminder_sent_date, TODAY);
    assert.equal((await call('GET', `/certifications/acme/${c1.id}`)).last_reminder_sent_date, undefined);
    const stats = (await call('GET', `/billingRuns/acme/${run.id}`)).statistics.find((s: R) => s.action === 'send renewal reminder');
    assert.deepEqual([stats.total, stats.successful, stats.excluded], [9, 3, 6]);
  });

  test('the mailer writes delivery back: the queued ones become sent; exactly those were received', async () => {
    await drain();
    const got = mails
      .filter((m) => /@example\.test$/.test(m.to) && /certificate 700/.test(m.subject))
      .map((m) => `${m.to} ${m.subject}`)
      .sort();
    assert.deepEqual(got, [
      'mw2@example.test Midwives: certificate 7002',
      'mw2@example.test Renew: certificate 7002',
      'rn0@example.test Renew: certificate 7000',
    ]);
    const runId = actions[0]!.billing_run_id;
    actions = await listAll(call, `/billingRunActions/acme/billingRun/${runId}`);
    const [c0, c1, c2] = certs as [R, R, R];
    assert.deepEqual(summary(actionOf(c0, 1)), ['completed', 'sent', undefined]);
    assert.deepEqual(summary(actionOf(c2, 3)), ['completed', 'sent', undefined]);
    assert.equal(actionOf(c0, 1).sys_last_security_context?.via, 'mailer');
    assert.deepEqual(summary(actionOf(c1, 1)), ['excluded', 'not sent', 'no address'], 'a not-sent action stays as it was');
  });

  test('a notice gone from under a run stored earlier: "notice not found", the reminder is not marked sent', async () => {
    const gone = await notice('Gone');
    const c = await call(
      'POST',
      '/certifications/acme',
      {
        number: 7100,
        contact_id: 'n-100',
        program_id: rn.id,
        status: 'active',
        name: 'Holder 100',
        email_address: 'h100@example.test',
        expiration_date: addDays(TODAY, 30),
      },
      201,
    );
    const run = await call(
      'POST',
      '/billingRuns/acme',
      minimalRun({
        send_renewal_reminders: true,
        renewal_reminder_options: {
          program_ids: [rn.id],
          program_restriction: 'include',
          reminders: [{ id: 1, ...window, reminder_notice_id: gone.id }],
        },
      }),
      201,
    );
    // as in a database of an earlier release, where the notice could be deleted under the run
    await asSystem(() => t.store.db.deleteFrom('notices').where('id', '=', gone.id).execute());
    await finished(await call('POST', `/billingRuns/acme/refresh/${run.id}`));
    await finished(await call('POST', `/billingRuns/acme/execute/${run.id}`));
    const [a] = (await listAll(call, `/billingRunActions/acme/billingRun/${run.id}`)).filter((x) => x.certification_id === c.id);
    assert.deepEqual(
      [a.status, a.notice_status, a.notice_status_reason, a.notice_id],
      ['excluded', 'not sent', 'notice not found', gone.id],
    );
    assert.equal((await call('GET', `/certifications/acme/${c.id}`)).last_reminder_sent_date, undefined);
  });

  /**
   * A provider's course with one registration, billed by a run that e-mails invoices: the run's
   * actions once it has executed.
   */
  async function invoiceRun(provider: Record<string, unknown>, offeringName: string, student: { name: string; student_id: string }) {
    await call('POST', '/trainingProvPrograms/acme', { training_provider_id: provider.id, program_id: rn.id, course_fee: 40 }, 201);
    const course = await call('POST', '/courses/acme', { name: `${offeringName} course` }, 201);
    const offering = await call(
      'POST',
      '/courseOfferings/acme',
      { name: offeringName, course_id: course.id, training_provider_id: provider.id, program_ids: [rn.id] },
      201,
    );
    await call(
      'POST',
      '/courseRegistrations/acme',
      { ...student, course_id: course.id, course_offering_id: offering.id, status: 'registered' },
      201,
    );
    const run = await call(
      'POST',
      '/billingRuns/acme',
      minimalRun({
        bill_training_providers: true,
        training_provider_billing_options: {
          expiration_date_range_start: addDays(TODAY, -30),
          expiration_date_range_end: TODAY,
          invoice_template_id: 'standard',
          payment_terms_id: 'net-30',
          email_invoices_to_training_providers: true,
        },
      }),
      201,
    );
    await finished(await call('POST', `/billingRuns/acme/refresh/${run.id}`));
    await finished(await call('POST', `/billingRuns/acme/execute/${run.id}`));
    return listAll(call, `/billingRunActions/acme/billingRun/${run.id}`);
  }

  test('an invoice to e-mail to a provider without an address: the invoice is made, its e-mail "not sent: no address"', async () => {
    const provider = await f.create('trainingProviders', { name: 'Quiet College' });
    const [a] = await invoiceRun(provider, 'Refresher (Quiet)', { name: 'Student', student_id: 's-1' });
    assert.deepEqual(
      [a.type, a.status, a.notice_status, a.notice_status_reason],
      ['bill training provider', 'completed', 'not sent', 'no address'],
    );
    const invoice = await call('GET', `/invoices/acme/${a.invoice_id}`);
    assert.equal(invoice.status, 'open');
    // the invoice is the provider's order too: one ledger, paid like any order (cents)
    const order = await call('GET', `/orders/acme/${a.order_id}`);
    assert.deepEqual(
      [order.owner_type, order.training_provider_id, order.invoice_id, order.currency_code, order.total, order.balance_due, order.status],
      ['training provider', provider.id, invoice.id, 'USD', 4000, 4000, 'awaiting payment'],
    );
    assert.deepEqual(
      order.lines.map((l: Record<string, unknown>) => [l.type, l.fee_kind, l.registration_service, l.amount]),
      [['registration', 'course', 'courseRegistrations', 4000]],
    );
    assert.equal((await call('GET', `/orders/acme/trainingProvider/${provider.id}`)).Items.length, 1);
  });

  test('an invoice line whose description is template syntax is e-mailed as written, not run by the template engine', async () => {
    const provider = await f.create('trainingProviders', { name: 'Curly College', email_address: 'billing@curly.test' });
    const [a] = (await invoiceRun(provider, '{{#each}}', { name: '{{settings.secret}}', student_id: 's-2' })).filter(
      (x) => x.training_provider_id === provider.id,
    );
    assert.deepEqual([a.status, a.notice_status], ['completed', 'queued']);
    const [row] = await asTenant('acme', () => outboxFor(t.store.db, 'acme', `billingRunActions/${a.id}`));
    const html = JSON.parse(row!.message).html as string;
    assert.match(html, /<tr><td>\{\{#each\}\}: \{\{settings\.secret\}\}<\/td><td>course fee<\/td><td>40\.00<\/td><\/tr>/);
    await drain();
    assert.deepEqual(
      mails.filter((x) => x.to === 'billing@curly.test').map((x) => x.subject),
      [`Invoice ${(await call('GET', `/invoices/acme/${a.invoice_id}`)).number} from your certification body`],
    );
  });
});
