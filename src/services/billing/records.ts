import { yieldToIo } from '../../core/yield.js';
import { AppError, notFound } from '../../core/errors.js';
import type { RequestContext } from '../../core/context.js';
import { runAmounts, runStatistics } from '../../domain/billing/statistics.js';
import { formatMoneyIfValid } from '../../domain/money/money.js';
import { fieldsOf } from '../../resources/kit/service.js';
import { runActions } from '../../store/billing.js';
import type { Filter, StoredRecord } from '../../store/records.js';
import type { Db } from '../../store/store.js';
import type { BillingDeps } from './deps.js';
import { PAGE, type Rec } from './types.js';

/** The records billing reads and writes: runs, their actions, and scans over any resource. */
export class BillingRecords {
  constructor(readonly deps: BillingDeps) {}

  get runs() {
    return this.deps.resource('billingRuns');
  }
  get actions() {
    return this.deps.resource('billingRunActions');
  }
  now() {
    return this.deps.clock.now().toISOString();
  }

  /** Every record of `slug` matching `filters`, page by page (bounded memory per page). */
  async *scan(db: Db, tenantId: string, slug: string, filters: Filter[]): AsyncGenerator<StoredRecord[]> {
    for await (const page of this.deps.resource(slug).table.scan(db, tenantId, filters, PAGE)) {
      await yieldToIo();
      yield page;
    }
  }

  async all(db: Db, tenantId: string, slug: string, filters: Filter[]): Promise<StoredRecord[]> {
    const out: StoredRecord[] = [];
    for await (const page of this.scan(db, tenantId, slug, filters)) out.push(...page);
    return out;
  }

  /** Every action of the run, page by page. */
  async *actionsOf(tenantId: string, runId: string): AsyncGenerator<StoredRecord[]> {
    for await (const page of runActions.scan(this.deps.store.db, this.actions.table, tenantId, runId, PAGE)) {
      await yieldToIo();
      yield page;
    }
  }

  async mustRun(db: Db, ctx: RequestContext, id: string): Promise<StoredRecord> {
    const run = await this.runs.table.get(db, ctx.tenantId, id);
    if (!run) throw notFound('billing run', id);
    return run;
  }

  /** Changes the run's own fields (status, dates, statistics) on top of its current version. */
  async setRun(ctx: RequestContext, id: string, changes: Rec): Promise<StoredRecord> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.deps.store.transaction(async (db) => {
          const run = await this.mustRun(db, ctx, id);
          const next = { ...fieldsOf(run), ...changes };
          for (const [k, v] of Object.entries(changes)) if (v === undefined) delete next[k];
          return this.runs.update({ ...ctx, via: 'billing run' }, id, next, undefined, db);
        });
      } catch (e) {
        // a client edited the run meanwhile: apply on top of its version
        if (attempt < 3 && e instanceof AppError && e.kind === 'conflict' && /changed by another request/.test(e.message)) continue;
        throw e;
      }
    }
  }

  /** The run's statistics: its actions counted by type and status. */
  async statistics(ctx: RequestContext, runId: string) {
    return (await this.figures(ctx, runId)).statistics;
  }

  /** The run's statistics and amounts (per type and currency, minor units), from one pass over its actions: the run's fields of the same names. */
  async figures(ctx: RequestContext, runId: string) {
    const all: { type: string; status: string; amount?: unknown; currency_code?: unknown }[] = [];
    for await (const page of this.actionsOf(ctx.tenantId, runId)) {
      for (const a of page) all.push({ type: String(a.type), status: String(a.status), amount: a.amount, currency_code: a.currency_code });
    }
    // formatted when it can be (an action a client wrote may name no currency Intl knows)
    const amounts = runAmounts(all).map((t) => {
      const formatted = formatMoneyIfValid(t.total, t.currency);
      return formatted === undefined ? t : { ...t, formatted };
    });
    return { statistics: runStatistics(all), amounts };
  }
}
