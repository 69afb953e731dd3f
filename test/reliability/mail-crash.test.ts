import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo, Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { freshDatabase, type TestDb } from '../helpers.js';
import { killServer, sleep, startServer, until, type ServerProcess } from '../process.js';
import { migrate } from '../../src/store/migrate.js';
import { openStore, type Store } from '../../src/store/store.js';
import { asSystem, asTenant } from '../../src/store/tenant-scope.js';
import { tableSpecs } from '../../src/resources/index.js';
import { enqueueMail } from '../../src/mail/outbox.js';
import { emlName } from '../../src/mail/transport.js';

/**
 * The mail outbox across crashes: the server (a child process) is SIGKILLed while it sends a batch of
 * queued messages, restarted, killed again, and finally left to finish. Every message arrives at
 * least once, none is lost, none arrives (or is written) in part, and a message that arrives twice
 * carries one Message-ID. Duplicates are possible only in the window between the SMTP server's 250
 * and our commit (one message per kill at most): the test kills once inside that window and once
 * at a random moment, and reports the duplicates it measured.
 */
const LEASE_MS = 800;
const env = (smtpUrl: string) => ({
  SMTP_URL: smtpUrl,
  WORKER_POLL_MS: '50',
  WORKER_LEASE_MS: String(LEASE_MS),
  SCHEDULER_POLL_MS: '0',
  LOG_LEVEL: 'error',
});

interface Queued {
  id: string;
  messageId: string;
  subject: string;
}

/** A database with `n` messages queued (two tenants), as a busy server leaves its outbox. */
async function queued(n: number, bodyBytes: number): Promise<{ db: TestDb; store: Store; rows: Queued[] }> {
  const db = await freshDatabase();
  const store = await openStore(db.url, { pgPoolMax: 2 });
  await migrate(store, tableSpecs());
  const now = new Date();
  for (let i = 0; i < n; i++) {
    const tenant = i % 2 ? 'beta' : 'acme';
    await asTenant(tenant, () =>
      enqueueMail(
        store.db,
        tenant,
        `crash/${i}`,
        {
          to: `p${i}@example.org`,
          from: 'accredit <no-reply@example.org>',
          subject: `Message ${i}`,
          html: `<p>${'x'.repeat(bodyBytes)}</p><p>end of message ${i}</p>`,
          text: `end of message ${i}`,
        },
        'test/crash',
        now,
      ),
    );
  }
  const rows = await outbox(store);
  return {
    db,
    store,
    rows: rows.map((r) => ({ id: r.id, messageId: r.message_id!, subject: `Message ${r.id.slice(6)}` })),
  };
}

const outbox = (store: Store) =>
  asSystem(() => store.db.selectFrom('outbox').select(['tenant_id', 'id', 'status', 'message_id']).orderBy('id').execute());

/** Whether a raw message is whole: it ends with the closing delimiter of its multipart body. */
function whole(raw: string): boolean {
  const boundary = /boundary="([^"]+)"/.exec(raw)?.[1];
  return boundary !== undefined && raw.trimEnd().endsWith(`--${boundary}--`);
}

const header = (raw: string, name: string) =>
  new RegExp(`^${name}:[ \\t]*(.*(?:\\r?\\n[ \\t].*)*)`, 'im')
    .exec(raw)?.[1]
    ?.replace(/\r?\n[ \t]+/g, ' ')
    .trim() ?? '';

function report(t: TestContext, line: string) {
  t.diagnostic(line);
  process.stdout.write(`# ${line}\n`);
}

