import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';
import { startSmtpCapture } from '../mail/capture.js';
import type { Clock } from '../../src/core/clock.js';
import { asSystem, asTenant } from '../../src/store/tenant-scope.js';
import { addDays, executionEnded, injectCall, listAll } from './population.js';

/**
 * Billing runs an operations team can follow: what the server logs when it recovers, totals and
 * e-mails before execution, every execution of a run, the run's messages, its summary, and runs
 * that come back (refreshed again, resumed after a cancel).
 */
const TODAY = '2026-06-15';
let now = new Date(`${TODAY}T09:00:00Z`);
const clock: Clock = { now: () => now };
let t: TestApp;
let f: Factory;
const logLines: Record<string, any>[] = [];
let nextNumber = 1000;

const call = injectCall(() => t);
const finished = (handle: { executionArn: string }) => executionEnded(call, handle);

let smtp: Awaited<ReturnType<typeof startSmtpCapture>>;

before(async () => {
  // a real SMTP server that turns one mailbox away (550): that message fails
  smtp = await startSmtpCapture({ refuse: (address) => address === 'mailed1@example.test' });
  t = await startApp({
    clock,
    env: { WORKER_POLL_MS: '50', SCHEDULER_POLL_MS: '0', SMTP_URL: smtp.url },
    logger: { level: 'warn', stream: { write: (line: string) => void logLines.push(JSON.parse(line)) } },
  });
  f = new Factory(t, t.admin);
});
after(async () => {
  await t.close();
  await smtp.close();
});

/** A programme with a renewal fee, a notice, and `n` certifications expiring in 30 days (the last without an address). */
async function population(n: number, label: string) {
  const program = await f.create('programs', { name: label });
  const fee = await f.create('applicationFees', { name: 'Renewal', price: 175, program_id: program.id });
  await f.create('applicationProcesses', { name: 'Renewal', type: 'renewal', program_id: program.id, application_fee_id: fee.id });
  const notice = await f.create('notices', {
    name: `${label} reminder`,
    email: { subject: `${label}: renew {{number}}`, body: '<p>Dear {{name}}, certificate {{number}} expires on {{expiration_date}}.</p>' },
  });
  const certs: any[] = [];
  for (let i = 0; i < n; i++) {
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
          ...(i < n - 1 ? { email_address: `${label.toLowerCase()}${i}@example.test` } : {}),
          expiration_date: addDays(TODAY, 30),
        },
        201,
      ),
    );
  }
  const window = { expiration_date_range_start: addDays(TODAY, 20), expiration_date_range_end: addDays(TODAY, 40) };
  const body = (over: Record<string, unknown> = {}) => ({
    name: `${label} run`,
    status: 'draft',
    forecast_renewals: true,
    renewal_forecasting_options: { ...window, program_ids: [program.id], program_restriction: 'include' },
    send_renewal_reminders: true,
    renewal_reminder_options: {
      program_ids: [program.id],
      program_restriction: 'include',
      reminders: [{ id: 1, name: 'first', ...window, reminder_notice_id: notice.id }],
    },
    ...over,
  });
  return { program, notice, certs, body };
}

