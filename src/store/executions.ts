import type { Kysely } from 'kysely';
import type { Db } from './db.js';

/**
 * The `executions` table (jobs/executions.ts): one row per background execution, with its lease
 * (lease_owner, lease_until) while a worker runs it.
 */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED';

export interface ExecutionRow {
  tenant_id: string;
  id: string;
  resource: string;
  record_id: string;
  action: string;
  status: ExecutionStatus;
  start_date: string;
  stop_date: string | null;
  started_by: string | null;
  output: unknown;
  progress_done: number | null;
  progress_total: number | null;
  error: string | null;
  params: string | null;
  lease_owner: string | null;
  lease_until: string | null;
  updated_at: string | null;
}

const executions = (db: Db) => db as Kysely<{ executions: ExecutionRow }>;

/** The RUNNING execution of a record, if any. */
export function runningExecution(db: Db, tenantId: string, resource: string, recordId: string) {
  return executions(db)
    .selectFrom('executions')
    .select(['id', 'action'])
    .where('tenant_id', '=', tenantId)
    .where('resource', '=', resource)
    .where('record_id', '=', recordId)
    .where('status', '=', 'RUNNING')
    .executeTakeFirst();
}

export async function insertExecution(db: Db, row: Omit<ExecutionRow, 'output' | 'error' | 'lease_owner' | 'lease_until'>): Promise<void> {
  await executions(db).insertInto('executions').values(row).execute();
}

export function getExecution(db: Db, tenantId: string, id: string): Promise<ExecutionRow | undefined> {
  return executions(db).selectFrom('executions').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
}

/** The executions of a record, oldest first. */
export function executionsOf(db: Db, tenantId: string, resource: string, recordId: string): Promise<ExecutionRow[]> {
  return executions(db)
    .selectFrom('executions')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('resource', '=', resource)
    .where('record_id', '=', recordId)
    .orderBy('start_date')
    .execute();
}

/**
 * A page of a record's executions, newest first (start_date, then id, descending): those after
 * `before` (the last execution of the previous page) when given.
 */
export function executionsPage(
  db: Db,
  tenantId: string,
  resource: string,
  recordId: string,
  before: Pick<ExecutionRow, 'start_date' | 'id'> | undefined,
  limit: number,
): Promise<ExecutionRow[]> {
  let q = executions(db)
    .selectFrom('executions')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('resource', '=', resource)
    .where('record_id', '=', recordId);
  if (before)
    q = q.where((eb) =>
      eb.or([eb('start_date', '<', before.start_date), eb.and([eb('start_date', '=', before.start_date), eb('id', '<', before.id)])]),
    );
  return q.orderBy('start_date', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

/** RUNNING executions of every tenant whose lease is free or lapsed at `now`, oldest first. */
export function dueExecutions(db: Db, now: string, limit: number) {
  return executions(db)
    .selectFrom('executions')
    .select(['tenant_id', 'id'])
    .where('status', '=', 'RUNNING')
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
    .orderBy('start_date')
    .limit(limit)
    .execute();
}

/** Takes the lease of a due execution (a conditional UPDATE: of two workers, one gets it); true when taken. */
export async function claimExecution(db: Db, tenantId: string, id: string, owner: string, until: string, now: string): Promise<boolean> {
  const r = await executions(db)
    .updateTable('executions')
    .set({ lease_owner: owner, lease_until: until })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('status', '=', 'RUNNING')
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Extends the lease `owner` holds; false when it holds it no more (another worker took it over). */
export async function renewExecution(db: Db, tenantId: string, id: string, owner: string, until: string): Promise<boolean> {
  const r = await executions(db)
    .updateTable('executions')
    .set({ lease_until: until })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .where('status', '=', 'RUNNING')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Changes an execution while `owner` holds it (progress, its end). */
export async function updateHeldExecution(
  db: Db,
  tenantId: string,
  id: string,
  owner: string,
  changes: Partial<
    Pick<ExecutionRow, 'status' | 'stop_date' | 'output' | 'error' | 'lease_until' | 'progress_done' | 'progress_total' | 'updated_at'>
  >,
): Promise<void> {
  await executions(db)
    .updateTable('executions')
    .set(changes)
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .execute();
}

/** Whether some RUNNING execution has no lease yet (started, not claimed). */
export async function anyUnclaimedExecution(db: Db): Promise<boolean> {
  return (
    (await executions(db)
      .selectFrom('executions')
      .select('id')
      .where('status', '=', 'RUNNING')
      .where('lease_owner', 'is', null)
      .executeTakeFirst()) !== undefined
  );
}

/** Gives back every RUNNING execution `owner` holds, so that the next worker resumes them at once. */
export async function releaseExecutions(db: Db, owner: string): Promise<void> {
  await executions(db)
    .updateTable('executions')
    .set({ lease_until: null, lease_owner: null })
    .where('status', '=', 'RUNNING')
    .where('lease_owner', '=', owner)
    .execute();
}
