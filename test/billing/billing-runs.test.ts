import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startMailApp, type CapturedMail, type MailApp } from '../mail/capture.js';
import type { TestApp } from '../helpers.js';
import type { Factory } from '../factory.js';
import type { Clock } from '../../src/core/clock.js';
import { asSystem } from '../../src/store/tenant-scope.js';
import {
  type Population,
  addDays,
  assertEndState,
  buildPopulation,
  executionEnded,
  expectedCounts,
  expectedMails,
  injectCall,
  listAll,
} from './population.js';

/**
 * Billing runs end to end through HTTP, with a real SMTP server on loopback capturing the mail:
 * a population of 200 certifications and applications -> refresh -> exact candidates per job ->
 * execute -> statuses, forecasts, invoices and exactly the expected e-mails; then refresh + execute
 * again changes nothing and sends nothing. Templates and recurring runs too.
 */
const TODAY = '2026-06-15';
let now = new Date(`${TODAY}T09:00:00Z`);
const clock: Clock = { now: () => now };
let t: TestApp;
let f: Factory;
let m: MailApp;
let mails: CapturedMail[] = [];

const call = injectCall(() => t);
const finished = (handle: { executionArn: string }) => executionEnded(call, handle);
const drain = () => m.drain();

before(async () => {
  m = await startMailApp({ clock });
  ({ t, f } = m);
  mails = m.smtp.mails;
});
after(() => m?.close());

describe('a renewal cycle: refresh, execute, again', () => {
  let p: Population;
  test('refresh computes exactly the candidates of each job', async () => {
    p = await buildPopulation('acme', call, f, TODAY);
    const h = await call('POST', `/billingRuns/acme/refresh/${p.run.id}`);
    assert.match(h.executionArn, /billingRuns-refresh/);
    const e = await finished(h);
    assert.equal(e.status, 'SUCCEEDED', JSON.stringify(e));
    assert.ok(e.progress.total > 0 && e.progress.done === e.progress.total, JSON.stringify(e.progress));

    const actions = await listAll(call, `/billingRunActions/acme/billingRun/${p.run.id}`);
    const byType: Record<string, number> = {};
    for (const a of actions) byType[a.type] = (byType[a.type] ?? 0) + 1;
    assert.deepEqual(byType, expectedCounts(1));
    assert.ok(actions.every((a) => a.status === 'pending' && a.outcome_of_last_refresh === 'added'));
    const reminder = actions.find((a) => a.type === 'send renewal reminder')!;
    assert.deepEqual([reminder.candidate_service, typeof reminder.certification_id, reminder.reminder_id], ['certifications', 'string', 1]);
    const run = await call('GET', `/billingRuns/acme/${p.run.id}`);
    assert.equal(run.status, 'ready for execution');
    assert.ok(run.last_refresh_date);
    assert.equal(run.statistics.find((s: any) => s.action === 'forecast renewal').pending, 60);
    assert.equal(mails.length, 0, 'a refresh sends nothing');
  });

  test('refreshing again keeps the actions (no duplicates) and marks vanished candidates', async () => {
    // one certification due soon is no longer a candidate: staff suspend it before the run
    const gone = p.certs[24]!;
    await call('PATCH', `/certifications/acme/${gone.id}`, [{ op: 'replace', path: '/status', value: 'suspended' }]);
    const e = await finished(await call('POST', `/billingRuns/acme/refresh/${p.run.id}`));
    assert.equal(e.status, 'SUCCEEDED');
    const actions = await listAll(call, `/billingRunActions/acme/billingRun/${p.run.id}`);
    assert.equal(
      actions.length,
      Object.values(expectedCounts(1)).reduce((a, b) => a + b, 0),
    );
    const ofGone = actions.filter((a) => a.certification_id === gone.id);
    assert.deepEqual(
      ofGone.map((a) => [a.status, a.outcome_of_last_refresh]),
      [
        ['no longer eligible', 'removed'],
        ['no longer eligible', 'removed'],
      ],
    );
    assert.equal(actions.filter((a) => a.outcome_of_last_refresh === 'no change').length, actions.length - 2);
    // back to active: the next refresh adds them again (same actions, pending)
    await call('PATCH', `/certifications/acme/${gone.id}`, [{ op: 'replace', path: '/status', value: 'active' }]);
    await finished(await call('POST', `/billingRuns/acme/refresh/${p.run.id}`));
    const again = await listAll(call, `/billingRunActions/acme/billingRun/${p.run.id}`);
    assert.deepEqual(
      again.filter((a) => a.certification_id === gone.id).map((a) => [a.status, a.outcome_of_last_refresh]),
      [
        ['pending', 'added'],
        ['pending', 'added'],
      ],
    );
  });

  test('execute performs every action once, with exactly the expected e-mails', async () => {
    const h = await call('POST', `/billingRuns/acme/execute/${p.run.id}`);
    assert.match(h.executionArn, /billingRuns-execute/);
    const e = await finished(h);
    assert.equal(e.status, 'SUCCEEDED', JSON.stringify(e));
    await assertEndState('acme', call, p, 1);
    await drain();
    assert.equal(mails.length, expectedMails(1));
    assert.equal(new Set(mails.map((m) => m.messageId)).size, mails.length, 'every message is distinct');
    const reminders = mails.filter((m) => m.subject.startsWith('Renew certificate'));
    assert.equal(reminders.length, 25);
    assert.ok(
      reminders.some((m) => m.subject === 'Renew certificate 100000' && m.to === 'holder0@example.test') === false,
      'holder 0 is renewing',
    );
    assert.ok(reminders.some((m) => m.subject === 'Renew certificate 100020' && m.to === 'holder20@example.test'));
    assert.equal(mails.filter((m) => m.to === 'billing@northside.test').length, 1);
    assert.equal(mails.filter((m) => m.subject.startsWith('Welcome, Applicant')).length, 30);
    const c = p.certs[2]!;
    assert.equal((await call('GET', `/certifications/acme/${c.id}`)).last_termination_date, TODAY);
  });

  test('refresh + execute again changes nothing and sends nothing', async () => {
    const before = await listAll(call, `/certifications/acme`);
    await finished(await call('POST', `/billingRuns/acme/refresh/${p.run.id}`));
    const actions = await listAll(call, `/billingRunActions/acme/billingRun/${p.run.id}`);
    assert.equal(actions.filter((a) => a.status === 'pending').length, 0, 'nothing new to do');
    const e = await finished(await call('POST', `/billingRuns/acme/execute/${p.run.id}`));
    assert.equal(e.status, 'SUCCEEDED');
    assert.deepEqual(await listAll(call, `/certifications/acme`), before);
    await drain();
    assert.equal(mails.length, expectedMails(1));
    await assertEndState('acme', call, p, 1);
  });

  test('a second run over the same population sends no reminder twice', async () => {
    const copy = { ...p.run };
    for (const k of [
      'id',
      'sys_version',
      'sys_created_at',
      'sys_created_by_id',
      'sys_last_modified_at',
      'sys_last_modified_by_id',
      'sys_last_security_context',
      'sys_locked',
      'statistics',
      'last_refresh_date',
      'preprocessing_date',
      'run_date',
    ])
      delete copy[k];
    const run2 = await call('POST', '/billingRuns/acme', { ...copy, name: 'June cycle, again', status: 'draft' }, 201);
    await finished(await call('POST', `/billingRuns/acme/refresh/${run2.id}`));
    const e = await finished(await call('POST', `/billingRuns/acme/execute/${run2.id}`));
    assert.equal(e.status, 'SUCCEEDED');
    await drain();
    assert.equal(mails.length, expectedMails(1), 'reminders and notices already sent are not sent again');
  });
});