test('a chunk that falls back to one action per transaction is logged with the run, the chunk size and the cause', async () => {
  const p = await population(4, 'Fallback');
  const run = await call('POST', '/billingRuns/acme', p.body({ notification_email: 'ops@example.test' }), 201);
  assert.equal((await finished(await call('POST', `/billingRuns/acme/refresh/${run.id}`))).status, 'SUCCEEDED');
  const actions = await listAll(call, `/billingRunActions/acme/billingRun/${run.id}`);
  assert.equal(actions.length, 8);
  // a locked action can be neither performed nor marked error: its chunk fails as a whole
  const locked = actions.find((a) => a.type === 'forecast renewal')!;
  await call('PATCH', `/billingRunActions/acme/${locked.id}`, [{ op: 'replace', path: '/sys_locked', value: true }]);
  const before = logLines.length;
  await finished(await call('POST', `/billingRuns/acme/execute/${run.id}`));
  const line = logLines.slice(before).find((l) => /billing chunk failed as a whole/.test(l.msg));
  assert.ok(line, `no fallback logged: ${JSON.stringify(logLines.slice(before))}`);
  assert.equal(line.level, 40); // warn
  assert.equal(line.billing_run_id, run.id);
  assert.equal(line.chunk_size, 8);
  assert.match(line.reason, /locked/);
  assert.match(line.err.message, /locked/);
  // the execution failed as a whole: the run says so and its summary goes to notification_email
  const after = await call('GET', `/billingRuns/acme/${run.id}`);
  assert.equal(after.status, 'error');
  assert.match(after.error, /^execution failed: .*locked/);
  const [summary, ...others] = await summariesOf(run.id);
  assert.equal(others.length, 0);
  assert.equal(summary.to, 'ops@example.test');
  assert.equal(summary.subject, 'Billing run Fallback run: execution failed');
  assert.match(summary.text, /locked/);
});

/** The summaries queued for a run (its notification_email's), oldest first. */
async function summariesOf(runId: string) {
  const rows = await asSystem(() =>
    t.store.db
      .selectFrom('outbox')
      .selectAll()
      .where('tenant_id', '=', 'acme')
      .where('source', '=', `billingRuns/${runId}`)
      .orderBy('created_at')
      .execute(),
  );
  return rows.map((r: any) => JSON.parse(r.message));
}

test('notification_email: the summary of a run goes there when it ends; a run without one sends none', async () => {
  const p = await population(3, 'Summary');
  const run = await call('POST', '/billingRuns/acme', p.body({ notification_email: 'billing-team@example.test' }), 201);
  await finished(await call('POST', `/billingRuns/acme/refresh/${run.id}`));
  assert.equal((await summariesOf(run.id)).length, 0, 'a refresh that works sends nothing');
  const exec = await finished(await call('POST', `/billingRuns/acme/execute/${run.id}`));
  assert.equal(exec.status, 'SUCCEEDED');
  const mails = await summariesOf(run.id);
  assert.equal(mails.length, 1);
  const [m] = mails;
  assert.equal(m.to, 'billing-team@example.test');
  assert.equal(m.subject, 'Billing run Summary run: completed');
  // the statistics per action type: 3 forecasts done; 2 reminders sent, 1 excluded (no address)
  assert.match(m.html, /<td>forecast renewal<\/td><td>3<\/td><td>3<\/td><td>0<\/td><td>0<\/td><td>0<\/td>/);
  assert.match(m.html, /<td>send renewal reminder<\/td><td>3<\/td><td>2<\/td><td>1<\/td><td>0<\/td><td>0<\/td>/);
  assert.match(m.text, new RegExp(`GET /billingRuns/acme/messages/${run.id}`));

  const quiet = await call('POST', '/billingRuns/acme', p.body({ name: 'Quiet run' }), 201);
  await finished(await call('POST', `/billingRuns/acme/refresh/${quiet.id}`));
  await finished(await call('POST', `/billingRuns/acme/execute/${quiet.id}`));
  assert.equal((await summariesOf(quiet.id)).length, 0);
});

