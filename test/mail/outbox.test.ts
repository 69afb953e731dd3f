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
import { Leases } from '../../src/jobs/lease.js';
import { createMailTransport, enqueueMail, MailSender, outboxFor, outboxJson, type OutgoingMail } from '../../src/mail/index.js';
import { emlName } from '../../src/mail/transport.js';

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
  new RegExp(`^${name}:[ \\t]*(.*(?:\\r?\\n[ \\t].*)*)`, 'im')
    .exec(raw)?.[1]
    ?.replace(/\r?\n[ \t]+/g, ' ')
    .trim();

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
const leases = (owner = 'test', ms = 30_000, s = store) => new Leases(s, clock, owner, ms);
const sender = (o: Partial<ConstructorParameters<typeof MailSender>[0]> = {}) =>
  new MailSender({ store, transport: createMailTransport({ smtpUrl, dataDir: os.tmpdir() }), clock, leases: leases(), ...o });
const MESSAGE_ID = /^<\d{8}T\d{9}Z\.[0-9a-f]{24}@example\.org>$/;

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
    // the Message-ID is fixed when the message is queued, before any attempt
    const queuedIds = new Map<string, string>();
    for (const tenant of ['acme', 'beta'])
      for (const r of await rows(tenant, 'test/batch')) {
        assert.equal(r.status, 'queued');
        assert.match(r.message_id ?? '', MESSAGE_ID);
        queuedIds.set(`${tenant}/${r.id}`, r.message_id!);
      }
    assert.equal(new Set(queuedIds.values()).size, 5, 'each message its own Message-ID');

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
      assert.equal(r.messageId, queuedIds.get(`${tenant}/test/${i}`));
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
    assert.equal(acme[0]!.message_id, queuedIds.get('acme/test/1'), 'the row keeps the Message-ID it was sent with');
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
      const a = sender({ batch: 7, leases: leases('a') });
      const b = new MailSender({
        store: other,
        transport: createMailTransport({ smtpUrl, dataDir: os.tmpdir() }),
        clock,
        batch: 7,
        leases: leases('b', 30_000, other),
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

  test('a claim lasts the lease it is given (the app gives WORKER_LEASE_MS), renewed while the server takes its time', async () => {
    received.length = 0;
    await asTenant('acme', () => enqueueMail(store.db, 'acme', 'test/lease', mail('lease@example.org', 'Lease'), 'test/lease', now));
    const seen: (string | null)[] = [];
    const smtp = createMailTransport({ smtpUrl, dataDir: os.tmpdir() });
    const slow = {
      async send(m: OutgoingMail, id: string) {
        seen.push((await rows('acme', 'test/lease'))[0]!.lease_until);
        now = new Date(now.getTime() + 1000); // the server is slow: the renewal (every third of 600 ms) moves the claim on
        await new Promise((r) => setTimeout(r, 450));
        seen.push((await rows('acme', 'test/lease'))[0]!.lease_until);
        return smtp.send(m, id);
      },
    };
    const start = now.getTime();
    assert.equal(await sender({ transport: slow, leases: leases('short', 600) }).drain(), 1);
    assert.equal(seen[0], new Date(start + 600).toISOString(), 'claimed for the lease given, not a fixed term');
    assert.equal(seen[1], new Date(start + 1000 + 600).toISOString(), 'renewed while sending');
    assert.equal(received.length, 1);
  });

  test('a message sent but not recorded (the sender died after the server took it) is sent again with the same Message-ID', async () => {
    received.length = 0;
    await asTenant('acme', () => enqueueMail(store.db, 'acme', 'test/twice', mail('twice@example.org', 'Twice'), 'test/twice', now));
    const [queued] = await rows('acme', 'test/twice');
    assert.equal(await sender({ leases: leases('dies') }).drain(), 1);
    // as the database would be had the process been killed between the server's 250 and the commit
    await asSystem(() =>
      store.db
        .updateTable('outbox')
        .set({ status: 'sending', sent_at: null, lease_owner: 'dies', lease_until: new Date(now.getTime() - 1).toISOString() })
        .where('id', '=', 'test/twice')
        .execute(),
    );
    assert.equal(await sender({ leases: leases('resumes') }).drain(), 1);
    assert.deepEqual(
      received.map((r) => r.messageId),
      [queued!.message_id, queued!.message_id],
      'two copies, recognisable as one message',
    );
    assert.equal((await rows('acme', 'test/twice'))[0]!.message_id, queued!.message_id);
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

test('without SMTP_URL each message is written as an .eml file under <dataDir>/mail, named by its Message-ID', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'accredit-mail-'));
  try {
    const transport = createMailTransport({ dataDir });
    assert.match(transport.describe, /mail$/);
    await asTenant('acme', () => enqueueMail(store.db, 'acme', 'test/file', mail('file@example.org', 'On disk'), 'test/file', now));
    const [row] = await rows('acme', 'test/file');
    assert.equal(await new MailSender({ store, transport, clock, leases: leases() }).drain(), 1);
    const files = fs.readdirSync(path.join(dataDir, 'mail'));
    assert.deepEqual(files, [emlName(row!.message_id!)]);
    assert.match(files[0]!, /^\d{8}T\d{9}Z\.[0-9a-f]{24}_example\.org\.eml$/, 'sorted by queue time');
    const raw = fs.readFileSync(path.join(dataDir, 'mail', files[0]!), 'utf8');
    assert.equal(header(raw, 'Subject'), 'On disk');
    assert.equal(header(raw, 'To'), 'file@example.org');
    assert.equal(header(raw, 'Message-ID'), row!.message_id);
    transport.close();
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a file is written whole or not at all: a half-written one (a crash mid-write) is never an .eml, and a message written twice is one file', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'accredit-mail-'));
  const dir = path.join(dataDir, 'mail');
  try {
    const transport = createMailTransport({ dataDir });
    const id = '<20260301T090000000Z.0123456789abcdef01234567@example.org>';
    const file = path.join(dir, emlName(id));
    // what a SIGKILL in the middle of the write leaves behind
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(`${file}.tmp`, 'Message-ID: <20260301T0900');
    const big = mail('big@example.org', 'Big');
    big.html = `<p>${'x'.repeat(200_000)}</p><p>the end</p>`;
    await transport.send(big, id);
    assert.deepEqual(fs.readdirSync(dir), [path.basename(file)], 'the leftover was replaced by the whole message');
    const raw = fs.readFileSync(file, 'utf8');
    const boundary = /boundary="([^"]+)"/.exec(raw)?.[1];
    assert.ok(boundary && raw.trimEnd().endsWith(`--${boundary}--`), 'complete: ends with its closing boundary');
    // sent again (the process died before it recorded the first): still one file, unchanged
    const before = fs.statSync(file).mtimeMs;
    await transport.send({ ...big, subject: 'Big again' }, id);
    assert.deepEqual(fs.readdirSync(dir), [path.basename(file)]);
    assert.equal(fs.statSync(file).mtimeMs, before);
    assert.equal(header(fs.readFileSync(file, 'utf8'), 'Subject'), 'Big');
    transport.close();
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
