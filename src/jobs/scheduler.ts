import type { RequestContext } from '../core/context.js';
import { AppError } from '../core/errors.js';
import type { AppServices } from '../resources/kit/context.js';
import { asSystem, asTenant } from '../store/tenant-scope.js';
import { everyRecordId } from '../store/schedule.js';
import type { StoredRecord } from '../store/records.js';
import { nextRunDate, preprocessingDate, validateSchedule } from '../domain/billing/schedule.js';

/**
 * Recurring billing runs: on each tick the scheduler walks the active recurring runs of every tenant
 * and, for each one's next run date (its cron `schedule`):
 * - from `pre_processing_lead_time` business days before it: creates the run from the template and
 *   starts its refresh (once: the run is found again by recurring_billing_run_id + scheduled_run_date);
 * - from the run date: starts its execution once it is ready;
 * - once it has ended: records last_run_date (or last_error / errors_since_last_run) and moves
 *   next_run_date to the following occurrence.
 * Only one process schedules at a time: the holder of the `scheduler` lease (renewed every tick).
 * Every step is idempotent, so a tick that dies half-way is finished by the next one.
 */
type Rec = Record<string, any>;
const LEASE = 'scheduler';

export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;

  constructor(
    private readonly s: AppServices,
    private readonly opts: { pollMs: number; log?: { error(obj: unknown, msg?: string): void } },
  ) {}

  start() {
    if (!this.opts.pollMs || this.timer) return;
    const loop = () => {
      this.timer = setTimeout(async () => {
        await this.tick().catch((e) => this.opts.log?.error({ err: e }, 'scheduler tick failed'));
        if (this.timer) loop();
      }, this.opts.pollMs);
      this.timer.unref?.();
    };
    loop();
  }

  async stop() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.ticking;
    // another process may lead at once
    await this.s.leases.release(LEASE).catch(() => {});
  }

  /** Takes or renews the scheduler lease; false when another process holds it. */
  private lease(): Promise<boolean> {
    return this.s.leases.acquire(LEASE, Math.max(3 * this.opts.pollMs, 60_000));
  }

  /** One round over every tenant's recurring billing runs. */
  tick(): Promise<void> {
    if (this.ticking) return this.ticking;
    this.ticking = asSystem(async () => {
      if (!(await this.lease())) return;
      const table = this.s.resource('recurringBillingRuns').resource.table.name;
      const rows = await everyRecordId(this.s.store.db, table);
      for (const r of rows) {
        await asTenant(r.tenant_id, () => this.one(r.tenant_id, r.id)).catch((e) =>
          this.opts.log?.error({ err: e, recurring: r.id }, 'recurring billing run failed'),
        );
      }
    }).finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async one(tenantId: string, id: string) {
    const ctx: RequestContext = {
      tenantId,
      actor: {
        sub: 'scheduler',
        tenants: [tenantId],
        scopes: new Set(['certifications:admin', 'certifications:write', 'certifications:read']),
      },
      requestId: `scheduler-${crypto.randomUUID()}`,
      via: 'recurring billing run',
    };
    const recurring = this.s.resource('recurringBillingRuns');
    const rec = await recurring.table.get(this.s.store.db, tenantId, id);
    if (!rec || rec.is_active === false) return;
    // only the bookkeeping fields, as a PATCH: a record an older release stored with a field today's
    // rules refuse (a free-text schedule) still takes its last_error, and a user's edit in between is kept
    const save = (changes: Rec) =>
      recurring.patch(
        ctx,
        id,
        Object.entries(changes).map(([k, value]) => ({ op: 'add', path: `/${k}`, value })),
      );
    const fail = (message: string) =>
      save({
        last_error: message,
        last_error_date: this.s.clock.now().toISOString(),
        errors_since_last_run: Number(rec.errors_since_last_run ?? 0) + 1,
      });

    const bad = validateSchedule(String(rec.schedule));
    if (bad) {
      if (rec.last_error !== `schedule: ${bad}`) await fail(`schedule: ${bad}`);
      return;
    }
    const now = this.s.clock.now();
    if (!rec.next_run_date) {
      const from = new Date(String(rec.last_run_date ?? rec.sys_created_at ?? now.toISOString()));
      await save({ next_run_date: nextRunDate(String(rec.schedule), from).toISOString() });
      return; // acted on next tick, with the stored date
    }
    const runAt = new Date(String(rec.next_run_date));
    const preAt = preprocessingDate(runAt, Number(rec.pre_processing_lead_time ?? 0));
    if (now < preAt) return;

    const runs = await this.s
      .resource('billingRuns')
      .table.page(this.s.store.db, tenantId, [{ column: 'f_recurring_billing_run_id', op: 'in', values: [id] }], undefined, 10_000);
    const run = runs.find((r) => r.scheduled_run_date && new Date(String(r.scheduled_run_date)).getTime() === runAt.getTime()) as
      | StoredRecord
      | undefined;
    try {
      if (!run) {
        if (!rec.template_id) return await fail('no template_id: a recurring billing run creates its runs from a billing template');
        const created = await this.s.billing.createRunFromTemplate(
          ctx,
          String(rec.template_id),
          { run_date: runAt.toISOString() },
          {
            recurring_billing_run_id: id,
            scheduled_preprocessing_date: preAt.toISOString(),
          },
        );
        await this.s.billing.startRefresh(ctx, created.id);
        return;
      }
      if (run.status === 'ready for execution' && now >= runAt) {
        await this.s.billing.startExecute(ctx, run.id);
        return;
      }
      if (run.status === 'completed' || run.status === 'error' || run.status === 'cancelled') {
        const next = nextRunDate(String(rec.schedule), runAt).toISOString();
        if (run.status === 'completed') await save({ last_run_date: runAt.toISOString(), next_run_date: next, errors_since_last_run: 0 });
        else {
          await save({
            next_run_date: next,
            last_error: `run ${run.id} ended ${run.status}${run.error ? `: ${run.error}` : ''}`,
            last_error_date: now.toISOString(),
            errors_since_last_run: Number(rec.errors_since_last_run ?? 0) + 1,
          });
        }
      }
    } catch (e) {
      // a refresh or execution already running is fine: the next tick looks again
      if (e instanceof AppError && e.kind === 'conflict' && /still running/.test(e.message)) return;
      await fail(e instanceof Error ? e.message : String(e));
    }
  }
}