test("every execution of a run is listed with it, the scheduler's too; each action names the execution that performed it", async () => {
  const p = await population(3, 'Scheduled');
  const relative = (n: number) => ({ position: 'after', number: n, unit_of_time: 'days', relative_to: 'the reference date' });
  const template = await call(
    'POST',
    '/billingTemplates/acme',
    {
      name: 'Forecasts',
      forecast_renewals: true,
      renewal_forecasting_options: {
        expiration_date_range_start: relative(20),
        expiration_date_range_end: relative(40),
        program_ids: [p.program.id],
        program_restriction: 'include',
      },
    },
    201,
  );
  const rec = await call(
    'POST',
    '/recurringBillingRuns/acme',
    {
      name: 'Daily',
      schedule: '0 6 * * *',
      pre_processing_lead_time: 0,
      template_id: template.id,
      is_active: true,
      next_run_date: `${TODAY}T06:00:00.000Z`,
    },
    201,
  );
  const tick = async () => {
    await t.app.services.scheduler.tick();
    await t.app.services.executions.idle();
  };
  await tick(); // created and refreshed
  await tick(); // executed
  const [run] = await listAll(call, `/billingRuns/acme/recurringBillingRun/${rec.id}`);
  assert.equal(run.status, 'completed', JSON.stringify(run));
  // a manual refresh afterwards is listed too
  await finished(await call('POST', `/billingRuns/acme/refresh/${run.id}`));
  const list = await call('GET', `/billingRuns/acme/executions/${run.id}`);
  assert.equal(list.Count, 3);
  assert.deepEqual(
    list.Items.map((e: any) => [e.action, e.status, e.started_by]),
    [
      ['refresh', 'SUCCEEDED', 'scheduler'],
      ['execute', 'SUCCEEDED', 'scheduler'],
      ['refresh', 'SUCCEEDED', 'tester'],
    ],
  );
  const execute = list.Items[1];
  assert.equal((await call('GET', `/executions/acme/${execute.executionArn}`)).status, 'SUCCEEDED');
  const actions = await listAll(call, `/billingRunActions/acme/billingRun/${run.id}`);
  assert.equal(actions.length, 3);
  for (const a of actions) assert.equal(a.step_function_execution_arn, execute.executionArn, JSON.stringify(a));

  assert.equal((await t.call({ url: '/billingRuns/acme/executions/nope', auth: t.admin })).statusCode, 404);
  const other = await t.token({ tenants: ['other'] });
  assert.equal((await t.call({ url: `/billingRuns/other/executions/${run.id}`, auth: other })).statusCode, 404);
});

test('the messages of a run: queued, then sent or failed; a holder without an address shows as not sent, with why', async () => {
  const p = await population(4, 'Mailed');
  const run = await call('POST', '/billingRuns/acme', p.body({ forecast_renewals: false, renewal_forecasting_options: undefined }), 201);
  await finished(await call('POST', `/billingRuns/acme/refresh/${run.id}`));
  const none = await call('GET', `/billingRuns/acme/messages/${run.id}`);
  assert.equal(none.Count, 0, 'nothing performed yet');
  await finished(await call('POST', `/billingRuns/acme/execute/${run.id}`));
  await t.app.services.mailer.sender.drain();
  const retrying = (await call('GET', `/billingRuns/acme/messages/${run.id}`)).Items.find((m: any) => m.to === 'mailed1@example.test');
  assert.equal(retrying.status, 'queued', 'refused once: retried later, not an outcome yet');
  assert.match(retrying.reason, /unavailable|550/);
  // the retries come due as time goes on (back-off); after the last one the message is given up
  const start = now;
  for (let i = 0; i < 12; i++) {
    now = new Date(now.getTime() + 2 * 3600_000);
    await t.app.services.mailer.sender.drain();
  }
  now = start;
  const all = await call('GET', `/billingRuns/acme/messages/${run.id}`);
  assert.equal(all.Count, 4);
  const byTo = (m: any) => m.to ?? '-';
  const rows = all.Items.map((m: any) => [byTo(m), m.status, m.action_status]).sort();
  assert.deepEqual(rows, [
    ['-', 'not sent', 'excluded'],
    ['mailed0@example.test', 'sent', 'completed'],
    ['mailed1@example.test', 'failed', 'completed'],
    ['mailed2@example.test', 'sent', 'completed'],
  ]);
  const reasons = Object.fromEntries(all.Items.map((m: any) => [byTo(m), m.reason]));
  assert.equal(reasons['-'], 'no address');
  assert.match(reasons['mailed1@example.test'], /unavailable|550/);
  assert.equal(reasons['mailed0@example.test'], undefined);
  assert.deepEqual(
    smtp.mails
      .map((m) => m.to)
      .filter((to) => to.startsWith('mailed'))
      .sort(),
    ['mailed0@example.test', 'mailed2@example.test'],
  );
  for (const m of all.Items.filter((x: any) => x.status === 'sent')) {
    assert.match(m.subject, /^Mailed: renew \d+$/);
    assert.equal(m.notice_id, p.notice.id);
    assert.ok(m.sent_at && m.outbox_id && m.attempts === 1, JSON.stringify(m));
  }
  // paged over the run's actions
  const first = await call('GET', `/billingRuns/acme/messages/${run.id}?limit=2`);
  assert.equal(first.Count, 2);
  assert.ok(first.LastEvaluatedKey);
  const second = await call('GET', `/billingRuns/acme/messages/${run.id}?limit=2&exclusiveStartKey=${first.LastEvaluatedKey}`);
  assert.equal(second.Count, 2);
  assert.equal(second.LastEvaluatedKey, undefined);
  const bad = await t.call({ url: `/billingRuns/acme/messages/${run.id}?limit=0`, auth: t.admin });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.body, /limit/);
});

