import type { Config } from '../config.js';
import type { Clock } from '../core/clock.js';
import type { Store } from '../store/store.js';
import { MailSender, type MailSenderOptions } from './sender.js';
import { createMailTransport, type MailTransport } from './transport.js';

export { enqueueMail, outboxFor, outboxJson, type OutboxRow, type OutboxStatus } from './outbox.js';
export { NOTICE_PLACEHOLDERS, TemplateError, renderMessage, templateProblems, type EmailTemplate, type OutgoingMail } from './render.js';
export { MailSender, type DeliveryOutcome, type DeliveryRecorder, type MailSenderOptions } from './sender.js';
export { createMailTransport, messageIdFor, type MailTransport } from './transport.js';

/**
 * The mailer of a server process: its transport (SMTP, or .eml files) and the outbox sender. Not
 * started here: the caller starts it with the app and stops it (then closes the transport) on shutdown.
 */
export function createMailer(
  config: Pick<Config, 'mail' | 'dataDir' | 'workerPollMs'>,
  store: Store,
  clock: Clock,
  log?: MailSenderOptions['log'],
): { transport: MailTransport; sender: MailSender } {
  const transport = createMailTransport({ smtpUrl: config.mail.smtpUrl, dataDir: config.dataDir });
  const sender = new MailSender({ store, transport, clock, log, pollMs: config.workerPollMs });
  return { transport, sender };
}
