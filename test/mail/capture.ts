import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { startApp, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';
import type { Clock } from '../../src/core/clock.js';

/** What a test's SMTP server received: one entry per recipient of each message. */
export interface CapturedMail {
  to: string;
  subject: string;
  messageId: string;
}

/**
 * A real SMTP server on loopback (smtp-server) that keeps every message it accepts. `refuse` names
 * recipients it turns away (550 at RCPT TO), as a server does for an address that does not exist.
 */
export async function startSmtpCapture(
  o: { refuse?: (address: string) => boolean } = {},
): Promise<{ url: string; mails: CapturedMail[]; close(): Promise<void> }> {
  const mails: CapturedMail[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, cb) {
      if (o.refuse?.(address.address)) return cb(Object.assign(new Error(`mailbox ${address.address} unavailable`), { responseCode: 550 }));
      cb();
    },
    onData(stream, session, cb) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => (raw += d));
      stream.on('end', () => {
        // a long header is folded onto the next lines (starting with white space): unfolded here
        const header = (name: string) =>
          new RegExp(`^${name}:[ \\t]*(.*(?:\\r?\\n[ \\t].*)*)`, 'im')
            .exec(raw)?.[1]
            ?.replace(/\r?\n[ \t]+/g, ' ')
            .trim() ?? '';
        for (const rcpt of session.envelope.rcptTo)
          mails.push({ to: rcpt.address, subject: header('Subject'), messageId: header('Message-ID') });
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  return {
    url: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
    mails,
    close: () => new Promise<void>((r) => smtp.close(() => r())),
  };
}

export interface MailApp {
  t: TestApp;
  f: Factory;
  smtp: Awaited<ReturnType<typeof startSmtpCapture>>;
  /** Waits until the outbox has handed every queued message to the SMTP server, and it has taken them in. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** The app (startApp) sending its mail to a fresh SMTP capture, with a Factory for admin writes; the scheduler off, the mail worker polling every 50 ms. */
export async function startMailApp(o: { clock?: Clock; refuse?: (address: string) => boolean } = {}): Promise<MailApp> {
  const smtp = await startSmtpCapture({ refuse: o.refuse });
  const t = await startApp({ clock: o.clock, env: { SMTP_URL: smtp.url, WORKER_POLL_MS: '50', SCHEDULER_POLL_MS: '0' } });
  return {
    t,
    f: new Factory(t, t.admin),
    smtp,
    async drain() {
      await t.app.services.mailer!.sender.drain();
      await new Promise((r) => setTimeout(r, 50)); // the SMTP server's onData callback
    },
    async close() {
      await t.close();
      await smtp.close();
    },
  };
}
