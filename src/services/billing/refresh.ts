import { yieldToIo } from '../../core/yield.js';
import type { JobContext } from '../../jobs/executions.js';
import { fieldsOf } from '../../resources/kit/service.js';
import type { StoredRecord } from '../../store/records.js';
import type { Db } from '../../store/store.js';
import { candidates } from './candidates.js';
import { queueRunSummary } from './summary.js';
import type { BillingRecords } from './records.js';
import type { Candidate } from './types.js';

/** New actions per transaction (multi-row INSERTs) and changed actions per transaction. */
const CREATES_PER_TX = 500;
const CHANGES_PER_TX = 100;
/** Action statuses a refresh puts back in the queue when the record is a candidate again. */
const REQUEUED = new Set(['no longer eligible', 'expiration date changed']);

/**
 * The refresh of a run (a background execution): computes its candidates and stores them as
 * billingRunActions, then the run's statistics; the run goes preprocessing -> ready for execution
 * (or error).
 */
export async function refresh(records: BillingRecords, job: JobContext) {
  const { ctx } = job;
  const db = records.deps.store.db;
  const run = await records.mustRun(db, ctx, job.recordId);
  await records.setRun(ctx, run.id, {
    status: 'preprocessing',
    preprocessing_date: records.now(),
    error: undefined,
    error_stack: undefined,
  });
  try {
    const found = await candidates(records, ctx, run);
    const counts = await storeCandidates(records, job, run, found);
    const figures = await records.figures(ctx, run.id);
    await records.setRun(ctx, run.id, { status: 'ready for execution', last_refresh_date: records.now(), ...figures });
    return { candidates: found.length, ...counts };
  } catch (e) {
    if (job.stopping) throw e;
    await records.setRun(ctx, run.id, {
      status: 'error',
      error: e instanceof Error ? e.message : String(e),
      error_stack: e instanceof Error ? String(e.stack).slice(0, 4000) : undefined,
    });
    await queueRunSummary(records, ctx, run.id, job.executionId, 'refresh failed');
    throw e;
  }
}

/** Writes the candidates as actions: new ones added, vanished pending ones marked, completed ones kept. */
async function storeCandidates(records: BillingRecords, job: JobContext, run: StoredRecord, found: Candidate[]) {
  const { ctx } = job;
  const { actions } = records;
  const store = records.deps.store;
  const actx = { ...ctx, via: 'billing run refresh' };
  const when = records.now();
  const existing = new Map<string, StoredRecord>();
  for await (const page of records.actionsOf(ctx.tenantId, run.id)) {
    for (const a of page) existing.set(a.id, a);
  }
  const counts = { added: 0, removed: 0, unchanged: 0 };
  const wanted = new Set(found.map((c) => c.id));
  let done = 0;
  const writes: ((trx: Db) => Promise<void>)[] = [];
  const creates: { id: string; fields: Record<string, unknown> }[] = [];
  // the amount is the refresh's: an action's earlier one goes when this refresh cannot price it
  const unpriced = (old: StoredRecord) => {
    const { amount: _a, currency_code: _c, ...rest } = fieldsOf(old);
    return rest;
  };
  for (const c of found) {
    const old = existing.get(c.id);
    const { id, ...fields } = c;
    if (!old) {
      counts.added++;
      creates.push({
        id,
        fields: {
          ...fields,
          billing_run_id: run.id,
          date: when,
          status: 'pending',
          outcome_of_last_refresh: 'added',
          last_refresh_date: when,
        },
      });
    } else if (REQUEUED.has(String(old.status))) {
      // ended (by a refresh or an execution) because its record had changed, and a candidate again:
      // back in the queue, without the outcome of that attempt
      counts.added++;
      const { step_function_execution_arn: _x, notice_id: _n, notice_status: _s, notice_status_reason: _r, ...kept } = unpriced(old);
      writes.push((trx) =>
        actions
          .update(
            actx,
            id,
            { ...kept, ...fields, status: 'pending', outcome_of_last_refresh: 'added', last_refresh_date: when },
            undefined,
            trx,
          )
          .then(() => undefined),
      );
    } else if (old.status === 'pending') {
      counts.unchanged++;
      writes.push((trx) =>
        actions
          .update(actx, id, { ...unpriced(old), ...fields, outcome_of_last_refresh: 'no change', last_refresh_date: when }, undefined, trx)
          .then(() => undefined),
      );
    } else counts.unchanged++; // performed (or failed) already: never reset
  }
  for (const [id, old] of existing) {
    if (wanted.has(id) || old.status !== 'pending') continue;
    counts.removed++;
    writes.push((trx) =>
      actions
        .update(
          actx,
          id,
          { ...fieldsOf(old), status: 'no longer eligible', outcome_of_last_refresh: 'removed', last_refresh_date: when },
          undefined,
          trx,
        )
        .then(() => undefined),
    );
  }
  // New actions in chunks of 500 multi-row inserts; changes in chunks of 100 per transaction. Few
  // commits, and a crash loses at most one chunk (redone on resume: the ids are derived).
  const all = creates.length + writes.length;
  for (let i = 0; i < creates.length; i += CREATES_PER_TX) {
    if (job.stopping) throw new Error('stopping: the refresh resumes where it stopped');
    await store.transaction((trx) => actions.createManyWithIds(actx, creates.slice(i, i + CREATES_PER_TX), trx));
    done += Math.min(CREATES_PER_TX, creates.length - i);
    await job.progress(done, all);
    await yieldToIo();
  }
  for (let i = 0; i < writes.length; i += CHANGES_PER_TX) {
    if (job.stopping) throw new Error('stopping: the refresh resumes where it stopped');
    await store.transaction(async (trx) => {
      for (const w of writes.slice(i, i + CHANGES_PER_TX)) await w(trx);
    });
    done += Math.min(CHANGES_PER_TX, writes.length - i);
    await job.progress(done, all);
    await yieldToIo();
  }
  return counts;
}
