import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';
import type { Clock } from '../../src/core/clock.js';
import { asTenant } from '../../src/store/tenant-scope.js';
import { outboxFor, type OutgoingMail } from '../../src/mail/index.js';
import { buildApp } from '../../src/app.js';
import { createVerifier } from '../../src/http/auth.js';

/**
 * Random CE audits (issue 17, item 5): a process with an audit_rate draws each submitted application
 * (requirements met) once; the draw, the rate and the result are recorded on it; a selected one stays
 * pending approval with a requested audit and an audit notice, cannot be approved (by any route) until
 * its audit passed, and a failed audit rejects it and gives its credits back. Statistics count audits
 * by status. The draw is pinned here through the test-only AppDeps.auditDraw: a scripted value when
 * the test sets one, else a seeded generator (mulberry32), so every run draws the same numbers.
 */
let t: TestApp;
let f: Factory;
const now = new Date('2026-03-02T10:00:00Z');
const clock: Clock = { now: () => now };

/** mulberry32: a small seeded generator, the same sequence on every run. */
function seeded(seed: number) {
  let a = seed >>> 0;
  return (range: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return Math.floor((((x ^ (x >>> 14)) >>> 0) / 4294967296) * range);
  };
}
const SEED = 17;
let generator = seeded(SEED);
/** Values the next draws return (scripted), before the seeded generator takes over again. */
const next: number[] = [];
let draws = 0;
const auditDraw = (range: number) => {
  draws++;
  return next.length ? next.shift()! : generator(range);
};

type R = Record<string, any>;
/** Staff integrations and the portal hold write tokens; admin tokens repair data. */
let auth: string | undefined;
const send = (method: string, url: string, payload?: unknown) =>
  t.call({ method: method as any, url, payload: payload as any, auth: auth ?? t.admin });
const call = async (method: string, url: string, payload?: unknown, status = 200): Promise<R> => {
  const res = await send(method, url, payload);
  assert.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
  return res.json();
};
const refuse = async (method: string, url: string, payload: unknown, pattern: RegExp, status = 409) => {
  const res = await send(method, url, payload);
  assert.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
  assert.match(res.json().message + JSON.stringify(res.json().errors ?? []), pattern);
  return res.json();
};
const outbox = (source: string) => asTenant('acme', () => outboxFor(t.store.db, 'acme', source));
const message = (row: { message: string }) => JSON.parse(row.message) as OutgoingMail;

let program: R, ceType: R, notice: R, audited: R, staff: R;
before(async () => {
  t = await startApp({ clock, auditDraw });
  f = new Factory(t, t.admin);
  const ruleSet = await f.oneYearRuleSet({ midMonth: false });
  program = await f.create('programs', { name: 'Registered Nurse', next_certification_number: 1, expiration_rule_set_id: ruleSet.id });
  ceType = await f.create('creditTypes', { name: 'CE hours' });
  notice = await call(
    'POST',
    '/applicationNotices/acme',
    {
      name: 'CE audit',
      email: {
        subject: 'Your {{program_name}} renewal was selected for a CE audit',
        body: '<p>Dear {{name}}, send your CE certificates by {{documents_due_date}}.</p>',
      },
    },
    201,
  );
  const ce = [{ credit_type_id: ceType.id, quantity: 10 }];
  audited = await f.create('applicationProcesses', {
    name: 'Audited, automatic',
    type: 'certification',
    program_id: program.id,
    auto_approve: true,
    credit_requirements: ce,
    audit_rate: 10,
    audit_documents_due_days: 14,
    audit_notice_id: notice.id,
  });
  staff = await f.create('applicationProcesses', {
    name: 'Audited, staff',
    type: 'certification',
    program_id: program.id,
    credit_requirements: ce,
    audit_rate: 25,
  });
});
after(() => t.close());

