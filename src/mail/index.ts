export { enqueueMail, outboxFor, outboxJson, type OutboxRow, type OutboxStatus } from './outbox.js';
export { NOTICE_PLACEHOLDERS, TemplateError, renderMessage, templateProblems, type EmailTemplate, type OutgoingMail } from './render.js';
export { MailSender, type DeliveryOutcome, type DeliveryRecorder, type MailSenderOptions } from './sender.js';
export { createMailTransport, emlName, messageIdFor, newMessageId, type MailTransport } from './transport.js';
