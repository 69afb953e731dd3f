import { EventEmitter } from 'node:events';
import type { Store } from '../store/store.js';
import type { RequestContext } from '../core/context.js';
import type { Clock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import { asSystem, asTenant } from '../store/tenant-scope.js';
import {
  anyUnclaimedExecution,
  claimExecution,
  dueExecutions,
  executionsOf,
  executionsPage,
  getExecution,
  insertExecution,
  releaseExecutions,
  renewExecution,
  runningExecution,
  updateHeldExecution,
  type ExecutionRow,
  type ExecutionStatus,
} from '../store/executions.js';
import type { Leases } from './lease.js';

export type { ExecutionRow, ExecutionStatus };

/**
 * Long work (a billing run's refresh and execution) answers at once with an execution handle and
 * runs in the background. The `executions` row is the durable trace and the unit of recovery:
 * - a worker claims a RUNNING execution by taking its lease (a conditional UPDATE, so two processes
 *   never both take it) and renews the lease while it works;
 * - if the process dies, the lease lapses and any worker (this process after a restart, or another
 *   server on the same PostgreSQL) claims it again and calls the handler again. Handlers are written to
 *   be re-run: each unit of work commits with its own "done" mark, so a resumed run skips what is done.
 */
export interface ExecutionHandle {
  executionArn: string;
  start_date: string;
  notification_channel: string;
}

export interface JobContext {
  /** The tenant's context, acting as the user who started the execution. */
  ctx: RequestContext;
  executionId: string;
  recordId: string;
  params: Record<string, unknown>;
  /** Records progress (persisted, and pushed to event listeners). */
  progress(done: number, total: number): Promise<void>;
  /** True once this worker lost its lease (another took over) or the server is stopping: return soon. */
  readonly stopping: boolean;
}

export type JobHandler = (job: JobContext) => Promise<unknown>;

export interface ExecutionView {
  executionArn: string;
  resource: string;
  record_id: string;
  action: string;
  status: ExecutionStatus;
  start_date: string;
  stop_date?: string;
  progress: { done: number; total: number };
  error?: string;
  output?: unknown;
}

const PREFIX = 'arn:accredit:states';
export const executionArn = (tenantId: string, resource: string, action: string, id: string) =>
  `${PREFIX}:${tenantId}:execution:${resource}-${action}:${id}`;
/** The execution id inside an ARN (or the id itself). */
export const executionIdOf = (arnOrId: string) => arnOrId.slice(arnOrId.lastIndexOf(':') + 1);

export interface ExecutionOptions {
  /** How often an idle worker looks for executions whose lease lapsed (ms). */
  pollMs?: number;
  log?: { error(obj: unknown, msg?: string): void };
}

export class Executions {
  /** 'progress' and 'end' events: { tenantId, id, view }. */
  readonly events = new EventEmitter();
  private readonly handlers = new Map<string, JobHandler>();
  private readonly running = new Map<string, { stopping: boolean; done: Promise<void> }>();
  private timer: NodeJS.Timeout | undefined;
  private active = false;
  private polling: Promise<void> | undefined;
  private readonly pollMs: number;

  /** `leases`: the app's owner id and lease term (WORKER_LEASE_MS); a crashed worker's executions resume after it. */
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly leases: Leases,
    private readonly opts: ExecutionOptions = {},
  ) {
    this.pollMs = opts.pollMs ?? 5000;
    this.events.setMaxListeners(0);
  }

  private get owner() {
    return this.leases.owner;
  }

  private get db() {
    return this.store.db;
  }

  /** The handler of one kind (jobs/registry.ts registers them all); a second one for a kind is refused. */
  register(resource: string, action: string, handler: JobHandler) {
    if (this.handlers.has(`${resource}.${action}`)) throw new Error(`a second handler for executions of ${resource}.${action}`);
    this.handlers.set(`${resource}.${action}`, handler);
  }

  /**
   * Records a new RUNNING execution and wakes the worker. One execution per record at a time: a
   * second start while one runs is a 409 naming the running one.
   */
  async start(
    ctx: RequestContext,
    resource: string,
    recordId: string,
    action: string,
    params: Record<string, unknown> = {},
  ): Promise<ExecutionHandle> {
    const running = await runningExecution(this.db, ctx.tenantId, resource, recordId);
    if (running) {
      throw new AppError(
        'conflict',
        `a ${running.action} of this record is still running (${executionArn(ctx.tenantId, resource, String(running.action), String(running.id))}); wait for it to end`,
      );
    }
    const id = crypto.randomUUID();
    const now = this.clock.now().toISOString();
    const known = this.handlers.has(`${resource}.${action}`);
    await insertExecution(this.db, {
      tenant_id: ctx.tenantId,
      id,
      resource,
      record_id: recordId,
      action,
      status: known ? 'RUNNING' : 'SUCCEEDED',
      start_date: now,
      stop_date: known ? null : now,
      started_by: ctx.actor.sub,
      params: JSON.stringify(params),
      progress_done: 0,
      progress_total: 0,
      updated_at: now,
    });
    if (known) this.poke();
    return {
      executionArn: executionArn(ctx.tenantId, resource, action, id),
      start_date: now,
      notification_channel: `executions/${ctx.tenantId}/${id}/events`,
    };
  }

  get(tenantId: string, arnOrId: string): Promise<ExecutionRow | undefined> {
    return getExecution(this.db, tenantId, executionIdOf(arnOrId));
  }

  list(tenantId: string, resource: string, recordId: string): Promise<ExecutionRow[]> {
    return executionsOf(this.db, tenantId, resource, recordId);
  }

  /** The latest executions of a record, newest first. */
  recent(tenantId: string, resource: string, recordId: string, limit: number): Promise<ExecutionRow[]> {
    return executionsPage(this.db, tenantId, resource, recordId, undefined, limit);
  }

  /**
   * A page of a record's executions, newest first, after execution `afterId` (the last of the previous
   * page); undefined when `afterId` is not an execution of that record (a key from elsewhere).
   */
  async recentPage(tenantId: string, resource: string, recordId: string, afterId: string | undefined, limit: number) {
    let before: ExecutionRow | undefined;
    if (afterId !== undefined) {
      before = await getExecution(this.db, tenantId, afterId);
      if (before?.resource !== resource || before.record_id !== recordId) return undefined;
    }
    return executionsPage(this.db, tenantId, resource, recordId, before, limit);
  }

  view(row: ExecutionRow): ExecutionView {
    const output = typeof row.output === 'string' ? JSON.parse(row.output) : row.output;
    return {
      executionArn: executionArn(row.tenant_id, row.resource, row.action, row.id),
      resource: row.resource,
      record_id: row.record_id,
      action: row.action,
      status: row.status,
      start_date: row.start_date,
      ...(row.stop_date ? { stop_date: row.stop_date } : {}),
      progress: { done: Number(row.progress_done ?? 0), total: Number(row.progress_total ?? 0) },
      ...(row.error ? { error: row.error } : {}),
      ...(output !== null && output !== undefined ? { output } : {}),
    };
  }

  // ---- the worker ----------------------------------------------------------------------------------

  /** Starts polling for work (executions started here, and those whose worker died). */
  startWorker() {
    if (this.active) return;
    this.active = true;
    this.poke();
  }

  /** Looks for work now (and then every pollMs). */
  poke() {
    if (!this.active) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), 0);
    this.timer.unref?.();
  }

  private async poll() {
    if (this.polling) return this.polling;
    this.polling = (async () => {
      try {
        await this.claimAndRun();
      } catch (e) {
        this.opts.log?.error({ err: e }, 'execution worker poll failed');
      } finally {
        this.polling = undefined;
        if (this.active) {
          this.timer = setTimeout(() => void this.poll(), this.pollMs);
          this.timer.unref?.();
        }
      }
    })();
    return this.polling;
  }

  private async claimAndRun() {
    const now = this.clock.now().toISOString();
    const due = await asSystem(() => dueExecutions(this.db, now, 20));
    for (const d of due) {
      const key = `${d.tenant_id}/${d.id}`;
      if (this.running.has(key) || !this.active) continue;
      const claimed = await asSystem(() => claimExecution(this.db, d.tenant_id, d.id, this.owner, this.leases.until(), now));
      if (!claimed) continue;
      const state = { stopping: false, done: Promise.resolve() };
      state.done = asTenant(String(d.tenant_id), () => this.run(String(d.tenant_id), String(d.id), state)).finally(() =>
        this.running.delete(key),
      );
      this.running.set(key, state);
    }
  }

  private async run(tenantId: string, id: string, state: { stopping: boolean }) {
    const row = await this.get(tenantId, id);
    if (row?.status !== 'RUNNING') return;
    const handler = this.handlers.get(`${row.resource}.${row.action}`);
    const stopRenewing = this.leases.keep(
      (until) => asTenant(tenantId, () => renewExecution(this.db, tenantId, id, this.owner, until)),
      () => (state.stopping = true), // another worker took it over
    );
    const job: JobContext = {
      ctx: {
        tenantId,
        actor: {
          sub: row.started_by ?? 'system',
          tenants: [tenantId],
          scopes: new Set(['certifications:admin', 'certifications:write', 'certifications:read']),
        },
        requestId: id,
      },
      executionId: id,
      recordId: row.record_id,
      params: row.params ? JSON.parse(row.params) : {},
      progress: async (done, total) => {
        await updateHeldExecution(this.db, tenantId, id, this.owner, {
          progress_done: done,
          progress_total: total,
          updated_at: this.clock.now().toISOString(),
        });
        this.emit(tenantId, id, 'progress');
      },
      get stopping() {
        return state.stopping;
      },
    };
    let status: ExecutionStatus = 'SUCCEEDED';
    let output: unknown = null;
    let error: string | null = null;
    try {
      if (!handler) throw new Error(`no handler for ${row.resource}.${row.action}`);
      output = await handler(job);
    } catch (e) {
      status = 'FAILED';
      error = e instanceof Error ? e.message : String(e);
      this.opts.log?.error({ err: e, execution: id }, 'execution failed');
    } finally {
      stopRenewing();
    }
    if (state.stopping) return; // left for whoever holds the lease now (or for the next start)
    await updateHeldExecution(this.db, tenantId, id, this.owner, {
      status,
      stop_date: this.clock.now().toISOString(),
      output: output === null || output === undefined ? null : JSON.stringify(output),
      error,
      lease_until: null,
      updated_at: this.clock.now().toISOString(),
    });
    this.emit(tenantId, id, 'end');
  }

  private emit(tenantId: string, id: string, event: 'progress' | 'end') {
    this.events.emit(event, { tenantId, id });
  }

  /** Waits until no execution of this process runs and none is due (tests, graceful stop). */
  async idle(timeoutMs = 60_000) {
    const until = Date.now() + timeoutMs;
    for (;;) {
      await this.polling;
      await Promise.all([...this.running.values()].map((r) => r.done));
      const pending = await asSystem(() => anyUnclaimedExecution(this.db));
      if (!this.running.size && !pending) return;
      if (Date.now() > until) throw new Error('executions still running');
      if (pending) await this.poll();
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /**
   * Stops taking work; running handlers are told to stop and awaited, and their executions are
   * released (lease cleared) so that the next start resumes them at once.
   */
  async stop() {
    this.active = false;
    if (this.timer) clearTimeout(this.timer);
    for (const r of this.running.values()) r.stopping = true;
    await this.polling;
    await Promise.all([...this.running.values()].map((r) => r.done));
    await asSystem(() => releaseExecutions(this.db, this.owner)).catch(() => {});
  }
}