let n = 0;
/** A new applicant with 10 verified CE hours, and a draft of `process`. */
async function applicant(process: R) {
  const who = `nurse-${++n}`;
  const credit = await f.create('credits', { contact_id: who, type_id: ceType.id, quantity: 10, status: 'verified', date: '2026-01-10' });
  const app = await call(
    'POST',
    `/applications/acme/generateApplication/${process.id}/contact/${who}`,
    { name: `Nurse ${n}`, email_address: `${who}@example.org` },
    201,
  );
  return { app, credit };
}
const submit = (app: R) => call('POST', `/applications/acme/submit/${app.id}`);
const audit = (app: R, body: R, status = 200) => call('POST', `/applications/acme/audit/${app.id}`, body, status);
const usedOf = async (credit: R) => (await call('GET', `/credits/acme/${credit.id}`)).quantity_used ?? 0;

describe('the draw at submit', () => {
  test('not selected: recorded (rate, draw, result) and approved automatically as before', async () => {
    const { app } = await applicant(audited);
    next.push(1000); // 10 % = draws 0..999
    const s = await submit(app);
    assert.equal(s.status, 'approved');
    assert.deepEqual(s.audit, { rate: 10, draw: 1000, selected: false, drawn_at: '2026-03-02T10:00:00.000Z', status: 'not selected' });
    assert.equal((await outbox(`applications/${app.id}`)).length, 0, 'no audit notice');
  });

  test('selected: pending approval (not approved automatically), a requested audit due in 14 days, the audit notice queued', async () => {
    const { app, credit } = await applicant(audited);
    next.push(999);
    const s = await submit(app);
    assert.equal(s.status, 'pending approval');
    assert.deepEqual(s.audit, {
      rate: 10,
      draw: 999,
      selected: true,
      drawn_at: '2026-03-02T10:00:00.000Z',
      status: 'requested',
      requested_at: '2026-03-02T10:00:00.000Z',
      documents_due_date: '2026-03-16',
      notice: 'queued',
    });
    assert.equal(await usedOf(credit), 10, 'the audited credits are held by the application');
    const mails = await outbox(`applications/${app.id}`);
    assert.equal(mails.length, 1);
    assert.equal(mails[0]!.id, `applicationNotices/${notice.id}/${app.id}/audit`);
    assert.equal(mails[0]!.to_address, `${app.contact_id}@example.org`);
    const m = message(mails[0]!);
    assert.equal(m.subject, 'Your Registered Nurse renewal was selected for a CE audit');
    assert.match(m.html, /send your CE certificates by 2026-03-16/);
  });

  test('the draw happens once per application: a resubmission keeps it and the audit', async () => {
    const { app } = await applicant(staff);
    next.push(0);
    const s = await submit(app);
    assert.equal(s.audit.status, 'requested');
    assert.equal(s.audit.notice, 'not sent: the process names no audit notice');
    await call('PATCH', `/applications/acme/${app.id}`, [{ op: 'replace', path: '/status', value: 'missing requirements' }]);
    const before = draws;
    const again = await submit(app);
    assert.equal(draws, before, 'no second draw');
    assert.equal(again.status, 'pending approval');
    assert.deepEqual(again.audit, s.audit);
  });

  test('no draw while requirements are missing, nor for a process without an audit rate', async () => {
    const plain = await f.create('applicationProcesses', {
      name: 'Not audited',
      type: 'certification',
      program_id: program.id,
      auto_approve: true,
    });
    const before = draws;
    const a = await call('POST', `/applications/acme/generateApplication/${plain.id}/contact/plain-1`, {}, 201);
    const s = await submit(a);
    assert.equal(s.status, 'approved');
    assert.equal(s.audit, undefined);
    const b = await call('POST', `/applications/acme/generateApplication/${audited.id}/contact/no-credits`, {}, 201);
    const m = await submit(b);
    assert.equal(m.status, 'missing requirements');
    assert.equal(m.audit, undefined);
    assert.equal(draws, before);
  });

  test('the seeded draw pins the rate: exactly the draws below 25 % of the range are selected', async () => {
    generator = seeded(SEED + 1);
    const expected = seeded(SEED + 1);
    let selected = 0;
    for (let i = 0; i < 24; i++) {
      const { app } = await applicant(staff);
      const want = expected(10_000);
      const s = await submit(app);
      assert.equal(s.audit.draw, want);
      assert.equal(s.audit.rate, 25);
      assert.equal(s.audit.selected, want < 2500, `draw ${want}`);
      assert.equal(s.audit.status, want < 2500 ? 'requested' : 'not selected');
      if (s.audit.selected) selected++;
    }
    assert.ok(selected > 0 && selected < 24, `some but not all selected (${selected})`);
  });
});