test('before execution: pending actions by type in the statistics, and a dry run renders the e-mails without sending', async () => {
  const p = await population(4, 'Preview');
  const run = await call('POST', '/billingRuns/acme', p.body(), 201);
  await finished(await call('POST', `/billingRuns/acme/refresh/${run.id}`));
  const stats = (await call('GET', `/billingRuns/acme/${run.id}`)).statistics;
  assert.deepEqual(
    stats.map((s: any) => [s.action, s.total, s.pending]),
    [
      ['forecast renewal', 4, 4],
      ['send renewal reminder', 4, 4],
    ],
  );
  const before = (await call('GET', '/statistics/acme/billing')).billing_run_actions.pending_by_type;
  assert.ok(before.forecast_renewal >= 4 && before.send_renewal_reminder >= 4, JSON.stringify(before));

  const outboxCount = async () =>
    Number(
      (
        await asSystem(() =>
          t.store.db
            .selectFrom('outbox')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('tenant_id', '=', 'acme')
            .where('source', 'like', `billingRunActions/${run.id}%`)
            .executeTakeFirstOrThrow(),
        )
      ).n,
    );
  const preview = await call('POST', `/billingRuns/acme/previewEmails/${run.id}?limit=10`);
  assert.equal(preview.Count, 4);
  assert.equal(preview.more, false);
  const rows = preview.Items.map((m: any) => [m.to ?? '-', m.status, m.reason ?? null]).sort();
  assert.deepEqual(rows, [
    ['-', 'not sent', 'no address'],
    ['preview0@example.test', 'would send', null],
    ['preview1@example.test', 'would send', null],
    ['preview2@example.test', 'would send', null],
  ]);
  const first = preview.Items.find((m: any) => m.to === 'preview0@example.test');
  assert.equal(first.subject, `Preview: renew ${p.certs[0].number}`);
  assert.match(first.html, new RegExp(`certificate ${p.certs[0].number} expires on`));
  assert.match(first.text, /Dear Preview holder 0/);
  assert.ok(first.from);

  // nothing was written: no mail queued, every action still pending, the certifications unchanged
  assert.equal(await outboxCount(), 0);
  const actions = await listAll(call, `/billingRunActions/acme/billingRun/${run.id}`);
  assert.ok(actions.every((a) => a.status === 'pending' && a.notice_status === undefined));
  for (const c of p.certs) {
    const now = await call('GET', `/certifications/acme/${c.id}`);
    assert.equal(now.sys_version, c.sys_version);
  }
  assert.deepEqual((await call('GET', '/statistics/acme/billing')).billing_run_actions.pending_by_type, before);

  const two = await call('POST', `/billingRuns/acme/previewEmails/${run.id}?limit=2`);
  assert.equal(two.Count, 2);
  assert.equal(two.more, true);
  const bad = await t.call({ method: 'POST', url: `/billingRuns/acme/previewEmails/${run.id}?limit=500`, auth: t.admin });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.body, /limit/);

  // executing afterwards sends exactly what the preview showed
  await finished(await call('POST', `/billingRuns/acme/execute/${run.id}`));
  assert.equal(await outboxCount(), 3);
  assert.equal(
    (await call('GET', '/statistics/acme/billing')).billing_run_actions.pending_by_type.send_renewal_reminder,
    before.send_renewal_reminder - 4,
  );
});

