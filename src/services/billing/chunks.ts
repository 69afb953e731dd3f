import { yieldToIo } from '../../core/yield.js';
import { AppError } from '../../core/errors.js';
import type { RequestContext } from '../../core/context.js';
import { executionArn, type JobContext } from '../../jobs/executions.js';
import { fieldsOf } from '../../resources/kit/service.js';
import type { StoredRecord } from '../../store/records.js';
import { Savepoint } from '../../store/savepoints.js';
import type { Db, DialectName } from '../../store/store.js';
import { perform, singleCertification } from './actions/index.js';
import type { Lookups } from './lookups.js';
import type { BillingRecords } from './records.js';
import type { Rec } from './types.js';

/**
 * Actions per transaction of an execution. At most 64: on PostgreSQL each action's savepoint that
 * writes takes a subtransaction id, and a transaction with more than 64 of them overflows the
 * backend's subxid cache (other sessions' snapshots then have to look them up in pg_subtrans).
 */
export const CHUNK = 50;
/**
 * A chunk ends early past this many milliseconds (the rest is the next chunk's): on SQLite it holds
 * the single writer, which API writes wait for; on PostgreSQL, the row locks of its records.
 */
const CHUNK_MS: Record<DialectName, number> = { sqlite: 30, postgres: 200 };

/**
 * PostgreSQL's deadlock_detected, serialization_failure and lock_not_available: contention with
 * another transaction, not the action's fault. A chunk holds the row locks of all its actions, so
 * two chunks (two runs over the same records, an activation and a chunk taking the same counter) can
 * wait for each other where two single actions would not; such a chunk is redone the old way.
 */
const isContention = (e: unknown) => ['40P01', '40001', '55P03'].includes(String((e as { code?: unknown } | null)?.code));

/** An action's fields once it failed with `e`. */
function errorFields(a: StoredRecord, e: unknown): Rec {
  const message = e instanceof Error ? e.message : String(e);
  return {
    ...fieldsOf(a),
    status: 'error',
    error_message: message.slice(0, 2000),
    ...(e instanceof Error && e.stack && !(e instanceof AppError) ? { error_stack: e.stack.slice(0, 4000) } : {}),
  };
}

export interface ChunkResult {
  handled: number;
  errors: number;
  stopped: boolean;
}

/**
 * The actions `ids` (in id order) in one transaction: re-read together under lock (FOR UPDATE on
 * PostgreSQL; SQLite's write transactions are serialised), those still pending performed one by one,
 * each in a savepoint. The chunk ends early when the worker is stopping (what is done is committed)
 * or past its time budget (the rest is the next chunk's). `handled` counts the ids dealt with, in
 * order (performed, failed or skipped as no longer pending).
 *
 * Should the chunk fail as a whole (a deadlock with another transaction, see isContention; a
 * savepoint that cannot be rolled back to; an action that cannot even be marked error), it is rolled
 * back and its actions performed as before chunks existed, one transaction each: the same outcome
 * as then, failures included.
 */
