import { randomInt } from 'node:crypto';
import type { Config } from '../config.js';
import type { Clock } from '../core/clock.js';
import type { Store } from '../store/store.js';
import type { AppServices } from '../resources/kit/context.js';
import { RESOURCES } from '../resources/index.js';
import { ResourceService } from '../resources/kit/service.js';
import { Executions } from '../jobs/executions.js';
import { Leases, leaseOwner } from '../jobs/lease.js';
import { Scheduler } from '../jobs/scheduler.js';
import { LifecycleSweep } from '../jobs/sweep.js';
import { MailSender } from '../mail/sender.js';
import { createMailTransport, type MailTransport } from '../mail/transport.js';
import { BulkLoads } from '../bulk/loader.js';
import { QueryService } from '../queries/service.js';
import { Audits, type AuditDraw } from './audits.js';
import { Billing } from './billing/index.js';
import { Commerce } from './commerce.js';
import { Credentials } from './credentials/index.js';
import { Learning } from './learning.js';
import { Lifecycle } from './lifecycle.js';
import { Notices } from './notices.js';
import { Registry } from './registry.js';
import { Statistics } from './statistics.js';
import { Storefront } from './storefront.js';
import { Sweep } from './sweep.js';

/**
 * The app's services, composed in one place (composeServices below) from the store, the
 * configuration, the clock, the mail transport and the log. Everything that needs another service
 * receives this object; the definitions' hooks and actions receive it too (typed through
 * resources/kit/context.ts, which this file fills in).
 */
export interface Log {
  error(obj: unknown, msg?: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
}

declare module '../resources/kit/context.js' {
  interface AppServices {
    readonly store: Store;
    readonly clock: Clock;
    readonly log: Log;
    /** The From of notices that name no sender (config MAIL_FROM). */
    readonly mailFrom: string;
    /** The CE audit draw: crypto.randomInt, or the draw a test pinned (ServiceParts.auditDraw). */
    readonly auditDraw: AuditDraw;
    /** The service of one resource of the registry (resources/index.ts); throws for an unknown slug. */
    resource(slug: string): ResourceService;
    /** The leases of the background work: one owner id for the app, WORKER_LEASE_MS (jobs/lease.ts). */
    readonly leases: Leases;
    /** Background executions: started by the services, run by the worker (jobs/executions.ts). */
    readonly executions: Executions;
    readonly lifecycle: Lifecycle;
    readonly billing: Billing;
    /** Orders, coupons and payments (generateOrder, applyCoupon, Stripe). */
    readonly commerce: Commerce;
    /** Open Badges 3.0 credentials: issuer keys, issuing, status lists, verification. */
    readonly credentials: Credentials;
    readonly audits: Audits;
    readonly learning: Learning;
    readonly notices: Notices;
    readonly statistics: Statistics;
    /** The public registry (directory search, verification) and the catalog's public store routes. */
    readonly registry: Registry;
    readonly storefront: Storefront;
    /** What the lifecycle sweep does to one record (lapse, expire). */
    readonly sweepWork: Sweep;
    /** The lifecycle sweep: its schedule, its executions, a round on demand. */
    readonly sweep: LifecycleSweep;
    /** Recurring billing runs. */
    readonly scheduler: Scheduler;
    readonly queries: QueryService;
    readonly bulkLoads: BulkLoads;
    /** The mail transport (SMTP, or .eml files) and the outbox sender. */
    readonly mailer: { transport: MailTransport; sender: MailSender };
  }
}

/** What composeServices builds from. Tests pass their own clock, audit draw or mail transport here. */
export interface ServiceParts {
  store: Store;
  config: Pick<
    Config,
    | 'dataDir'
    | 'mail'
    | 'pageSizeDefault'
    | 'pageSizeMax'
    | 'workerPollMs'
    | 'workerLeaseMs'
    | 'schedulerPollMs'
    | 'lifecycleSweepCron'
    | 'publicBaseUrl'
    | 'credentialKeySecret'
  >;
  clock: Clock;
  log: Log;
  /** Default: SMTP_URL's server, else .eml files under <dataDir>/mail. */
  mailTransport?: MailTransport;
  /** Tests only: a seeded CE audit draw instead of crypto.randomInt (refused outside the test runner). */
  auditDraw?: AuditDraw;
}

class Services implements AppServices {
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Log;
  readonly mailFrom: string;
  readonly auditDraw: AuditDraw;
  readonly leases: Leases;
  readonly executions: Executions;
  readonly lifecycle: Lifecycle;
  readonly billing: Billing;
  readonly commerce: Commerce;
  readonly credentials: Credentials;
  readonly audits: Audits;
  readonly learning: Learning;
  readonly notices: Notices;
  readonly statistics: Statistics;
  readonly registry: Registry;
  readonly storefront: Storefront;
  readonly sweepWork: Sweep;
  readonly sweep: LifecycleSweep;
  readonly scheduler: Scheduler;
  readonly queries: QueryService;
  readonly bulkLoads: BulkLoads;
  readonly mailer: { transport: MailTransport; sender: MailSender };
  private readonly resources = new Map<string, ResourceService>();

