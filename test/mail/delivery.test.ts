import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMailApp, type CapturedMail, type MailApp } from './capture.js';
import type { TestApp } from '../helpers.js';
import type { Factory } from '../factory.js';
import type { Clock } from '../../src/core/clock.js';

/**
 * Delivery is visible on the record a mail is about: an exam letter's notices[] entry is queued when
 * the outcome is recorded, then the mailer (through a real SMTP server on loopback) marks it sent or,
 * once it gives up, failed with the error; a letter that cannot or may not go out is `not sent` with
 * its `status_reason` from the start and nothing is sent.
 */
let now = new Date('2026-04-01T10:00:00.000Z');
const clock: Clock = { now: () => now };
let t: TestApp;
let f: Factory;
let m: MailApp;
let mails: CapturedMail[] = [];
type R = Record<string, any>;

const send = (method: string, url: string, payload?: unknown) =>
  t.call({ method: method as any, url, payload: payload as any, auth: t.admin });
const call = async (method: string, url: string, payload?: unknown, status = 200): Promise<R> => {
  const res = await send(method, url, payload);
  assert.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
  return res.json();
};
const drain = () => m.drain();

before(async () => {
  m = await startMailApp({ clock, refuse: (address) => address.startsWith('bounce') });
  ({ t, f } = m);
  mails = m.smtp.mails;
});
after(() => m?.close());

let n = 0;
/** An exam (passing score 70) with its pass letter, and a sitting of it. */
async function sitting(letter: R = {}) {
  const pass = await call(
    'POST',
    '/examNotices/acme',
    {
      name: `Pass ${++n}`,
      email: { subject: `You passed {{exam_name}} (${n})`, body: 'Dear {{first_name}}, score {{score}}.' },
      ...letter,
    },
    201,
  );
  const exam = await call('POST', '/exams/acme', { name: `Board exam ${n}`, passing_score: 70, pass_letter_id: pass.id }, 201);
  const fee = await f.create('examFees', { exam_id: exam.id });
  const offering = await call(
    'POST',
    '/examOfferings/acme',
    { name: `April ${n}`, type: 'live', exam_id: exam.id, location: 'none', date: '2026-04-01', fee_id: fee.id },
    201,
  );
  return { pass, exam, offering };
}

/** A candidate registered for the sitting, then scored 88 (passed): the registration as answered. */
async function passed(s: Awaited<ReturnType<typeof sitting>>, email?: string) {
  const reg = await call(
    'POST',
    '/examRegistrations/acme',
    {
      name: 'Grace Hopper',
      first_name: 'Grace',
      student_id: `g-${++n}`,
      ...(email ? { email_address: email } : {}),
      exam_id: s.exam.id,
      exam_offering_id: s.offering.id,
      date: '2026-03-10',
      status: 'registered',
    },
    201,
  );
  const scored = await call('PATCH', `/examRegistrations/acme/${reg.id}`, [{ op: 'add', path: '/score', value: 88 }]);
  assert.equal(scored.status, 'passed');
  return scored;
}
const letter = async (id: string) => (await call('GET', `/examRegistrations/acme/${id}`)).notices[0] as R;

test('a letter that went out is marked sent, with the date the mail server took it', async () => {
  const s = await sitting();
  const reg = await passed(s, 'grace@example.org');
  assert.equal(reg.notices.length, 1);
  assert.equal(reg.notices[0].status, 'queued');
  await drain();
  const entry = await letter(reg.id);
  assert.equal(entry.status, 'sent', JSON.stringify(entry));
  assert.equal(entry.sent_date, now.toISOString());
  assert.equal(entry.status_reason, undefined);
  assert.deepEqual(
    mails.filter((m) => m.subject === `You passed ${s.exam.name} (${n - 1})`).map((m) => m.to),
    ['grace@example.org'],
  );
  const got = await call('GET', `/examRegistrations/acme/${reg.id}`);
  assert.equal(got.sys_last_security_context.via, 'mailer');
  assert.equal(got.status, 'passed', 'the write-back changes the letter, nothing else');
  assert.equal(got.score, 88);

  // Re-scored to a fail and back to a pass: the same letter again is not sent twice, and says so.
  now = new Date(now.getTime() + 60_000);
  await call('PATCH', `/examRegistrations/acme/${reg.id}`, [{ op: 'replace', path: '/score', value: 50 }]);
  const again = await call('PATCH', `/examRegistrations/acme/${reg.id}`, [{ op: 'replace', path: '/score', value: 90 }]);
  assert.deepEqual(
    again.notices.map((e: R) => [e.status, e.status_reason]),
    [
      ['sent', undefined],
      ['not sent', 'already queued'],
    ],
  );
  await drain();
  assert.equal(mails.filter((m) => m.to === 'grace@example.org').length, 1);
});

test('a candidate without an e-mail address: the letter is "not sent: no address", never queued nor completed', async () => {
  const before = mails.length;
  const s = await sitting();
  const reg = await passed(s);
  assert.deepEqual([reg.notices[0].status, reg.notices[0].status_reason], ['not sent', 'no address']);
  assert.equal(reg.notices[0].exam_notice_id, s.pass.id);
  await drain();
  assert.deepEqual([(await letter(reg.id)).status, (await letter(reg.id)).status_reason], ['not sent', 'no address']);
  assert.equal(mails.length, before, 'nothing sent');
});

test('a letter switched off, or limited to other exams, is not sent and says why', async () => {
  const before = mails.length;
  const off = await passed(await sitting({ is_active: false }), 'off@example.org');
  assert.deepEqual([off.notices[0].status, off.notices[0].status_reason], ['not sent', 'notice inactive']);
  const other = await call('POST', '/exams/acme', { name: 'Another exam' }, 201);
  const elsewhere = await passed(
    await sitting({ restrict_to_certain_exams: true, restricted_exam_ids: [other.id] }),
    'elsewhere@example.org',
  );
  assert.deepEqual([elsewhere.notices[0].status, elsewhere.notices[0].status_reason], ['not sent', 'notice limited to other exams']);
  await drain();
  assert.equal(mails.length, before, 'nothing sent');
  assert.equal((await letter(off.id)).status, 'not sent');
});

test('a letter the mail server keeps refusing: queued while retried, then failed with the error', async () => {
  const reg = await passed(await sitting(), 'bounce@example.org');
  await drain();
  assert.equal((await letter(reg.id)).status, 'queued', 'a retry is not an outcome yet');
  // the retries come due as time goes on (back-off 2^attempts s); after the last one it is given up
  for (let i = 0; i < 12 && (await letter(reg.id)).status === 'queued'; i++) {
    now = new Date(now.getTime() + 2 * 3600_000);
    await drain();
  }
  const entry = await letter(reg.id);
  assert.equal(entry.status, 'failed', JSON.stringify(entry));
  assert.match(entry.status_reason, /unavailable/);
  assert.equal(entry.sent_date, undefined);
  assert.equal(mails.filter((m) => m.to === 'bounce@example.org').length, 0);
});