describe('guards', () => {
  test('execute before refresh is a 409 that says so; one execution per run at a time', async () => {
    const run = await call('POST', '/billingRuns/acme', { name: 'Empty', status: 'draft' }, 201);
    const res = await t.call({ method: 'POST', url: `/billingRuns/acme/execute/${run.id}`, auth: t.admin });
    assert.equal(res.statusCode, 409);
    assert.match(res.json().message, /refresh it first/);
    const h = await call('POST', `/billingRuns/acme/refresh/${run.id}`);
    const second = await t.call({ method: 'POST', url: `/billingRuns/acme/refresh/${run.id}`, auth: t.admin });
    assert.ok([200, 409].includes(second.statusCode), second.body);
    if (second.statusCode === 409) assert.match(second.json().message, /still running/);
    await finished(h);
    assert.equal((await call('GET', `/billingRuns/acme/${run.id}`)).status, 'ready for execution');
  });

  test('an execution of another tenant is not found; events stream progress until the end', async () => {
    const run = await call('POST', '/billingRuns/acme', { name: 'Watched', status: 'draft' }, 201);
    const h = await call('POST', `/billingRuns/acme/refresh/${run.id}`);
    await finished(h);
    const other = await t.token({ tenants: ['globex'] });
    const res = await t.call({ method: 'GET', url: `/executions/globex/${h.executionArn}`, auth: other });
    assert.equal(res.statusCode, 404);
    const forbidden = await t.call({ method: 'GET', url: `/executions/globex/${h.executionArn}`, auth: t.admin });
    assert.equal(forbidden.statusCode, 403);
    const events = await t.call({ method: 'GET', url: `/executions/acme/${h.executionArn}/events`, auth: t.admin });
    assert.equal(events.statusCode, 200);
    assert.match(String(events.headers['content-type']), /text\/event-stream/);
    assert.match(events.body, /event: progress\ndata: \{.*"status":"SUCCEEDED"/);
    assert.match(events.body, /event: end\n/);
  });

  test('an action that fails ends in error with its message; the run goes on and ends in error', async () => {
    const program = await f.create('programs', { name: 'No renewal fee' });
    await call(
      'POST',
      '/certifications/acme',
      { number: 9, contact_id: 'z', program_id: program.id, status: 'active', name: 'Zed', expiration_date: addDays(TODAY, 60) },
      201,
    );
    const run = await call(
      'POST',
      '/billingRuns/acme',
      {
        name: 'Forecast only',
        status: 'draft',
        forecast_renewals: true,
        renewal_forecasting_options: {
          expiration_date_range_start: addDays(TODAY, 50),
          expiration_date_range_end: addDays(TODAY, 70),
          program_ids: [program.id],
          program_restriction: 'include',
        },
      },
      201,
    );
    await finished(await call('POST', `/billingRuns/acme/refresh/${run.id}`));
    await finished(await call('POST', `/billingRuns/acme/execute/${run.id}`));
    const [a] = await listAll(call, `/billingRunActions/acme/billingRun/${run.id}`);
    assert.equal(a.status, 'error');
    assert.match(a.error_message, /has no renewal fee/);
    const after = await call('GET', `/billingRuns/acme/${run.id}`);
    assert.equal(after.status, 'error');
    assert.match(after.error, /1 action\(s\) ended in error/);
  });
});

describe('templates and recurring runs', () => {
  const relative = (position: string, number: number, unit: string, relative_to: string) => ({
    position,
    number,
    unit_of_time: unit,
    relative_to,
  });
  let template: any;
  test("createRun resolves the template's relative dates against the run date", async () => {
    template = await call(
      'POST',
      '/billingTemplates/acme',
      {
        name: 'Monthly drops',
        perform_drops: true,
        drop_options: {
          expiration_date_range_start: relative('before', 1, 'years', 'the beginning of the month'),
          expiration_date_range_end: relative('before', 1, 'days', 'the reference date'),
        },
      },
      201,
    );
    const run = await call('POST', `/billingTemplates/acme/createRun/${template.id}`, { run_date: '2026-07-15' }, 201);
    assert.deepEqual([run.status, run.template_id, run.perform_drops], ['draft', template.id, true]);
    assert.equal(run.drop_options.expiration_date_range_start, '2025-07-01');
    assert.equal(run.drop_options.expiration_date_range_end, '2026-07-14');
    assert.equal(run.scheduled_run_date, '2026-07-15T00:00:00.000Z');
    const bad = await t.call({
      method: 'POST',
      url: `/billingTemplates/acme/createRun/${template.id}`,
      payload: { run_date: 'soon' },
      auth: t.admin,
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().errors[0].field, 'run_date');
  });

  test('a recurring run is created, refreshed the lead time before, executed on the day, and recorded', async () => {
    const bad = await t.call({
      method: 'POST',
      url: '/recurringBillingRuns/acme',
      payload: { name: 'x', schedule: 'every day', pre_processing_lead_time: 1 },
      auth: t.admin,
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().errors[0].field, 'schedule');
    // on the 1st of each month at 06:00; refresh 2 business days before
    const rec = await call(
      'POST',
      '/recurringBillingRuns/acme',
      { name: 'Monthly', schedule: '0 6 1 * *', pre_processing_lead_time: 2, template_id: template.id, is_active: true },
      201,
    );
    const scheduler = t.app.services.scheduler!;
    const tick = async () => {
      await scheduler.tick();
      await t.app.services.executions.idle();
    };
    await tick();
    const r1 = await call('GET', `/recurringBillingRuns/acme/${rec.id}`);
    assert.equal(r1.next_run_date, '2026-07-01T06:00:00.000Z');
    await tick();
    assert.equal((await listAll(call, `/billingRuns/acme/recurringBillingRun/${rec.id}`)).length, 0, 'too early');
    now = new Date('2026-06-29T06:00:00Z'); // Monday: two business days before Wednesday 1 July
    await tick();
    const runs = await listAll(call, `/billingRuns/acme/recurringBillingRun/${rec.id}`);
    assert.equal(runs.length, 1);
    assert.equal(runs[0].status, 'ready for execution');
    assert.equal(runs[0].drop_options.expiration_date_range_end, '2026-06-30');
    await tick();
    assert.equal((await listAll(call, `/billingRuns/acme/recurringBillingRun/${rec.id}`)).length, 1, 'created once');
    now = new Date('2026-07-01T06:00:00Z');
    await tick();
    assert.equal((await call('GET', `/billingRuns/acme/${runs[0].id}`)).status, 'completed');
    await tick();
    const done = await call('GET', `/recurringBillingRuns/acme/${rec.id}`);
    assert.equal(done.last_run_date, '2026-07-01T06:00:00.000Z');
    assert.equal(done.next_run_date, '2026-08-01T06:00:00.000Z');
    assert.equal(done.errors_since_last_run, 0);
  });
});

test('outbox rows are readable per billing run action', async () => {
  const rows = await asSystem(() => t.store.db.selectFrom('outbox').select(['status']).execute());
  assert.ok(rows.length >= expectedMails(1));
  assert.ok(
    rows.every((r) => r.status === 'sent'),
    JSON.stringify(rows.filter((r) => r.status !== 'sent')),
  );
});
