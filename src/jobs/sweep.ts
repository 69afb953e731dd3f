import type { RequestContext } from '../core/context.js';
import { AppError } from '../core/errors.js';
import { yieldToIo } from '../core/yield.js';
import type { AppServices } from '../resources/kit/context.js';
import { badKey, decodeKey, toPage } from '../resources/kit/paging.js';
import type { PageQuery } from '../resources/kit/service/core.js';
import { asSystem, asTenant } from '../store/tenant-scope.js';
import { countDueWork, dueApplicationIds, dueCertificationIds, tenantsWithDueWork, type SweepTables } from '../store/standing.js';
import { EXPIRABLE_APPLICATION_STATUSES } from '../domain/billing/eligibility.js';
import { nextRunDate } from '../domain/billing/schedule.js';
import type { LapseMemo } from '../services/sweep.js';
import type { ExecutionHandle, ExecutionView, JobContext } from './executions.js';
import { EXECUTION_KINDS } from './kinds.js';

/**
 * The lifecycle sweep: time moves the lifecycle with nothing to set up. At every occurrence of
 * LIFECYCLE_SWEEP_CRON (default hourly) the process holding the `lifecycle-sweep` lease looks for the
 * tenants with work due today, a certification past the end of its grace period that is still active
 * or an open application past its expiration date, and starts one execution per such tenant
 * (`lifecycle` / `sweep`, visible at GET /executions/{tenantId}/{executionArn} and listed by GET
 * /certifications/{tenantId}/lifecycleSweeps). The executions are run by the workers like billing
 * executions: claimed with a renewable lease, resumed by any process after a crash. Each change is a
 * transaction of its own that decides again, on the locked record, whether it is still due (see
 * services/sweep.ts), so a resumed or doubled sweep never changes a record twice.
 *
 * A tenant whose sweep is running, or whose sweep started at or after the occurrence, is not started
 * again; tenants with nothing due get no execution.
 */
export const { resource: SWEEP_RESOURCE, action: SWEEP_ACTION } = EXECUTION_KINDS.lifecycleSweep;
export const SWEEP_RECORD = 'sweep';
const LEASE = 'lifecycle-sweep';
/** Longest wait between two looks at the clock (a test may move it; the system clock may jump). */
const MAX_WAIT_MS = 60_000;
const PAGE = 200;

export interface SweepOutput {
  /** Certifications made inactive. */
  lapsed: number;
  /** Applications expired. */
  expired: number;
  /** Expiration notices queued. */
  notices_queued: number;
  /** Expiration notices not sent, with why (at most 100 listed). */
  notices_not_sent: { certification_id: string; reason: string }[];
  /** How many notices were not sent (the list above stops at 100). */
  notices_not_sent_count: number;
  /** Changes that failed (a locked record, …), with the error (at most 100 listed); the others went on. */
  errors: { resource: string; id: string; error: string }[];
  /** How many changes failed (the list above stops at 100). */
  error_count: number;
}

export class LifecycleSweep {
  private timer: NodeJS.Timeout | undefined;
  private next: Date | undefined;
  private ticking: Promise<ExecutionHandle[]> | undefined;
  private checking: Promise<void> | undefined;

  constructor(
    private readonly s: AppServices,
    private readonly opts: { cron?: string; log?: { error(obj: unknown, msg?: string): void } },
  ) {}

  private get tables(): SweepTables {
    return {
      certifications: this.s.resource('certifications').table.spec.name,
      applications: this.s.resource('applications').table.spec.name,
      expirable: EXPIRABLE_APPLICATION_STATUSES,
    };
  }
  private today() {
    return this.s.clock.now().toISOString().slice(0, 10);
  }

  /** Starts the schedule (nothing when the cron is off): a sweep round at every occurrence. */
  start() {
    if (!this.opts.cron || this.timer) return;
    this.next = nextRunDate(this.opts.cron, this.s.clock.now());
    this.arm();
  }

  private arm() {
    const wait = Math.max(10, Math.min(MAX_WAIT_MS, (this.next?.getTime() ?? 0) - this.s.clock.now().getTime()));
    this.timer = setTimeout(() => {
      void this.check()
        .catch((e) => this.opts.log?.error({ err: e }, 'lifecycle sweep round failed'))
        .finally(() => {
          if (this.timer) this.arm();
        });
    }, wait);
    this.timer.unref?.();
  }

  /** Runs a round when the clock has reached the next occurrence of the schedule (the timer calls it; tests too). */
  check(): Promise<void> {
    if (this.checking) return this.checking;
    this.checking = (async () => {
      if (!this.opts.cron || !this.next) return;
      const now = this.s.clock.now();
      if (now < this.next) return;
      const occurrence = this.next;
      this.next = nextRunDate(this.opts.cron, now);
      await this.round(occurrence);
    })().finally(() => (this.checking = undefined));
    return this.checking;
  }