  // Each service keeps this object and reaches the others through it when it works, never while it
  // is built: the order below is free.
  constructor({ store, config, clock, log, mailTransport, auditDraw }: ServiceParts) {
    this.store = store;
    this.clock = clock;
    this.log = log;
    this.mailFrom = config.mail.from;
    this.auditDraw = auditDraw ?? randomInt;
    for (const r of RESOURCES) {
      const service = new ResourceService(r, {
        store,
        clock,
        pageSizeDefault: config.pageSizeDefault,
        pageSizeMax: config.pageSizeMax,
        resolve: (slug) => this.resource(slug),
        services: () => this,
      });
      this.resources.set(r.def.slug, service);
    }
    this.leases = new Leases(store, clock, leaseOwner(), config.workerLeaseMs);
    this.executions = new Executions(store, clock, this.leases, { pollMs: config.workerPollMs, log });
    this.lifecycle = new Lifecycle(this);
    this.billing = new Billing(this);
    this.commerce = new Commerce(this);
    this.credentials = new Credentials(this, {
      publicBaseUrl: config.publicBaseUrl,
      keySecret: config.credentialKeySecret,
      dataDir: config.dataDir,
    });
    this.audits = new Audits(this);
    this.learning = new Learning(this);
    this.notices = new Notices(this);
    this.statistics = new Statistics(this);
    this.registry = new Registry(this);
    this.storefront = new Storefront(this);
    this.sweepWork = new Sweep(this);
    this.sweep = new LifecycleSweep(this, { cron: config.lifecycleSweepCron, log });
    this.scheduler = new Scheduler(this, { pollMs: config.schedulerPollMs, log });
    this.queries = new QueryService(this);
    this.bulkLoads = new BulkLoads(this, { dataDir: config.dataDir, log });
    const transport = mailTransport ?? createMailTransport({ smtpUrl: config.mail.smtpUrl, dataDir: config.dataDir });
    // What the sender sent or gave up on is written back to the record the mail is about.
    const sender = new MailSender({
      store,
      transport,
      clock,
      log,
      leases: this.leases,
      pollMs: config.workerPollMs,
      onOutcome: this.notices.recordDelivery,
    });
    this.mailer = { transport, sender };
  }

  resource(slug: string): ResourceService {
    const s = this.resources.get(slug);
    if (!s) throw new Error(`no resource ${slug}`);
    return s;
  }
}

/**
 * Builds every service of the app, once. Background work is not started here: jobs/registry.ts
 * registers the execution handlers and starts and stops the loops.
 */
export function composeServices(parts: ServiceParts): AppServices {
  // never in production: only `node --test` (NODE_TEST_CONTEXT) or NODE_ENV=test may pin the audit draw
  if (parts.auditDraw && !process.env.NODE_TEST_CONTEXT && process.env.NODE_ENV !== 'test')
    throw new Error('auditDraw is a test-only dependency');
  const services = new Services(parts);
  // Every reference must name a served resource: a typo in a definition stops start-up.
  for (const r of RESOURCES) for (const f of r.refFields) services.resource(f.target);
  return services;
}

export type { AppServices };
