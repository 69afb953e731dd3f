import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';
import type { Clock } from '../../src/core/clock.js';
import { asTenant } from '../../src/store/tenant-scope.js';
import { outboxFor, type OutgoingMail } from '../../src/mail/index.js';

/** Notices through HTTP: status changes and exam outcomes queue their e-mail once; bad templates are refused. */
let t: TestApp;
let f: Factory;
const now = new Date('2026-04-01T10:00:00Z');
const clock: Clock = { now: () => now };

type R = Record<string, any>;
const send = (method: string, url: string, payload?: unknown) =>
  t.call({ method: method as any, url, payload: payload as any, auth: t.admin });
const call = async (method: string, url: string, payload?: unknown, status = 200): Promise<R> => {
  const res = await send(method, url, payload);
  assert.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
  return res.json();
};
const patch = (slug: string, id: string, changes: R, status = 200) =>
  call(
    'PATCH',
    `/${slug}/acme/${id}`,
    Object.entries(changes).map(([k, value]) => ({ op: 'add', path: `/${k}`, value })),
    status,
  );
const outbox = (source: string) => asTenant('acme', () => outboxFor(t.store.db, 'acme', source));
const message = (row: { message: string }) => JSON.parse(row.message) as OutgoingMail;

let program: R, other: R;
before(async () => {
  t = await startApp({ clock });
  f = new Factory(t, t.admin);
  program = await f.create('programs', { name: 'Registered Nurse' });
  other = await f.create('programs', { name: 'Midwife' });
});
after(() => t.close());

const notice = (name: string, statuses: string[], extra: R = {}) =>
  call(
    'POST',
    '/applicationNotices/acme',
    {
      name,
      restrict_to_certain_statuses: true,
      applicable_statuses: statuses,
      email: {
        subject: `${name}: {{program_name}}`,
        body: '<p>Dear {{name}}, your {{application_type}} application is {{status}}.</p>',
        reply_to: 'registrar@example.org',
      },
      is_active: true,
      ...extra,
    },
    201,
  );

const application = (extra: R = {}) =>
  call(
    'POST',
    '/applications/acme',
    {
      owner_type: 'contact',
      contact_id: 'c-1',
      type: 'certification',
      program_id: program.id,
      date: '2026-04-01',
      bucket_id: 'b',
      name: 'Ada <Lovelace>',
      email_address: 'ada@example.org',
      ...extra,
    },
    201,
  );