describe('a selected application waits for its audit', () => {
  let app: R;
  let credit: R;
  before(async () => {
    ({ app, credit } = await applicant(audited));
    next.push(5);
    app = await submit(app);
    assert.equal(app.audit.status, 'requested');
  });

  test('it cannot be approved before its audit passed, by any route', async () => {
    await refuse(
      'POST',
      `/applications/acme/approve/${app.id}`,
      {},
      /selected for a CE audit, which is requested \(documents due 2026-03-16\); it can be approved once the audit passed/,
    );
    auth = await t.token({ scope: 'certifications:write' });
    await refuse('POST', `/applications/acme/approve/${app.id}`, {}, /selected for a CE audit/);
    auth = undefined;
    await refuse(
      'PATCH',
      `/applications/acme/${app.id}`,
      [{ op: 'replace', path: '/status', value: 'approved' }],
      /selected for a CE audit/,
    );
    const batch = await call('POST', '/applications/acme/batch', {
      operations: [{ operation: 'patch', id: app.id, patch_directives: [{ op: 'replace', path: '/status', value: 'approved' }] }],
    });
    assert.equal(batch.results[0].status, 409, JSON.stringify(batch));
    assert.match(batch.results[0].error.message, /selected for a CE audit/);
    assert.equal((await call('GET', `/applications/acme/${app.id}`)).status, 'pending approval');
  });

  test('its audit record cannot be written directly (a write token); an admin token may correct it', async () => {
    auth = await t.token({ scope: 'certifications:write' });
    await refuse(
      'PATCH',
      `/applications/acme/${app.id}`,
      [{ op: 'replace', path: '/audit/status', value: 'passed' }],
      /"field":"audit","reason":"cannot be written directly"/,
    );
    await refuse('PATCH', `/applications/acme/${app.id}`, [{ op: 'remove', path: '/audit' }], /cannot be written directly/);
    const current = await call('GET', `/applications/acme/${app.id}`);
    const {
      id,
      sys_version,
      sys_created_at,
      sys_created_by_id,
      sys_last_modified_at,
      sys_last_modified_by_id,
      sys_last_security_context,
      ...body
    } = current;
    await refuse(
      'PUT',
      `/applications/acme/${app.id}`,
      { ...body, audit: { ...body.audit, status: 'passed' } },
      /cannot be written directly/,
    );
    // the same record, its members in another order, is no change
    const reordered = Object.fromEntries(Object.entries(body.audit as R).reverse());
    assert.equal(
      (await call('PUT', `/applications/acme/${app.id}`, { ...body, audit: reordered, decision_notes: 'reviewing' })).decision_notes,
      'reviewing',
    );
    // nor can a new application be created with one
    await refuse(
      'POST',
      '/applications/acme',
      {
        owner_type: 'contact',
        contact_id: 'x',
        type: 'certification',
        program_id: program.id,
        date: '2026-03-02',
        bucket_id: 'b',
        status: 'pending approval',
        audit: { ...body.audit, status: 'passed' },
      },
      /cannot be written directly/,
    );
    // the audit route itself is a staff (write) route
    await refuse('POST', `/applications/acme/audit/${app.id}`, {}, /"field":"status"/, 400);
    auth = undefined;
    const fixed = await call('PATCH', `/applications/acme/${app.id}`, [
      { op: 'replace', path: '/audit/documents_due_date', value: '2026-03-20' },
    ]);
    assert.equal(fixed.audit.documents_due_date, '2026-03-20');
    assert.equal(fixed.sys_last_security_context.user_id, 'tester');
  });

  test("the audit route checks its body and the audit's state", async () => {
    await refuse('POST', `/applications/acme/audit/${app.id}`, {}, /"field":"status"/, 400);
    await refuse('POST', `/applications/acme/audit/${app.id}`, { status: 'requested' }, /"field":"status"/, 400);
    await refuse(
      'POST',
      `/applications/acme/audit/${app.id}`,
      { status: 'failed' },
      /"field":"reason","reason":"is required when the audit failed"/,
      400,
    );
    await refuse('POST', `/applications/acme/audit/${app.id}`, { status: 'passed', reason: 5 }, /"field":"reason"/, 400);
    await refuse('POST', '/applications/acme/audit/nope', { status: 'passed' }, /not found/, 404);
    const notSelected = (await call('POST', '/applications/acme/search', { audit_status: ['not selected'] })).Items[0];
    await refuse('POST', `/applications/acme/audit/${notSelected.id}`, { status: 'passed' }, /was not selected for an audit/);
  });

  test('documents submitted, then the audit passes: approved at once (the process approves automatically), then activated', async () => {
    now.setUTCDate(now.getUTCDate() + 5);
    const s = await audit(app, { status: 'submitted' });
    assert.equal(s.status, 'pending approval');
    assert.equal(s.audit.status, 'submitted');
    assert.equal(s.audit.submitted_at, '2026-03-07T10:00:00.000Z');
    await refuse('POST', `/applications/acme/approve/${app.id}`, {}, /which is submitted/);
    const p = await audit(app, { status: 'passed', reason: 'certificates match the claimed hours' });
    assert.equal(p.status, 'approved');
    assert.equal(p.audit.status, 'passed');
    assert.equal(p.audit.decided_at, '2026-03-07T10:00:00.000Z');
    assert.equal(p.audit.decided_by_id, 'tester');
    assert.equal(p.audit.outcome_reason, 'certificates match the claimed hours');
    assert.equal(p.audit.draw, 5, 'the draw stays on record');
    await refuse('POST', `/applications/acme/audit/${app.id}`, { status: 'failed', reason: 'late' }, /already passed/);
    const out = await call('POST', `/applications/acme/activate/${app.id}`);
    assert.equal(out.certification.number, 1);
    assert.equal(await usedOf(credit), 10);
    now.setUTCDate(now.getUTCDate() - 5);
  });

  test('with a staff process, a passed audit leaves the approval to staff, who can then approve', async () => {
    const { app: a } = await applicant(staff);
    next.push(1);
    await submit(a);
    const p = await audit(a, { status: 'passed' });
    assert.equal(p.status, 'pending approval');
    assert.equal((await call('POST', `/applications/acme/approve/${a.id}`, {})).status, 'approved');
  });

  test('a failed audit rejects the application and gives its credits back', async () => {
    const { app: a, credit: c } = await applicant(staff);
    next.push(2);
    await submit(a);
    assert.equal(await usedOf(c), 10);
    const failed = await audit(a, { status: 'failed', reason: 'no certificates for 6 of the 10 hours' });
    assert.equal(failed.status, 'rejected');
    assert.equal(failed.audit.status, 'failed');
    assert.equal(failed.audit.outcome_reason, 'no certificates for 6 of the 10 hours');
    assert.equal(failed.decision_notes, 'CE audit failed: no certificates for 6 of the 10 hours');
    assert.equal(await usedOf(c), 0, 'credits given back');
    const credit2 = await call('GET', `/credits/acme/${c.id}`);
    assert.equal(credit2.quantity_available, 10);
    assert.deepEqual(credit2.usages, []);
    await refuse('POST', `/applications/acme/audit/${a.id}`, { status: 'passed' }, /already failed/);
  });

  test('an audit is recorded only while the application is pending approval', async () => {
    const { app: a } = await applicant(staff);
    next.push(3);
    await submit(a);
    await call('POST', `/applications/acme/withdraw/${a.id}`);
    await refuse(
      'POST',
      `/applications/acme/audit/${a.id}`,
      { status: 'passed' },
      /while the application is pending approval; this one is withdrawn/,
    );
  });
});

