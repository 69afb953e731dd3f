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
  /**
   * Sends one message with the Message-ID its outbox row was given when it was queued (`<…@…>`), so
   * that a resend after a crash carries the same one.
   */
  send(mail: OutgoingMail, messageId: string): Promise<{ messageId: string }>;
  /** Where messages go, safe for logs (no password). */
  readonly describe: string;
  close(): void;
}

/**
 * A new Message-ID, made once when a message is queued and stored with its outbox row: the queue
 * time (so files sort by it), 96 random bits (unique across installations, unlike anything derived
 * from the tenant and key) and the domain of the sender's address (RFC 5322 3.6.4).
 */
export function newMessageId(from: string, queuedAt: Date): string {
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from)?.[1] ?? 'accredit';
  const stamp = queuedAt.toISOString().replace(/[-:.]/g, '');
  return `<${stamp}.${crypto.randomBytes(12).toString('hex')}@${domain}>`;
}

/**
 * The Message-ID of a row queued before Message-IDs were stored with the row: derived from it, so
 * the same on every attempt.
 */
export function messageIdFor(tenantId: string, id: string): string {
  return `<${crypto.createHash('sha256').update(`${tenantId}\u0000${id}`).digest('hex').slice(0, 40)}@accredit>`;
}

function options(mail: OutgoingMail, messageId: string) {
  return {
    from: mail.from,
    to: mail.to,
    ...(mail.cc ? { cc: mail.cc } : {}),
    ...(mail.bcc ? { bcc: mail.bcc } : {}),
    ...(mail.replyTo ? { replyTo: mail.replyTo } : {}),
    subject: mail.subject,
    html: mail.html,
    text: mail.text,
    ...(mail.attachments?.length ? { attachments: mail.attachments } : {}),
    messageId,
  };
}

/** The file of a message: its Message-ID, so that a message written twice is one file. */
export const emlName = (messageId: string) => `${messageId.replace(/^<|>$/g, '').replace(/[^\w.-]/g, '_')}.eml`;

/**
 * Writes `data` to `file` so that `file` is either absent or complete: the bytes go to `<file>.tmp`
 * (flushed to disk), which is then renamed. A crash mid-write leaves only the .tmp, which the resend
 * of the message overwrites.
 */
async function writeWhole(file: string, data: Buffer): Promise<void> {
  const tmp = `${file}.tmp`;
  const fh = await fs.open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, file);
}

const exists = (file: string) =>
  fs.access(file).then(
    () => true,
    () => false,
  );

export function createMailTransport(config: { smtpUrl?: string; dataDir: string }): MailTransport {
  if (config.smtpUrl) {
    // Bounded, so that a hung server fails the attempt (retried later) rather than holding the row;
    // the sender renews its claim meanwhile (WORKER_LEASE_MS), so a slow server is not a resend.
    const smtp = nodemailer.createTransport({
      url: config.smtpUrl,
      connectionTimeout: 15_000,
      greetingTimeout: 15_000,
      socketTimeout: 30_000,
    });
    const u = new URL(config.smtpUrl);
    return {
      describe: `${u.protocol}//${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}`,
      async send(mail, messageId) {
        const info = await smtp.sendMail(options(mail, messageId));
        return { messageId: info.messageId || messageId };
      },
      close: () => smtp.close(),
    };
  }
  const dir = path.join(config.dataDir, 'mail');
  const stream = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    describe: `files in ${dir}`,
    async send(mail, messageId) {
      const file = path.join(dir, emlName(messageId));
      // Written before (and the process died before recording it): the same message, not a second file.
      if (await exists(file)) return { messageId };
      const info = await stream.sendMail(options(mail, messageId));
      await fs.mkdir(dir, { recursive: true });
      await writeWhole(file, info.message as Buffer);
      return { messageId: info.messageId || messageId };
    },
    close: () => stream.close(),
  };
}