test('a refresh puts actions that ended "expiration date changed" or "no longer eligible" back in the queue once eligible again', async () => {
  const p = await population(3, 'Requeue');
  const run = await call('POST', '/billingRuns/acme', p.body({ send_renewal_reminders: false, renewal_reminder_options: undefined }), 201);
  await finished(await call('POST', `/billingRuns/acme/refresh/${run.id}`));
  const [moved, suspended] = p.certs;
  // after the refresh: one expiration date moves (still inside the window), one certification is suspended
  await call('PATCH', `/certifications/acme/${moved.id}`, [{ op: 'replace', path: '/expiration_date', value: addDays(TODAY, 35) }]);
  await call('PATCH', `/certifications/acme/${suspended.id}`, [{ op: 'replace', path: '/status', value: 'suspended' }]);
  const first = await call('POST', `/billingRuns/acme/execute/${run.id}`);
  await finished(first);
  const statusOf = async () =>
    Object.fromEntries(
      (await listAll(call, `/billingRunActions/acme/billingRun/${run.id}`)).map((a) => [a.certification_id, a] as [string, any]),
    );
  let actions = await statusOf();
  assert.equal(actions[moved.id].status, 'expiration date changed');
  assert.equal(actions[moved.id].step_function_execution_arn, first.executionArn);
  assert.equal(actions[suspended.id].status, 'no longer eligible');
  assert.equal(actions[p.certs[2].id].status, 'completed');

  await call('PATCH', `/certifications/acme/${suspended.id}`, [{ op: 'replace', path: '/status', value: 'active' }]);
  await finished(await call('POST', `/billingRuns/acme/refresh/${run.id}`));
  actions = await statusOf();
  assert.deepEqual(
    [moved.id, suspended.id].map((id) => [actions[id].status, actions[id].outcome_of_last_refresh]),
    [
      ['pending', 'added'],
      ['pending', 'added'],
    ],
  );
  assert.equal(actions[p.certs[2].id].status, 'completed', 'a performed action is never reset');
  assert.equal(actions[moved.id].expiration_date, addDays(TODAY, 35), 'the action carries the new date');
  assert.equal(actions[moved.id].step_function_execution_arn, undefined, 'the earlier attempt is not its outcome any more');
  const second = await call('POST', `/billingRuns/acme/execute/${run.id}`);
  await finished(second);
  actions = await statusOf();
  for (const id of [moved.id, suspended.id]) {
    assert.equal(actions[id].status, 'completed');
    assert.equal(actions[id].step_function_execution_arn, second.executionArn);
  }
  assert.equal(actions[p.certs[2].id].step_function_execution_arn, first.executionArn, 'done once, never again');
  assert.equal((await call('GET', `/certifications/acme/${moved.id}`)).forecasted_renewal_amount, 175);
});