test('statistics count audits by status, per programme and in total; the search finds them', async () => {
  const all = (
    await call('POST', '/applications/acme/search?limit=1000', {
      audit_status: ['not selected', 'requested', 'submitted', 'passed', 'failed'],
    })
  ).Items;
  const want: Record<string, number> = { not_selected: 0, requested: 0, submitted: 0, passed: 0, failed: 0 };
  for (const a of all) want[a.audit.status.replace(' ', '_')]!++;
  assert.ok(want.passed! >= 2 && want.failed! >= 1 && want.requested! >= 1 && want.not_selected! >= 1, JSON.stringify(want));
  const stats = await call('GET', '/statistics/acme/programs');
  assert.deepEqual(stats.audits, { total: all.length, ...want });
  const mine = stats.programs.find((p: R) => p.program_id === program.id);
  assert.deepEqual(mine.audits, { total: all.length, ...want });
  const failed = (await call('POST', '/applications/acme/search', { audit_status: ['failed'] })).Items;
  assert.equal(failed.length, want.failed);
});

test('without a pinned draw, the draw is crypto.randomInt: rate 100 always selects, rate 0 never', async () => {
  const real = await startApp({ clock });
  try {
    const call2 = async (method: string, url: string, payload?: unknown, status = 200) => {
      const res = await real.call({ method: method as any, url, payload: payload as any, auth: real.admin });
      assert.equal(res.statusCode, status, res.body);
      return res.json();
    };
    const prog = await call2('POST', '/programs/acme', { name: 'P' }, 201);
    const always = await call2(
      'POST',
      '/applicationProcesses/acme',
      { name: 'All', type: 'certification', program_id: prog.id, audit_rate: 100, auto_approve: true },
      201,
    );
    const never = await call2(
      'POST',
      '/applicationProcesses/acme',
      { name: 'None', type: 'certification', program_id: prog.id, audit_rate: 0, auto_approve: true },
      201,
    );
    const seen = new Set<number>();
    for (let i = 0; i < 5; i++) {
      for (const [p, selected] of [
        [always, true],
        [never, false],
      ] as const) {
        const a = await call2('POST', `/applications/acme/generateApplication/${p.id}/contact/r-${i}`, {}, 201);
        const s = await call2('POST', `/applications/acme/submit/${a.id}`);
        assert.equal(s.audit.selected, selected);
        assert.equal(s.status, selected ? 'pending approval' : 'approved');
        assert.ok(Number.isInteger(s.audit.draw) && s.audit.draw >= 0 && s.audit.draw < 10_000, String(s.audit.draw));
        seen.add(s.audit.draw);
      }
    }
    assert.ok(seen.size > 1, 'the draws vary');
    await call2('POST', '/applicationProcesses/acme', { name: 'Bad', type: 'certification', program_id: prog.id, audit_rate: 150 }, 400);
  } finally {
    await real.close();
  }
});

test('the draw can be pinned only under the test runner', async () => {
  const saved = { ctx: process.env.NODE_TEST_CONTEXT, env: process.env.NODE_ENV };
  delete process.env.NODE_TEST_CONTEXT;
  delete process.env.NODE_ENV;
  try {
    await assert.rejects(
      buildApp({
        config: t.config,
        store: t.store,
        verifier: createVerifier(t.config),
        logger: false,
        background: false,
        auditDraw: () => 0,
      }),
      /auditDraw is a test-only dependency/,
    );
  } finally {
    if (saved.ctx !== undefined) process.env.NODE_TEST_CONTEXT = saved.ctx;
    if (saved.env !== undefined) process.env.NODE_ENV = saved.env;
  }
});