export async function performChunk(
  records: BillingRecords,
  job: JobContext,
  run: StoredRecord,
  ids: string[],
  lookups: Lookups,
): Promise<ChunkResult> {
  const { ctx } = job;
  const { store } = records.deps;
  const actx = { ...ctx, via: 'billing run' };
  const budget = CHUNK_MS[store.dialect];
  // every action records the execution that performed it (or failed it)
  const performedBy = { step_function_execution_arn: executionArn(ctx.tenantId, 'billingRuns', 'execute', job.executionId) };
  try {
    return await store.transaction(async (trx) => {
      const started = performance.now();
      const actions = await records.actions.table.getMany(trx, ctx.tenantId, ids, { forUpdate: true });
      lookups.records = new Map();
      // the certifications of the chunk's certification actions, read (and locked) in one statement
      const certIds = new Set<string>();
      for (const a of actions.values()) {
        if (a.status === 'pending' && singleCertification(a.type) && typeof a.certification_id === 'string')
          certIds.add(a.certification_id);
      }
      lookups.certifications = await records.deps
        .resource('certifications')
        .table.getMany(trx, ctx.tenantId, [...certIds], { forUpdate: true });
      // each action in a savepoint of its own, released by the next one's (see Savepoint)
      const savepoint = new Savepoint(trx, store.dialect, 'billing_action');
      let handled = 0;
      let errors = 0;
      for (const id of ids) {
        if (job.stopping) return { handled, errors, stopped: true };
        if (handled > 0 && performance.now() - started > budget) break;
        handled++;
        const a = actions.get(id);
        if (a?.status !== 'pending') continue; // performed by an earlier (crashed) attempt or another worker
        if (!(await performInSavepoint(records, trx, savepoint, actx, run, a, lookups, performedBy))) errors++;
        if (handled % 10 === 0) await yieldToIo();
      }
      return { handled, errors, stopped: false };
    });
  } catch (e) {
    // Never silent: an operator needs to know a chunk lost its batching, and why.
    records.deps.log?.warn(
      {
        billing_run_id: run.id,
        execution: job.executionId,
        chunk_size: ids.length,
        first_action_id: ids[0],
        err: e,
        reason: e instanceof Error ? e.message : String(e),
      },
      'billing chunk failed as a whole; performing its actions one per transaction',
    );
    let handled = 0;
    let errors = 0;
    for (const id of ids) {
      if (job.stopping) return { handled, errors, stopped: true };
      if (!(await performOne(records, ctx, run, id, lookups, performedBy))) errors++;
      handled++;
    }
    return { handled, errors, stopped: false };
  }
}

/**
 * One action of a chunk: its effect and its new status in a savepoint. A failure rolls back to the
 * savepoint (the effect, its e-mail) and marks the action error. False on error. A deadlock or a
 * serialization failure is not the action's fault: it fails the chunk (see performChunk).
 */
async function performInSavepoint(
  records: BillingRecords,
  trx: Db,
  savepoint: Savepoint,
  actx: RequestContext,
  run: StoredRecord,
  a: StoredRecord,
  lookups: Lookups,
  performedBy: Rec,
): Promise<boolean> {
  await savepoint.open();
  try {
    const outcome = await perform(records, trx, actx, run, a, lookups);
    await records.actions.updateRead(actx, a, { ...fieldsOf(a), ...(outcome.changes ?? {}), ...performedBy, status: outcome.status }, trx);
    savepoint.keep();
    return true;
  } catch (e) {
    if (isContention(e)) throw e;
    await savepoint.undo();
    // rolled back to the savepoint, the action is again as read (and locked) at the chunk's start
    await records.actions.updateRead(actx, a, { ...errorFields(a, e), ...performedBy }, trx);
    return false;
  }
}

/** One action in a transaction of its own (a chunk that failed as a whole). False on error. */
async function performOne(
  records: BillingRecords,
  ctx: RequestContext,
  run: StoredRecord,
  actionId: string,
  lookups: Lookups,
  performedBy: Rec,
): Promise<boolean> {
  const { store } = records.deps;
  const { actions } = records;
  const actx = { ...ctx, via: 'billing run' };
  try {
    await store.transaction(async (db) => {
      lookups.records = new Map();
      lookups.certifications = new Map();
      const a = await actions.table.get(db, ctx.tenantId, actionId, { forUpdate: true });
      if (a?.status !== 'pending') return; // performed by an earlier (crashed) attempt or another worker
      const outcome = await perform(records, db, actx, run, a, lookups);
      await actions.updateRead(actx, a, { ...fieldsOf(a), ...(outcome.changes ?? {}), ...performedBy, status: outcome.status }, db);
    });
    return true;
  } catch (e) {
    await store.transaction(async (db) => {
      const a = await actions.table.get(db, ctx.tenantId, actionId, { forUpdate: true });
      if (a?.status !== 'pending') return;
      await actions.update(actx, a.id, { ...errorFields(a, e), ...performedBy }, undefined, db);
    });
    return false;
  }
}
