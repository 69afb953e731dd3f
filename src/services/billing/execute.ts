import { yieldToIo } from '../../core/yield.js';
import type { JobContext } from '../../jobs/executions.js';
import { runActions } from '../../store/billing.js';
import { CHUNK, performChunk } from './chunks.js';
import { newLookups } from './lookups.js';
import { queueRunSummary } from './summary.js';
import type { BillingRecords } from './records.js';

/**
 * Performs the run's pending actions, a chunk at a time: one transaction per chunk (one commit, and
 * on PostgreSQL one fsync, per chunk instead of per action), each action inside its own savepoint,
 * so that an action that fails is rolled back alone and marked `error` in the same transaction
 * while the others of the chunk are kept. A crash loses at most the chunk in progress: its actions
 * are still pending and the next attempt performs them. Between chunks: cancellation, progress and
 * a turn of the event loop.
 */
export async function execute(records: BillingRecords, job: JobContext) {
  try {
    const out = await performAll(records, job);
    // a cancelled run keeps its status; its statistics say how far it got (for the summary too)
    if (out.cancelled) await records.setRun(job.ctx, job.recordId, await records.figures(job.ctx, job.recordId));
    const outcome = out.cancelled ? 'cancelled' : out.failed ? 'completed with errors' : 'completed';
    await queueRunSummary(records, job.ctx, job.recordId, job.executionId, outcome);
    return { performed: out.performed, errors: out.errors, ...(out.cancelled ? { cancelled: true } : {}) };
  } catch (e) {
    if (job.stopping) throw e; // resumed by whoever takes the execution over
    // the execution failed as a whole: the run says so (its pending actions stay pending) and its owner is told
    try {
      await records.setRun(job.ctx, job.recordId, {
        status: 'error',
        error: `execution failed: ${e instanceof Error ? e.message : String(e)}`.slice(0, 2000),
        ...(await records.figures(job.ctx, job.recordId)),
      });
    } catch (marking) {
      records.deps.log?.error(
        { billing_run_id: job.recordId, err: marking },
        'billing run could not be marked error after its execution failed',
      );
    }
    await queueRunSummary(records, job.ctx, job.recordId, job.executionId, 'execution failed');
    throw e;
  }
}

async function performAll(records: BillingRecords, job: JobContext) {
  const { ctx } = job;
  const { store } = records.deps;
  const run = await records.mustRun(store.db, ctx, job.recordId);
  if (run.status !== 'running') await records.setRun(ctx, run.id, { status: 'running', run_date: records.now() });
  const stats = await records.statistics(ctx, run.id);
  const total = stats.reduce((n, s) => n + s.total - s.excluded, 0);
  let done = stats.reduce((n, s) => n + s.successful + s.error, 0);
  let errors = 0;
  const table = records.actions.table;
  const lookups = newLookups();
  const stopping = () => new Error('stopping: the execution resumes where it stopped');
  let after: string | undefined;
  for (;;) {
    // a run cancelled meanwhile stops here; its remaining actions stay pending
    if ((await records.mustRun(store.db, ctx, run.id)).status === 'cancelled')
      return { performed: done, errors, cancelled: true, failed: 0 };
    if (job.stopping) throw stopping();
    const page = await runActions.pending(store.db, table, ctx.tenantId, run.id, after, CHUNK);
    if (!page.length) break;
    const chunk = await performChunk(
      records,
      job,
      run,
      page.map((a) => a.id),
      lookups,
    );
    done += chunk.handled;
    errors += chunk.errors;
    await job.progress(done, total);
    if (chunk.stopped) throw stopping();
    // a chunk cut short (its time budget) goes on from its last action; a short page was the last
    if (chunk.handled === page.length && page.length < CHUNK) break;
    after = page[chunk.handled - 1]!.id;
    await yieldToIo();
  }
  await job.progress(done, total);
  const final = await records.figures(ctx, run.id);
  const failed = final.statistics.reduce((n, s) => n + s.error, 0);
  await records.setRun(ctx, run.id, {
    status: failed ? 'error' : 'completed',
    ...final,
    ...(failed ? { error: `${failed} action(s) ended in error; see their error_message` } : { error: undefined, error_stack: undefined }),
  });
  return { performed: done, errors, cancelled: false, failed };
}
