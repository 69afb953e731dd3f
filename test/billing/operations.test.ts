import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';
import type { Clock } from '../../src/core/clock.js';
import { addDays, executionEnded, injectCall, listAll } from './population.js';

/**
 * Billing runs an operations team can follow: what the server logs when it recovers, totals and
 * e-mails before execution, every execution of a run, the run's messages, its summary, and runs
 * that come back (refreshed again, resumed after a cancel).
 */
const TODAY = '2026-06-15';
const clock: Clock = { now: () => new Date(`${TODAY}T09:00:00Z`) };
let t: TestApp;
let f: Factory;
const logLines: Record<string, any>[] = [];

const call = injectCall(() => t);
const finished = (handle: { executionArn: string }) => executionEnded(call, handle);

before(async () => {
  t = await startApp({
    clock,
    env: { WORKER_POLL_MS: '50', SCHEDULER_POLL_MS: '0' },
    logger: { level: 'warn', stream: { write: (line: string) => void logLines.push(JSON.parse(line)) } },
  });
  f = new Factory(t, t.admin);
});
after(async () => {
  await t.close();
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
          number: 1000 + certs.length + Math.floor(Math.random() * 1e6),
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
  const run = await call('POST', '/billingRuns/acme', p.body(), 201);
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
});
