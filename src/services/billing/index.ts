import type { RequestContext } from '../../core/context.js';
import type { JobContext } from '../../jobs/executions.js';
import type { StoredRecord } from '../../store/records.js';
import type { Db } from '../../store/store.js';
import type { BillingDeps } from './deps.js';
import { execute } from './execute.js';
import { BillingRecords } from './records.js';
import { refresh } from './refresh.js';
import { runExecutions, runMessages } from './follow.js';
import { previewEmails } from './preview.js';
import { createRunFromTemplate, startExecute, startRefresh } from './start.js';
import type { Rec } from './types.js';

export type { BillingDeps } from './deps.js';
export { ACTION_HANDLERS } from './actions/index.js';

/**
 * Billing runs over the store. Refresh computes the run's candidates and stores them as
 * billingRunActions; execute performs the pending ones. Both run in the background as executions
 * (jobs/executions.ts) and are written to be re-run after a crash:
 * - an action's id is derived from (run, job, record, reminder), so a refresh that runs again finds
 *   the actions it already wrote instead of duplicating them;
 * - each action's effect, its e-mail (queued in the outbox) and its status change commit in one
 *   transaction (that of the action's chunk, the action in a savepoint of its own), and only
 *   `pending` actions are performed, so a resumed execution never performs an action twice nor
 *   loses one.
 *
 * The parts: start.ts (the HTTP actions), refresh.ts and candidates.ts, execute.ts and chunks.ts,
 * actions/ (one handler per action type), billable.ts and lookups.ts; SQL in store/billing.ts.
 */
export class Billing {
  private readonly records: BillingRecords;

  constructor(deps: BillingDeps) {
    this.records = new BillingRecords(deps);
  }

  /**
   * @deprecated build one with `new Billing(deps)` where services are composed; this builds a new
   * one each time (it holds no state), for call sites not converted yet.
   */
  static of(deps: BillingDeps): Billing {
    return new Billing(deps);
  }

  /** Registers the background handlers (once per app). */
  register() {
    this.records.deps.executions.register('billingRuns', 'refresh', (job) => this.refresh(job));
    this.records.deps.executions.register('billingRuns', 'execute', (job) => this.execute(job));
  }

  startRefresh(ctx: RequestContext, id: string) {
    return startRefresh(this.records, ctx, id);
  }

  startExecute(ctx: RequestContext, id: string) {
    return startExecute(this.records, ctx, id);
  }

  /** POST /billingTemplates/{t}/createRun/{id} { run_date, name? }: a draft run with the template's options resolved. */
  createRunFromTemplate(ctx: RequestContext, templateId: string, body: unknown, extra: Rec = {}, inTx?: Db): Promise<StoredRecord> {
    return createRunFromTemplate(this.records, ctx, templateId, body, extra, inTx);
  }

  /** GET /billingRuns/{t}/executions/{id}: every refresh and execution of the run. */
  executions(ctx: RequestContext, id: string) {
    return runExecutions(this.records, ctx, id);
  }

  /** GET /billingRuns/{t}/messages/{id}: the run's e-mails (queued, sent, failed) and those not sent, with why. */
  messages(ctx: RequestContext, id: string, query: Record<string, string>) {
    return runMessages(this.records, ctx, id, query);
  }

  /** POST /billingRuns/{t}/previewEmails/{id}: the e-mails an execution would send, rendered, nothing sent. */
  previewEmails(ctx: RequestContext, id: string, query: Record<string, string>) {
    return previewEmails(this.records, ctx, id, query);
  }

  /** The refresh execution's handler. */
  refresh(job: JobContext) {
    return refresh(this.records, job);
  }

  /** The execute execution's handler. */
  execute(job: JobContext) {
    return execute(this.records, job);
  }
}

/** @deprecated see Billing.of: for the definitions' action handlers, which get the services untyped. */
export const billing = (s: unknown) => Billing.of(s as BillingDeps);
