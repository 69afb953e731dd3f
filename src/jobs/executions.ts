import { v4 as uuidv4 } from 'uuid';
import type { Db } from '../store/store.js';
import type { RequestContext } from '../core/context.js';
import type { Clock } from '../core/clock.js';

/**
 * Long work (a billing run's refresh and execution) answers at once with an execution handle and
 * runs in the background; this table is its durable trace: who started what, when, and how it ended.
 * The work itself is registered by the domain issues; until a handler exists an execution ends at once.
 */
export interface ExecutionHandle {
  executionArn: string;
  start_date: string;
  notification_channel: string;
}

export interface ExecutionRow {
  tenant_id: string;
  id: string;
  resource: string;
  record_id: string;
  action: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  start_date: string;
  stop_date: string | null;
  started_by: string | null;
}

export const executionArn = (tenantId: string, resource: string, action: string, id: string) =>
  `arn:accredit:states:${tenantId}:execution:${resource}-${action}:${id}`;

export class Executions {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async start(ctx: RequestContext, resource: string, recordId: string, action: string): Promise<ExecutionHandle> {
    const id = uuidv4();
    const now = this.clock.now().toISOString();
    await this.db
      .insertInto('executions')
      .values({
        tenant_id: ctx.tenantId,
        id,
        resource,
        record_id: recordId,
        action,
        status: 'SUCCEEDED',
        start_date: now,
        stop_date: now,
        started_by: ctx.actor.sub,
      })
      .execute();
    return {
      executionArn: executionArn(ctx.tenantId, resource, action, id),
      start_date: now,
      notification_channel: `${resource}/${ctx.tenantId}/${recordId}`,
    };
  }

  list(tenantId: string, resource: string, recordId: string): Promise<ExecutionRow[]> {
    return this.db
      .selectFrom('executions')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('resource', '=', resource)
      .where('record_id', '=', recordId)
      .orderBy('start_date')
      .execute() as Promise<ExecutionRow[]>;
  }
}
