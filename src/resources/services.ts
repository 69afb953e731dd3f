import type { Clock } from '../core/clock.js';
import type { Store } from '../store/store.js';
import type { Executions } from '../jobs/executions.js';
import type { ResourceService } from './kit/service.js';

/** What action handlers and domain services receive: the store, the clock and every resource's service. */
export interface AppServices {
  store: Store;
  clock: Clock;
  executions: Executions;
  lifecycle: import('../services/lifecycle.js').Lifecycle;
  resource(slug: string): ResourceService;
  /** The From of notices that name no sender (config MAIL_FROM). */
  mailFrom?: string;
  mailer?: { transport: import('../mail/transport.js').MailTransport; sender: import('../mail/sender.js').MailSender };
  scheduler?: import('../jobs/scheduler.js').Scheduler;
  /** The CE audit draw, pinned by tests only (AppDeps.auditDraw); absent: crypto.randomInt. */
  auditDraw?: import('../services/audits.js').AuditDraw;
  /** The lifecycle sweep (src/jobs/sweep.ts): its executions, its schedule, a round on demand. */
  sweep?: import('../jobs/sweep.js').LifecycleSweep;
}