  async stop() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.checking?.catch(() => {});
    await this.ticking?.catch(() => {});
    // another process may lead at once
    await this.s.leases.release(LEASE).catch(() => {});
  }

  /** Takes or renews the sweep's lease; false when another process holds it. */
  private lease(): Promise<boolean> {
    return this.s.leases.acquire(LEASE, 5 * 60_000);
  }

  /**
   * One round over every tenant (the schedule's, at `occurrence`): with the lease, starts a sweep for
   * each tenant with work due and no sweep running or started since `occurrence`. Answers the handles
   * of the sweeps it started (none when another process holds the lease).
   */
  round(occurrence: Date = this.s.clock.now()): Promise<ExecutionHandle[]> {
    if (this.ticking) return this.ticking;
    this.ticking = asSystem(async () => {
      if (!(await this.lease())) return [];
      const tenants = await tenantsWithDueWork(this.s.store.db, this.tables, this.today());
      const started: ExecutionHandle[] = [];
      for (const tenantId of tenants) {
        const handle = await asTenant(tenantId, () => this.startScheduled(tenantId, occurrence)).catch((e) => {
          this.opts.log?.error({ err: e, tenant: tenantId }, 'lifecycle sweep could not start');
          return undefined;
        });
        if (handle) started.push(handle);
      }
      return started;
    }).finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async startScheduled(tenantId: string, occurrence: Date): Promise<ExecutionHandle | undefined> {
    const since = occurrence.toISOString();
    // the newest sweep: running, or started since this occurrence (by another round, or by an admin)
    const [last] = await this.s.executions.recent(tenantId, SWEEP_RESOURCE, SWEEP_RECORD, 1);
    if (last && (last.status === 'RUNNING' || last.start_date >= since)) return undefined;
    const ctx: RequestContext = {
      tenantId,
      actor: {
        sub: 'lifecycle sweep',
        tenants: [tenantId],
        scopes: new Set(['certifications:admin', 'certifications:write', 'certifications:read']),
      },
      requestId: `sweep-${crypto.randomUUID()}`,
      via: 'lifecycle',
    };
    try {
      return await this.s.executions.start(ctx, SWEEP_RESOURCE, SWEEP_RECORD, SWEEP_ACTION);
    } catch (e) {
      if (e instanceof AppError && e.kind === 'conflict') return undefined; // one is running
      throw e;
    }
  }

  /** POST /certifications/{tenantId}/lifecycleSweep: a sweep of the tenant now (409 while one runs). */
  startNow(ctx: RequestContext): Promise<ExecutionHandle> {
    return this.s.executions.start(ctx, SWEEP_RESOURCE, SWEEP_RECORD, SWEEP_ACTION);
  }

  /** GET /certifications/{tenantId}/lifecycleSweeps: the tenant's sweeps, newest first, paged like every list. */
  async list(ctx: RequestContext, q: PageQuery): Promise<{ Count: number; Items: ExecutionView[]; LastEvaluatedKey?: string }> {
    const limit = this.s.resource('certifications').pageLimit(q);
    const after = decodeKey(q.exclusiveStartKey);
    const rows = await this.s.executions.recentPage(ctx.tenantId, SWEEP_RESOURCE, SWEEP_RECORD, after, limit + 1);
    if (!rows) throw badKey();
    const { items, lastKey } = toPage(rows, limit);
    const Items = items.map((r) => this.s.executions.view(r));
    return { Count: Items.length, Items, ...(lastKey ? { LastEvaluatedKey: lastKey } : {}) };
  }

  /**
   * The execution: every certification of the tenant due to lapse, then every application due to
   * expire, one transaction each, in id order. Resumed after a crash, it finds only what is still due.
   */
  async run(job: JobContext): Promise<SweepOutput> {
    const ctx = { ...job.ctx, via: 'lifecycle' };
    const db = this.s.store.db;
    const t = this.tables;
    const today = this.today();
    const out: SweepOutput = {
      lapsed: 0,
      expired: 0,
      notices_queued: 0,
      notices_not_sent: [],
      notices_not_sent_count: 0,
      errors: [],
      error_count: 0,
    };
    const memo: LapseMemo = {};
    const total = await countDueWork(db, t, ctx.tenantId, today);
    let done = 0;
    const fail = (resource: string, id: string, e: unknown) => {
      out.error_count++;
      if (out.errors.length < 100) out.errors.push({ resource, id, error: e instanceof Error ? e.message : String(e) });
    };
    const pass = async (resource: string, next: (after: string | undefined) => Promise<string[]>, one: (id: string) => Promise<void>) => {
      let after: string | undefined;
      for (;;) {
        const ids = await next(after);
        if (!ids.length) return;
        for (const id of ids) {
          if (job.stopping) throw new Error('stopping: the sweep resumes where it stopped');
          try {
            await one(id);
          } catch (e) {
            fail(resource, id, e);
          }
          done++;
          await yieldToIo();
        }
        after = ids[ids.length - 1];
        await job.progress(done, Math.max(total, done));
      }
    };
    await pass(
      'certifications',
      (after) => dueCertificationIds(db, t, ctx.tenantId, today, after, PAGE),
      async (id) => {
        const r = await this.s.sweepWork.lapse(ctx, id, memo);
        if (r.lapsed) out.lapsed++;
        if (r.notice === 'queued') out.notices_queued++;
        else if (r.notice) {
          out.notices_not_sent_count++;
          if (out.notices_not_sent.length < 100) out.notices_not_sent.push({ certification_id: id, reason: r.notice });
        }
      },
    );
    await pass(
      'applications',
      (after) => dueApplicationIds(db, t, ctx.tenantId, today, after, PAGE),
      async (id) => {
        if (await this.s.sweepWork.expire(ctx, id)) out.expired++;
      },
    );
    await job.progress(done, Math.max(total, done));
    return out;
  }
}