test('SMTP: SIGKILLed while sending, restarted: every message arrives, none in part, duplicates only with the same Message-ID', {
  timeout: 240_000,
}, async (t) => {
  const N = 30;
  const { db, store, rows } = await queued(N, 256 * 1024);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'accredit-mail-crash-'));
  const received: { messageId: string; subject: string; to: string; raw: string }[] = [];
  let aborted = 0; // transfers cut off by a kill: never counted as received
  // The process being started or running, and what the SMTP server does to it next.
  let current: Promise<ServerProcess> | undefined;
  let plan: 'after-accept' | 'mid-data' | 'none' = 'after-accept';
  let killedInWindow: string | undefined;
  // Our end of each connection, by the client's port. A paused socket reads nothing, not even the
  // dead client's FIN, and is not an active handle: left alone it would hold smtp.close() open with
  // nothing else keeping the event loop alive, and the test would end unresolved.
  const sockets = new Map<number, Socket>();

  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      let first = true;
      let ended = false;
      stream.on('error', () => {
        if (!ended) aborted++;
        ended = true;
      });
      stream.on('data', (c: Buffer) => {
        chunks.push(c);
        if (first && plan === 'mid-data') {
          // the server dies in the middle of the message: the rest never comes
          first = false;
          plan = 'none';
          stream.pause();
          void current!
            .then((p) => {
              p.kill('SIGKILL');
              return p.exited;
            })
            .then(() => {
              // the rest never came: the transfer is cut off, and our end of it goes too
              if (!ended) aborted++;
              ended = true;
              sockets.get(session.remotePort)?.destroy();
            });
        }
        first = false;
      });
      stream.on('end', async () => {
        if (ended) return;
        ended = true;
        const raw = Buffer.concat(chunks).toString('utf8');
        const messageId = header(raw, 'Message-ID');
        received.push({ messageId, subject: header(raw, 'Subject'), to: session.envelope.rcptTo[0]!.address, raw });
        if (received.length === 4 && plan === 'after-accept') {
          // the message is ours now (we stored it); the server dies before it hears our 250 and
          // before it can record the message as sent: the window SMTP cannot close
          plan = 'none';
          killedInWindow = messageId;
          const p = await current!;
          p.kill('SIGKILL');
          await p.exited;
        }
        cb();
      });
    },
  });
  // A client SIGKILLed mid-connection resets it (ECONNRESET): expected here. The SMTP server reports
  // such errors as its own 'error' event, which, without a listener, would be thrown and fail the test
  // after it has measured everything.
  smtp.on('error', () => {});
  smtp.server.on('connection', (s: Socket) => {
    const port = s.remotePort!;
    sockets.set(port, s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(port));
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  const smtpUrl = `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`;
  const start = () => {
    current = startServer({ databaseUrl: db.url, dataDir, env: env(smtpUrl) });
    return current;
  };
  const sentCount = async () => (await outbox(store)).filter((r) => r.status === 'sent').length;
  let server: ServerProcess | undefined;
  let kills = 0;
  try {
    // 1. killed after the server took the 4th message, before our commit
    server = await start();
    await until('the kill after the 4th message', () => (server!.hasExited() ? true : undefined), 60_000, 20);
    kills++;
    assert.ok(killedInWindow, 'killed in the window');
    const sentBefore = await sentCount();
    assert.ok(sentBefore < N, `killed part-way (${sentBefore} of ${N} recorded as sent)`);

    // 2. killed in the middle of a message's DATA
    const seen = received.length;
    plan = 'mid-data';
    server = await start();
    await until('the kill in the middle of a message', () => (server!.hasExited() ? true : undefined), 60_000, 20);
    kills++;
    assert.ok(aborted >= 1, 'a transfer was cut off');

    // 3. killed at a random moment while it sends
    server = await start();
    const arrived = received.length;
    await until('a message from the third process', () => (received.length > arrived || server!.hasExited() ? true : undefined), 60_000, 5);
    await sleep(Math.floor(Math.random() * 150));
    server.kill('SIGKILL');
    await server.exited;
    kills++;

    // 4. left to finish
    server = await start();
    await until('every message recorded as sent', async () => ((await sentCount()) === N ? true : undefined), 90_000, 100);
    await sleep(300); // nothing more arrives
    assert.ok(received.length > seen, 'the restarted processes went on sending');

    const byId = new Map<string, typeof received>();
    for (const r of received) byId.set(r.messageId, [...(byId.get(r.messageId) ?? []), r]);
    const expected = new Map(rows.map((r) => [r.messageId, r]));
    // none lost
    for (const r of rows) assert.ok(byId.has(r.messageId), `${r.id} (${r.messageId}) arrived`);
    // nothing else, nothing in part, every copy of a message the same message
    for (const [id, copies] of byId) {
      const row = expected.get(id);
      assert.ok(row, `${id} is a queued message`);
      for (const c of copies) {
        assert.ok(whole(c.raw), `${id} arrived whole`);
        assert.equal(c.subject, row.subject);
        assert.equal(c.to, `p${row.id.slice(6)}@example.org`);
      }
    }
    const duplicates = received.length - byId.size;
    report(
      t,
      `mail crash (SMTP): ${N} messages, ${kills} SIGKILLs (after the server's accept, mid-DATA, random), ` +
        `${received.length} deliveries: ${duplicates} duplicate(s), all with their message's Message-ID; ` +
        `0 lost, 0 partial (${aborted} transfer(s) cut off and not accepted)`,
    );
    assert.ok(byId.get(killedInWindow!)!.length >= 2, 'the message accepted but not recorded was sent again, with the same Message-ID');
    assert.ok(duplicates <= kills, `at most one duplicate per crash (${duplicates} for ${kills})`);
  } finally {
    await killServer(server);
    await current?.then(killServer, () => {});
    for (const s of sockets.values()) s.destroy();
    await new Promise<void>((r) => smtp.close(() => r()));
    await store.close();
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('files: SIGKILLed while writing .eml files, restarted: one whole file per message, never a partial one', {
  timeout: 240_000,
}, async (t) => {
  const N = 12;
  const { db, store, rows } = await queued(N, 1024 * 1024);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'accredit-mail-crash-'));
  const dir = path.join(dataDir, 'mail');
  const start = () => startServer({ databaseUrl: db.url, dataDir, env: env('') });
  const sentCount = async () => (await outbox(store)).filter((r) => r.status === 'sent').length;
  const list = () => (fs.existsSync(dir) ? fs.readdirSync(dir) : []);
  const known = new Set<string>(); // .eml files seen whole (a file is never rewritten)
  const partial = (name: string) => {
    if (name.endsWith('.tmp')) return true;
    if (known.has(name)) return false;
    try {
      if (!whole(fs.readFileSync(path.join(dir, name), 'utf8'))) return true;
      known.add(name);
      return false;
    } catch {
      return false; // gone meanwhile
    }
  };
  let server: ServerProcess | undefined;
  let kills = 0;
  let midWrite = 0;
  try {
    // killed the moment a file is being written (a .tmp, or an .eml not yet whole), twice; then at a random moment
    for (let round = 0; round < 3; round++) {
      server = await start();
      const p = server;
      const at = await until(
        'a file being written',
        () => {
          if (p.hasExited()) return 'exited';
          if (list().filter((f) => f.endsWith('.eml')).length === N) return 'done'; // too late: finished
          if (round === 2) return list().some((f) => f.endsWith('.eml')) ? 'random' : undefined;
          return list().some(partial) ? 'writing' : undefined;
        },
        60_000,
        1,
      );
      if (at === 'random') await sleep(Math.floor(Math.random() * 100));
      p.kill('SIGKILL');
      await p.exited;
      kills++;
      if (list().some(partial)) midWrite++;
      // what a crash leaves is never a message: any .eml there is whole
      for (const f of list().filter((f) => f.endsWith('.eml')))
        assert.ok(whole(fs.readFileSync(path.join(dir, f), 'utf8')), `${f} is whole`);
    }
    assert.ok(midWrite >= 1, 'killed while a file was being written');

    server = await start();
    await until('every message recorded as sent', async () => ((await sentCount()) === N ? true : undefined), 90_000, 100);
    const files = list();
    assert.deepEqual(
      files.filter((f) => f.endsWith('.tmp')),
      [],
      'no partial file left: each was written again and renamed',
    );
    assert.deepEqual(files.sort(), rows.map((r) => emlName(r.messageId)).sort(), 'one file per message');
    for (const r of rows) {
      const raw = fs.readFileSync(path.join(dir, emlName(r.messageId)), 'utf8');
      assert.ok(whole(raw), `${r.id} whole`);
      assert.equal(header(raw, 'Message-ID'), r.messageId);
      assert.equal(header(raw, 'Subject'), r.subject);
    }
    report(
      t,
      `mail crash (files): ${N} messages, ${kills} SIGKILLs (${midWrite} while a file was half-written): ${N} whole files, 0 duplicates, 0 partial`,
    );
  } finally {
    await killServer(server);
    await store.close();
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
