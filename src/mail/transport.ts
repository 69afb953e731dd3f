import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { OutgoingMail } from './render.js';

/**
 * Where mail goes: an SMTP server (SMTP_URL), or, without one, .eml files under <dataDir>/mail (a
 * development server sends nothing, and what it would send can be opened in any mail client).
 */
export interface MailTransport {
  /** Sends one message; `messageId` is the token of its outbox row (see messageIdFor). */
  send(mail: OutgoingMail, messageId: string): Promise<{ messageId: string }>;
  /** Where messages go, safe for logs (no password). */
  readonly describe: string;
  close(): void;
}

/**
 * A token for the Message-ID of an outbox row, the same on every attempt: a receiver (or its spam
 * filter) can recognise the second copy of a message sent twice (see the at-least-once note in sender.ts).
 */
export function messageIdFor(tenantId: string, id: string): string {
  return crypto.createHash('sha256').update(`${tenantId}\u0000${id}`).digest('hex').slice(0, 40);
}

const header = (token: string) => `<${token}@accredit>`;

function options(mail: OutgoingMail, token: string) {
  return {
    from: mail.from,
    to: mail.to,
    ...(mail.cc ? { cc: mail.cc } : {}),
    ...(mail.bcc ? { bcc: mail.bcc } : {}),
    ...(mail.replyTo ? { replyTo: mail.replyTo } : {}),
    subject: mail.subject,
    html: mail.html,
    text: mail.text,
    messageId: header(token),
  };
}

export function createMailTransport(config: { smtpUrl?: string; dataDir: string }): MailTransport {
  if (config.smtpUrl) {
    // Timeouts well inside the sender's 60 s lease, so that a hung server does not outlive the lease
    // (another sender would then take the row over and send it a second time).
    const smtp = nodemailer.createTransport({
      url: config.smtpUrl,
      connectionTimeout: 15_000,
      greetingTimeout: 15_000,
      socketTimeout: 30_000,
    });
    const u = new URL(config.smtpUrl);
    return {
      describe: `${u.protocol}//${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}`,
      async send(mail, token) {
        const info = await smtp.sendMail(options(mail, token));
        return { messageId: info.messageId || header(token) };
      },
      close: () => smtp.close(),
    };
  }
  const dir = path.join(config.dataDir, 'mail');
  const stream = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    describe: `files in ${dir}`,
    async send(mail, token) {
      const info = await stream.sendMail(options(mail, token));
      await fs.mkdir(dir, { recursive: true });
      const stamp = new Date().toISOString().replace(/[-:.]/g, '');
      await fs.writeFile(path.join(dir, `${stamp}-${token.replace(/[^\w-]/g, '_')}.eml`), info.message as Buffer);
      return { messageId: info.messageId || header(token) };
    },
    close: () => stream.close(),
  };
}