describe('application notices', () => {
  let approvedNotice: R;
  before(async () => {
    approvedNotice = await notice('Approved', ['approved']);
    await notice('Submitted', ['pending approval']);
    await notice('Rejected', ['rejected']);
    await notice('Switched off', ['approved'], { is_active: false });
    await notice('Other programme', ['approved'], { restrict_to_certain_programs: true, restricted_program_ids: [other.id] });
    // Lists no status: never sent on a status change (billing runs and staff send such notices).
    await call('POST', '/applicationNotices/acme', { name: 'No template for staff', email: { subject: 'x', body: 'y' } }, 201);
  });

  test('approving an application queues exactly the applicable notice, once, rendered for the applicant', async () => {
    const app = await application({ status: 'pending approval' });
    const created = await outbox(`applications/${app.id}`);
    assert.deepEqual(
      created.map((r) => message(r).subject),
      ['Submitted: Registered Nurse'],
      'a create with a status counts as a change',
    );

    const approved = await call('POST', `/applications/acme/approve/${app.id}`, { decision_notes: 'ok' });
    assert.equal(approved.status, 'approved');
    const rows = (await outbox(`applications/${app.id}`)).filter((r) => r.id.startsWith(`applicationNotices/${approvedNotice.id}/`));
    assert.equal(rows.length, 1);
    const [row] = rows;
    assert.equal(row!.id, `applicationNotices/${approvedNotice.id}/${app.id}/approved/${approved.sys_version}`);
    // The app's own sender may already have taken it (it polls while the test runs).
    assert.ok(['queued', 'sending', 'sent'].includes(row!.status), row!.status);
    assert.equal(row!.to_address, 'ada@example.org');
    const m = message(row!);
    assert.equal(m.subject, 'Approved: Registered Nurse');
    assert.equal(m.html, '<p>Dear Ada &lt;Lovelace&gt;, your certification application is approved.</p>');
    assert.equal(m.text, 'Dear Ada <Lovelace>, your certification application is approved.');
    assert.equal(m.replyTo, 'registrar@example.org');
    assert.equal(m.from, 'accredit <no-reply@localhost>');
    assert.equal((await outbox(`applications/${app.id}`)).length, 2, 'submitted + approved; no other notice applied');

    // Writes that do not change the status queue nothing.
    await patch('applications', app.id, { decision_notes: 'still ok' });
    await patch('applications', app.id, { status: 'approved' });
    assert.equal((await outbox(`applications/${app.id}`)).length, 2);
  });

  test('an application without an e-mail address queues nothing; one that stays draft neither', async () => {
    const silent = await application({ status: 'pending approval', email_address: undefined });
    await call('POST', `/applications/acme/approve/${silent.id}`);
    assert.equal((await outbox(`applications/${silent.id}`)).length, 0);
    const draft = await application();
    assert.equal((await outbox(`applications/${draft.id}`)).length, 0);
  });

  test('in a batch, a status change queues its notice with it; a refused one queues nothing', async () => {
    const app = await application({ status: 'pending approval' });
    const res = await send('POST', '/applications/acme/batch', {
      operations: [
        { operation: 'patch', id: app.id, patch_directives: [{ op: 'replace', path: '/status', value: 'approved' }] },
        { operation: 'patch', id: app.id, patch_directives: [{ op: 'replace', path: '/status', value: 'draft' }] },
      ],
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(
      res.json().results.map((r: R) => r.status),
      [200, 409],
    );
    const rows = await outbox(`applications/${app.id}`);
    assert.deepEqual(rows.map((r) => r.id.split('/').slice(3, 4)[0]).sort(), ['approved', 'pending approval']);
  });
});

describe('exam letters', () => {
  test('a scored registration queues its letter once, to the candidate', async () => {
    const pass = await call(
      'POST',
      '/examNotices/acme',
      { name: 'Pass', email: { subject: 'You passed {{exam_name}}', body: 'Dear {{first_name}},\nscore {{score}}.' } },
      201,
    );
    const fail = await call(
      'POST',
      '/examNotices/acme',
      { name: 'Fail', email: { subject: 'Result of {{exam_name}}', body: 'Sorry.' } },
      201,
    );
    const exam = await call(
      'POST',
      '/exams/acme',
      { name: 'Board exam', passing_score: 70, pass_letter_id: pass.id, fail_letter_id: fail.id },
      201,
    );
    const fee = await f.create('examFees', { exam_id: exam.id });
    const sitting = await call(
      'POST',
      '/examOfferings/acme',
      { name: 'April', type: 'live', exam_id: exam.id, location: 'none', date: '2026-04-01', fee_id: fee.id },
      201,
    );
    const reg = await call(
      'POST',
      '/examRegistrations/acme',
      {
        name: 'Grace Hopper',
        first_name: 'Grace',
        student_id: 'g-1',
        email_address: 'grace@example.org',
        exam_id: exam.id,
        exam_offering_id: sitting.id,
        date: '2026-03-10',
        status: 'registered',
      },
      201,
    );
    assert.equal((await outbox(`examRegistrations/${reg.id}`)).length, 0);
    const passed = await patch('examRegistrations', reg.id, { score: 88 });
    assert.equal(passed.status, 'passed');
    assert.equal(passed.notices[0].status, 'queued');
    let rows = await outbox(`examRegistrations/${reg.id}`);
    assert.deepEqual(
      rows.map((r) => r.id),
      [`examRegistrations/${reg.id}/${pass.id}/pass letter`],
    );
    assert.equal(rows[0]!.to_address, 'grace@example.org');
    assert.equal(message(rows[0]!).subject, 'You passed Board exam');
    assert.equal(message(rows[0]!).text, 'Dear Grace,\nscore 88.');
    // Another write that keeps the letter entry as it was queues nothing more.
    await patch('examRegistrations', reg.id, { notes: 'checked' });
    rows = await outbox(`examRegistrations/${reg.id}`);
    assert.equal(rows.length, 1);
  });
});

describe('templates are checked when a notice is written', () => {
  const bad = (email: R) => ({ name: 'Bad', email });
  for (const slug of ['applicationNotices', 'notices', 'examNotices']) {
    test(`${slug}: a body that does not compile is a 400 naming email.body; a bad subject names email.subject`, async () => {
      const res = await send('POST', `/${slug}/acme`, bad({ subject: 'ok', body: 'Hello {{#if}' }));
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().errors[0].field, 'email.body');
      assert.match(res.json().errors[0].reason, /not a valid template \(Parse error/);
      const subject = await send('POST', `/${slug}/acme`, bad({ subject: '{{#if}}x{{/if}}', body: 'fine' }));
      assert.equal(subject.statusCode, 400, subject.body);
      assert.equal(subject.json().errors[0].field, 'email.subject');

      const good = await call('POST', `/${slug}/acme`, bad({ subject: 'ok {{name}}', body: '<p>{{#if name}}{{name}}{{/if}}</p>' }), 201);
      const put = await send('PUT', `/${slug}/acme/${good.id}`, bad({ subject: 'ok', body: '{{/each}}' }));
      assert.equal(put.statusCode, 400, put.body);
      assert.equal(put.json().errors[0].field, 'email.body');
    });
  }
});
