import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { freshDatabase, type TestDb } from '../helpers.js';
import { migrate } from '../../src/store/migrate.js';
import { openStore, type Store } from '../../src/store/store.js';
import { asSystem, asTenant } from '../../src/store/tenant-scope.js';
import { tableSpecs } from '../../src/resources/index.js';
import {
  createMailTransport,
  enqueueMail,
  MailSender,
  messageIdFor,
  outboxFor,
  outboxJson,
  type OutgoingMail,
} from '../../src/mail/index.js';

/**
 * The outbox and its sender against a real SMTP server on loopback: each mail queued once per key,
 * sent once, retried with back-off when the server refuses, never twice when two senders race.
 */
interface Received {
  to: string[];
  subject: string;
  messageId: string;
  raw: string;
}

let db: TestDb;
let store: Store;
let now = new Date('2026-03-01T09:00:00.000Z');
const clock = { now: () => now };
const received: Received[] = [];
let refuse = false;
let server: SMTPServer;
let smtpUrl: string;

const header = (raw: string, name: string) =>
  new RegExp(`^${name}: (.*(?:\\r?\\n[ \\t].*)*)`, 'im').exec(raw)?.[1]?.replace(/\r?\n[ \t]/g, ' ');

before(async () => {
  db = await freshDatabase();
  store = await openStore(db.url, { pgPoolMax: 4 });
  await migrate(store, tableSpecs());
  server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(_address, _session, cb) {
      if (refuse) return cb(Object.assign(new Error('mailbox busy, try later'), { responseCode: 450 }));
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        received.push({
          to: session.envelope.rcptTo.map((a) => a.address),
          subject: header(raw, 'Subject') ?? '',
          messageId: header(raw, 'Message-ID') ?? '',
          raw,
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  smtpUrl = `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await store.close();
  await db.drop();
});

const mail = (to: string, subject: string): OutgoingMail => ({
  to,
  from: 'accredit <no-reply@example.org>',
  subject,
  html: `<p>${subject}</p>`,
  text: subject,
});
const rows = (tenant: string, source: string) => asTenant(tenant, () => outboxFor(store.db, tenant, source));
const sender = (o: Partial<ConstructorParameters<typeof MailSender>[0]> = {}) =>
  new MailSender({ store, transport: createMailTransport({ smtpUrl, dataDir: os.tmpdir() }), clock, ...o });

describe('outbox over SMTP', () => {
  test('five mails queued (a key queued twice counts once), each sent once with its Message-ID', async () => {
    received.length = 0;
    const queued: boolean[] = [];
    for (const [tenant, i] of [
      ['acme', 1],
      ['acme', 2],
      ['acme', 3],
      ['beta', 4],
      ['beta', 5],
    ] as const) {
      queued.push(
        await asTenant(tenant, () =>
          enqueueMail(store.db, tenant, `test/${i}`, mail(`p${i}@example.org`, `Notice ${i}`), 'test/batch', now),
        ),
      );
    }
    assert.deepEqual(queued, [true, true, true, true, true]);
    const again = await asTenant('acme', () =>
      enqueueMail(store.db, 'acme', 'test/1', mail('other@example.org', 'Other'), 'test/batch', now),
    );
    assert.equal(again, false, 'the same key is queued once');

    const s = sender();
    assert.equal(await s.drain(), 5);
    assert.equal(received.length, 5);
    const byTo = new Map(received.map((r) => [r.to.join(','), r]));
    for (const [tenant, i] of [
      ['acme', 1],
      ['acme', 2],
      ['acme', 3],
      ['beta', 4],
      ['beta', 5],
    ] as const) {
      const r = byTo.get(`p${i}@example.org`);
      assert.ok(r, `p${i} received`);
      assert.equal(r.subject, `Notice ${i}`);
      assert.equal(r.messageId, `<${messageIdFor(tenant, `test/${i}`)}@accredit>`);
    }
    const acme = await rows('acme', 'test/batch');
    assert.deepEqual(
      acme.map((r) => [r.id, r.status, r.attempts]),
      [
        ['test/1', 'sent', 1],
        ['test/2', 'sent', 1],
        ['test/3', 'sent', 1],
      ],
    );
    assert.equal(acme[0]!.message_id, `<${messageIdFor('acme', 'test/1')}@accredit>`);
    assert.equal(acme[0]!.sent_at, now.toISOString());
    assert.equal(acme[0]!.lease_owner, null);
    assert.deepEqual(outboxJson(acme[0]!), {
      id: 'test/1',
      source: 'test/batch',
      to: 'p1@example.org',
      subject: 'Notice 1',
      status: 'sent',
      attempts: 1,
      created_at: now.toISOString(),
      sent_at: now.toISOString(),
      last_error: null,
    });
    assert.equal((await rows('beta', 'test/batch')).length, 2);
    assert.equal((await rows('acme', 'nothing')).length, 0);

    assert.equal(await s.drain(), 0, 'a second drain sends nothing');
    assert.equal(received.length, 5);
  });

  test('a refusing server: retry with back-off, then sent once the server accepts and the time has come', async () => {
    received.length = 0;
    refuse = true;
    await asTenant('acme', () => enqueueMail(store.db, 'acme', 'test/refused', mail('late@example.org', 'Late'), 'test/refused', now));
    const s = sender();
    assert.equal(await s.drain(), 0);
    let [row] = await rows('acme', 'test/refused');
    assert.equal(row!.status, 'retry');
    assert.equal(row!.attempts, 1);
    assert.match(row!.last_error!, /mailbox busy/);
    assert.equal(row!.next_attempt_at, new Date(now.getTime() + 2000).toISOString(), '2^1 seconds later');

    refuse = false;
    assert.equal(await s.drain(), 0, 'not due yet');
    assert.equal(received.length, 0);
    now = new Date(now.getTime() + 3000);
    assert.equal(await s.drain(), 1);
    [row] = await rows('acme', 'test/refused');
    assert.equal(row!.status, 'sent');
    assert.equal(row!.attempts, 2);
    assert.deepEqual(
      received.map((r) => r.to),
      [['late@example.org']],
    );
  });

  test('after maxAttempts a mail is failed and no longer tried', async () => {
    refuse = true;
    await asTenant('acme', () => enqueueMail(store.db, 'acme', 'test/hopeless', mail('never@example.org', 'Never'), 'test/hopeless', now));
    const s = sender({ maxAttempts: 2 });
    assert.equal(await s.drain(), 0);
    now = new Date(now.getTime() + 3000);
    assert.equal(await s.drain(), 0);
    const [row] = await rows('acme', 'test/hopeless');
    assert.equal(row!.status, 'failed');
    assert.equal(row!.attempts, 2);
    refuse = false;
    now = new Date(now.getTime() + 3_600_000);
    assert.equal(await s.drain(), 0);
  });

  test('a message without a recipient fails at once (retrying cannot help)', async () => {
    await asTenant('acme', () => enqueueMail(store.db, 'acme', 'test/nobody', mail('', 'Nobody'), 'test/nobody', now));
    assert.equal(await sender().drain(), 0);
    const [row] = await rows('acme', 'test/nobody');
    assert.deepEqual([row!.status, row!.attempts, row!.last_error], ['failed', 1, 'the message has no recipient']);
  });

  test('a sending row whose lease lapsed (its sender died) is taken over; one with a live lease is left alone', async () => {
    received.length = 0;
    for (const id of ['test/orphan', 'test/leased']) {
      await asTenant('acme', () => enqueueMail(store.db, 'acme', id, mail(`${id.slice(5)}@example.org`, id), 'test/leases', now));
    }
    const lease = (id: string, until: Date) =>
      asSystem(() =>
        store.db
          .updateTable('outbox')
          .set({ status: 'sending', lease_owner: 'dead-process', lease_until: until.toISOString() })
          .where('id', '=', id)
          .execute(),
      );
    await lease('test/orphan', new Date(now.getTime() - 1000));
    await lease('test/leased', new Date(now.getTime() + 30_000));
    assert.equal(await sender().drain(), 1);
    assert.deepEqual(
      received.map((r) => r.to),
      [['orphan@example.org']],
    );
    const byId = new Map((await rows('acme', 'test/leases')).map((r) => [r.id, r]));
    assert.equal(byId.get('test/orphan')!.status, 'sent');
    assert.equal(byId.get('test/leased')!.status, 'sending');
    await asSystem(() => store.db.deleteFrom('outbox').where('id', '=', 'test/leased').execute());
  });

  test('two senders (two connections, as two servers) draining 50 mails at once: each mail received exactly once', async () => {
    received.length = 0;
    for (let i = 0; i < 50; i++) {
      await asTenant('acme', () => enqueueMail(store.db, 'acme', `race/${i}`, mail(`r${i}@example.org`, `Race ${i}`), 'test/race', now));
    }
    const other = await openStore(db.url, { pgPoolMax: 4 });
    try {
      const a = sender({ batch: 7, owner: 'a' });
      const b = new MailSender({
        store: other,
        transport: createMailTransport({ smtpUrl, dataDir: os.tmpdir() }),
        clock,
        batch: 7,
        owner: 'b',
      });
      const [na, nb] = await Promise.all([a.drain(), b.drain()]);
      assert.equal(na + nb, 50);
      assert.equal(received.length, 50);
      assert.equal(new Set(received.map((r) => r.messageId)).size, 50);
      assert.equal(new Set(received.map((r) => r.to[0])).size, 50);
      const sent = await rows('acme', 'test/race');
      assert.ok(sent.every((r) => r.status === 'sent' && r.attempts === 1));
    } finally {
      await other.close();
    }
  });

  test('start() polls, poke() sends soon, stop() waits for the round in flight', async () => {
    received.length = 0;
    const s = sender({ pollMs: 60_000 });
    s.start();
    await asTenant('acme', () => enqueueMail(store.db, 'acme', 'test/poked', mail('poked@example.org', 'Poked'), 'test/poked', now));
    s.poke();
    for (let i = 0; i < 200 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await s.stop();
    assert.deepEqual(
      received.map((r) => r.subject),
      ['Poked'],
    );
    assert.equal((await rows('acme', 'test/poked'))[0]!.status, 'sent');
  });
});

test('without SMTP_URL each message is written as an .eml file under <dataDir>/mail', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'accredit-mail-'));
  try {
    const transport = createMailTransport({ dataDir });
    assert.match(transport.describe, /mail$/);
    await asTenant('acme', () => enqueueMail(store.db, 'acme', 'test/file', mail('file@example.org', 'On disk'), 'test/file', now));
    assert.equal(await new MailSender({ store, transport, clock }).drain(), 1);
    const files = fs.readdirSync(path.join(dataDir, 'mail'));
    assert.equal(files.length, 1);
    assert.match(files[0]!, /^\d{8}T\d{9}Z-[0-9a-f]{40}\.eml$/);
    const raw = fs.readFileSync(path.join(dataDir, 'mail', files[0]!), 'utf8');
    assert.equal(header(raw, 'Subject'), 'On disk');
    assert.equal(header(raw, 'To'), 'file@example.org');
    assert.equal(header(raw, 'Message-ID'), `<${messageIdFor('acme', 'test/file')}@accredit>`);
    transport.close();
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