test('a cancelled run can be resumed: refreshed and executed again, only what is pending is performed', async () => {
  const p = await population(2, 'Resume');
  const run = await call('POST', '/billingRuns/acme', p.body({ send_renewal_reminders: false, renewal_reminder_options: undefined }), 201);
  await finished(await call('POST', `/billingRuns/acme/refresh/${run.id}`));
  await finished(await call('POST', `/billingRuns/acme/execute/${run.id}`));
  const done = await listAll(call, `/billingRunActions/acme/billingRun/${run.id}`);
  assert.ok(done.every((a) => a.status === 'completed'));
  // a new candidate appears; the run is cancelled before it is performed
  const late = await call(
    'POST',
    '/certifications/acme',
    {
      number: nextNumber++,
      contact_id: 'late',
      program_id: p.program.id,
      status: 'active',
      name: 'Late',
      expiration_date: addDays(TODAY, 30),
    },
    201,
  );
  const current = await call('GET', `/billingRuns/acme/${run.id}`);
  await call('PATCH', `/billingRuns/acme/${run.id}`, [{ op: 'replace', path: '/status', value: 'cancelled' }]);
  assert.equal((await call('GET', `/billingRuns/acme/${run.id}`)).status, 'cancelled', JSON.stringify(current.status));
  await finished(await call('POST', `/billingRuns/acme/refresh/${run.id}`));
  const refreshed = await call('GET', `/billingRuns/acme/${run.id}`);
  assert.equal(refreshed.status, 'ready for execution');
  await call('PATCH', `/billingRuns/acme/${run.id}`, [{ op: 'replace', path: '/status', value: 'cancelled' }]);
  const resumed = await finished(await call('POST', `/billingRuns/acme/execute/${run.id}`));
  assert.equal(resumed.status, 'SUCCEEDED');
  assert.deepEqual(resumed.output, { performed: 3, errors: 0 });
  const after = await listAll(call, `/billingRunActions/acme/billingRun/${run.id}`);
  assert.equal(after.length, 3);
  assert.ok(after.every((a) => a.status === 'completed'));
  for (const a of done) {
    const again = after.find((x) => x.id === a.id)!;
    assert.equal(again.sys_version, a.sys_version, 'a performed action is not performed again');
  }
  assert.equal((await call('GET', `/certifications/acme/${late.id}`)).forecasted_renewal_amount, 175);
  assert.equal((await call('GET', `/billingRuns/acme/${run.id}`)).status, 'completed');
});

test('a run cancelled mid-execution stops after the chunk in progress, tells notification_email, and resumes where it stopped', async () => {
  const p = await population(55, 'Cancel'); // more than one chunk (50 actions) on either back end
  const run = await call(
    'POST',
    '/billingRuns/acme',
    p.body({ send_renewal_reminders: false, renewal_reminder_options: undefined, notification_email: 'ops@example.test' }),
    201,
  );
  await finished(await call('POST', `/billingRuns/acme/refresh/${run.id}`));
  // the execution's handler, run here so that the cancel lands after its first chunk (as a PATCH from staff would)
  let chunks = 0;
  const job = {
    ctx: {
      tenantId: 'acme',
      actor: { sub: 'tester', tenants: ['acme'], scopes: new Set(['certifications:admin', 'certifications:write', 'certifications:read']) },
      requestId: 'cancel-test',
    },
    executionId: crypto.randomUUID(),
    recordId: run.id,
    params: {},
    async progress() {
      if (++chunks === 1) await call('PATCH', `/billingRuns/acme/${run.id}`, [{ op: 'replace', path: '/status', value: 'cancelled' }]);
    },
    stopping: false,
  };
  const out = (await asTenant('acme', () => t.app.services.billing.execute(job))) as { performed: number; cancelled?: boolean };
  assert.equal(out.cancelled, true);
  assert.ok(out.performed > 0 && out.performed < 55, JSON.stringify(out));
  const stopped = await call('GET', `/billingRuns/acme/${run.id}`);
  assert.equal(stopped.status, 'cancelled');
  const [stat] = stopped.statistics;
  assert.deepEqual([stat.successful, stat.pending], [out.performed, 55 - out.performed]);
  const [summary] = await summariesOf(run.id);
  assert.equal(summary.subject, 'Billing run Cancel run: cancelled');

  const resumed = await finished(await call('POST', `/billingRuns/acme/execute/${run.id}`));
  assert.equal(resumed.status, 'SUCCEEDED');
  const actions = await listAll(call, `/billingRunActions/acme/billingRun/${run.id}`);
  assert.equal(actions.filter((a) => a.status === 'completed').length, 55);
  assert.equal((await call('GET', `/billingRuns/acme/${run.id}`)).status, 'completed');
});
