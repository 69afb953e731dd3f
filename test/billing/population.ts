import assert from 'node:assert/strict';
import type { Factory } from '../factory.js';
import type { TestApp } from '../helpers.js';

/**
 * The population of the billing-run tests, built through the API (so every rule applies to it):
 * per unit of `n`, 120 certifications, 80 applications and 10 course registrations of a training
 * provider, placed around `today` so that each job has an exact number of candidates (EXPECTED).
 */
export type Call = (method: string, url: string, body?: unknown, status?: number) => Promise<any>;

/** A Call through the app's inject as a token (the admin token by default); both read when called. */
export const injectCall =
  (app: () => TestApp, token?: () => string): Call =>
  async (method, url, body, status = 200) => {
    const t = app();
    const res = await t.call({ method: method as any, url, payload: body as any, auth: token ? token() : t.admin });
    assert.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
    return res.json();
  };

/** Polls an execution until it ends (the route a client uses), bounded. */
export async function executionEnded(call: Call, handle: { executionArn: string }, tenant = 'acme') {
  for (let i = 0; i < 2000; i++) {
    const e = await call('GET', `/executions/${tenant}/${handle.executionArn}`);
    if (e.status !== 'RUNNING') return e;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('execution did not end');
}

export const addDays = (day: string, n: number) => {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
};

/** Candidates per job and e-mails for n = 1 (multiply by n; billing makes one invoice per provider). */
export const EXPECTED = {
  'activate application': 30,
  'expire application': 30,
  'send application reminder': 20,
  'send renewal reminder': 25,
  'forecast renewal': 60,
  'drop certification': 30,
  'bill training provider': 1,
};
export const expectedCounts = (n: number) =>
  Object.fromEntries(Object.entries(EXPECTED).map(([k, v]) => [k, k === 'bill training provider' ? v : v * n]));
export const expectedMails = (n: number) => (30 + 30 + 20 + 25 + 30) * n + 1;

export interface Population {
  run: Record<string, any>;
  programs: Record<string, any>[];
  provider: Record<string, any>;
  certs: Record<string, any>[];
  fees: number[];
}

export async function buildPopulation(tenant: string, call: Call, f: Factory, today: string, n = 1): Promise<Population> {
  const base = `/${tenant}`;
  const ruleSet = await f.oneYearRuleSet();
  const fees = [150, 200];
  const programs = [];
  const initial: Record<string, any>[] = [];
  for (const [i, price] of fees.entries()) {
    const program = await f.create('programs', {
      name: i ? 'Practical Nurse' : 'Registered Nurse',
      expiration_rule_set_id: ruleSet.id,
      next_certification_number: 1000 * (i + 1),
    });
    const fee = await f.create('applicationFees', { name: `Renewal ${i}`, price, program_id: program.id });
    await f.create('applicationProcesses', {
      name: 'Renewal',
      type: 'renewal',
      program_id: program.id,
      application_fee_id: fee.id,
      auto_approve: true,
    });
    initial.push(
      await f.create('applicationProcesses', { name: 'Initial', type: 'certification', program_id: program.id, auto_approve: true }),
    );
    programs.push(program);
  }
  const renewalProcess = (await call('POST', `/applicationProcesses${base}/search`, { type: ['renewal'] })).Items[0];
  await f.create('statusReasons', { name: 'Dropped: not renewed', status: 'inactive' });
  const notice = (name: string, subject: string) =>
    f.create('notices', {
      name,
      email: { subject, body: `<p>Dear {{name}},</p><p>{{program_name}} certificate {{number}} expires on {{expiration_date}}.</p>` },
    });
  const appNotice = (name: string, subject: string) =>
    f.create('applicationNotices', {
      name,
      email: { subject, body: '<p>Dear {{name}}, your {{program_name}} application is {{status}}.</p>' },
    });
  const renewalReminder = await notice('Renewal reminder', 'Renew certificate {{number}}');
  const dropNotice = await notice('Dropped', 'Certificate {{number}} dropped');
  const activationNotice = await appNotice('Welcome', 'Welcome, {{name}}');
  const expiryNotice = await appNotice('Expired', 'Your application expired');
  const appReminder = await appNotice('Application reminder', 'Complete your application');

  // a training provider teaching toward the first programme, 10 registrations to bill at 40 each
  const provider = await f.create('trainingProviders', { name: 'Northside College', email_address: 'billing@northside.test' });
  await call(
    'POST',
    `/trainingProvPrograms${base}`,
    { training_provider_id: provider.id, program_id: programs[0]!.id, course_fee: 40 },
    201,
  );
  const course = await call('POST', `/courses${base}`, { name: 'Refresher' }, 201);
  const offering = await call(
    'POST',
    `/courseOfferings${base}`,
    { name: 'Refresher (Northside)', course_id: course.id, training_provider_id: provider.id, program_ids: [programs[0]!.id] },
    201,
  );
  for (let i = 0; i < 10 * n; i++) {
    await call(
      'POST',
      `/courseRegistrations${base}`,
      { name: `Student ${i}`, student_id: `s-${i}`, course_id: course.id, course_offering_id: offering.id, status: 'registered' },
      201,
    );
  }

  // certifications: k = i % 4 -> 0 due soon (reminder + forecast), 1 later (forecast), 2 lapsed (drop), 3 in grace (nothing)
  const certs = [];
  for (let i = 0; i < 120 * n; i++) {
    const k = i % 4;
    const exp = [addDays(today, 25), addDays(today, 92), addDays(today, -45), addDays(today, -25)][k]!;
    const grace = [addDays(exp, 30), addDays(exp, 30), addDays(today, -14), addDays(today, 5)][k]!;
    certs.push(
      await call(
        'POST',
        `/certifications${base}`,
        {
          number: 100_000 + i,
          contact_id: `c-${i}`,
          program_id: programs[Math.floor(i / 4) % 2]!.id,
          status: 'active',
          name: `Holder ${i}`,
          email_address: `holder${i}@example.test`,
          expiration_date: exp,
          grace_period_end_date: grace,
        },
        201,
      ),
    );
  }
  // five of the due-soon holders are renewing already: no reminder for them
  for (let i = 0; i < 20 * n; i += 4) {
    await call(
      'POST',
      `/applications${base}/generateApplication/${renewalProcess.id}/contact/c-${i}`,
      { name: `Holder ${i}`, type: 'renewal', certification_id: certs[i]!.id },
      201,
    );
  }
  for (let i = 0; i < 30 * n; i++) {
    const app = await call(
      'POST',
      `/applications${base}/generateApplication/${initial[i % 2]!.id}/contact/a-${i}`,
      { name: `Applicant ${i}`, email_address: `applicant${i}@example.test` },
      201,
    );
    assert.equal((await call('POST', `/applications${base}/submit/${app.id}`)).status, 'approved');
  }
  for (let i = 0; i < 30 * n; i++) {
    await call(
      'POST',
      `/applications${base}/generateApplication/${initial[i % 2]!.id}/contact/x-${i}`,
      { name: `Late ${i}`, email_address: `late${i}@example.test`, expiration_date: addDays(today, -14) },
      201,
    );
  }
  for (let i = 0; i < 20 * n; i++) {
    await call(
      'POST',
      `/applications${base}/generateApplication/${initial[i % 2]!.id}/contact/r-${i}`,
      { name: `Slow ${i}`, email_address: `slow${i}@example.test`, expiration_date: addDays(today, 35) },
      201,
    );
  }

  const run = await call(
    'POST',
    `/billingRuns${base}`,
    {
      name: 'June cycle',
      status: 'draft',
      activate_applications: true,
      application_activation_options: { application_notice_id: activationNotice.id },
      expire_applications: true,
      application_expiration_options: {
        expiration_date_range_start: addDays(today, -180),
        expiration_date_range_end: today,
        application_notice_id: expiryNotice.id,
      },
      send_application_reminders: true,
      application_reminder_options: {
        reminders: [
          {
            id: 1,
            name: '5 weeks',
            expiration_date_range_start: addDays(today, 16),
            expiration_date_range_end: addDays(today, 46),
            reminder_notice_id: appReminder.id,
          },
        ],
      },
      send_renewal_reminders: true,
      renewal_reminder_options: {
        reminders: [
          {
            id: 1,
            name: '1 month',
            expiration_date_range_start: addDays(today, 16),
            expiration_date_range_end: addDays(today, 46),
            reminder_notice_id: renewalReminder.id,
          },
        ],
      },
      forecast_renewals: true,
      renewal_forecasting_options: { expiration_date_range_start: addDays(today, 16), expiration_date_range_end: addDays(today, 200) },
      perform_drops: true,
      drop_options: { expiration_date_range_start: addDays(today, -365), expiration_date_range_end: today, drop_notice_id: dropNotice.id },
      bill_training_providers: true,
      training_provider_billing_options: {
        expiration_date_range_start: addDays(today, -30),
        expiration_date_range_end: today,
        invoice_template_id: 'standard',
        payment_terms_id: 'net-30',
        email_invoices_to_training_providers: true,
      },
    },
    201,
  );
  return { run, programs, provider, certs, fees };
}

/** Every record of a lookup or list, all pages. */
export async function listAll(call: Call, url: string): Promise<any[]> {
  const out: any[] = [];
  let key: string | undefined;
  do {
    const sep = url.includes('?') ? '&' : '?';
    const page = await call('GET', `${url}${sep}limit=1000${key ? `&exclusiveStartKey=${encodeURIComponent(key)}` : ''}`);
    out.push(...page.Items);
    key = page.LastEvaluatedKey;
  } while (key);
  return out;
}

/** The end state a run must reach (after refresh + execute), asserted the same way for every test. */
export async function assertEndState(tenant: string, call: Call, p: Population, n: number) {
  const base = `/${tenant}`;
  const actions = await listAll(call, `/billingRunActions${base}/billingRun/${p.run.id}`);
  const byType: Record<string, number> = {};
  for (const a of actions) byType[a.type] = (byType[a.type] ?? 0) + 1;
  assert.deepEqual(byType, expectedCounts(n));
  const notDone = actions.filter((a) => a.status !== 'completed');
  assert.deepEqual(
    notDone.map((a) => [a.type, a.status, a.error_message]),
    [],
  );
  const run = await call('GET', `/billingRuns${base}/${p.run.id}`);
  assert.equal(run.status, 'completed');
  for (const s of run.statistics) assert.equal(s.successful, s.total, JSON.stringify(s));

  const certs = await listAll(call, `/certifications${base}`);
  const byNumber = new Map(certs.map((c) => [c.number, c]));
  for (let i = 0; i < 120 * n; i++) {
    const c = byNumber.get(100_000 + i)!;
    const k = i % 4;
    assert.equal(c.status, k === 2 ? 'inactive' : 'active', `certification ${i}`);
    if (k === 2) assert.ok(c.status_reason_id, 'a drop records its status reason');
    if (k <= 1) assert.equal(c.forecasted_renewal_amount, p.fees[Math.floor(i / 4) % 2], `forecast of ${i}`);
    else assert.equal(c.forecasted_renewal_amount, undefined);
  }
  // the 30 activations made 30 new certifications with numbers from the programmes' counters
  assert.equal(certs.length, 150 * n);
  const apps = await listAll(call, `/applications${base}`);
  const count = (status: string) => apps.filter((a) => a.status === status).length;
  assert.equal(count('activated'), 30 * n);
  assert.equal(count('expired'), 30 * n);
  const invoices = await listAll(call, `/invoices${base}/trainingProvider/${p.provider.id}`);
  assert.equal(invoices.length, 1);
  assert.equal(invoices[0].lines.length, 10 * n);
  assert.equal(invoices[0].total, 400 * n);
  assert.equal(invoices[0].emailed_to, 'billing@northside.test');
}
