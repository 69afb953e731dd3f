import { AppError, invalid, notFound } from '../../core/errors.js';
import type { RequestContext } from '../../core/context.js';
import { RelativeDateError, resolveTemplateOptions } from '../../domain/billing/relative-dates.js';
import type { StoredRecord } from '../../store/records.js';
import type { Db } from '../../store/store.js';
import type { BillingRecords } from './records.js';
import type { Rec } from './types.js';

/** The HTTP actions that start billing work: refresh, execute, and a run from a template. */

export async function startRefresh(records: BillingRecords, ctx: RequestContext, id: string) {
  const run = await records.mustRun(records.deps.store.db, ctx, id);
  if (run.status === 'running') throw new AppError('conflict', `billing run ${id} is executing; refresh it when the execution ends`);
  return records.deps.executions.start(ctx, 'billingRuns', id, 'refresh');
}

export async function startExecute(records: BillingRecords, ctx: RequestContext, id: string) {
  const run = await records.mustRun(records.deps.store.db, ctx, id);
  // a cancelled run is resumed: its pending actions are performed, those done stay done
  const ok = ['ready for execution', 'scheduled for execution', 'completed', 'error', 'running', 'cancelled'];
  if (!ok.includes(String(run.status))) {
    throw new AppError(
      'conflict',
      `billing run ${id} is ${run.status}; refresh it first (POST /billingRuns/${ctx.tenantId}/refresh/${id}) so that its actions can be reviewed`,
    );
  }
  return records.deps.executions.start(ctx, 'billingRuns', id, 'execute');
}

/** POST /billingTemplates/{t}/createRun/{id} { run_date, name? }: a draft run with the template's options resolved. */
export async function createRunFromTemplate(
  records: BillingRecords,
  ctx: RequestContext,
  templateId: string,
  body: unknown,
  extra: Rec = {},
  inTx?: Db,
): Promise<StoredRecord> {
  const { deps } = records;
  const b = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Rec;
  const runDate = typeof b.run_date === 'string' ? b.run_date : undefined;
  if (!runDate || Number.isNaN(Date.parse(runDate)) || !/^\d{4}-\d{2}-\d{2}/.test(runDate)) {
    throw invalid([
      {
        field: 'run_date',
        reason:
          runDate === undefined
            ? 'is required (the date the run is for, YYYY-MM-DD or a date-time)'
            : 'must be a date (YYYY-MM-DD) or a date-time',
      },
    ]);
  }
  if (b.name !== undefined && typeof b.name !== 'string') throw invalid([{ field: 'name', reason: 'must be a string' }]);
  const work = async (db: Db) => {
    const template = await deps.resource('billingTemplates').table.get(db, ctx.tenantId, templateId);
    if (!template) throw notFound('billing template', templateId);
    let options: Rec;
    const when = runDate.length === 10 ? `${runDate}T00:00:00.000Z` : new Date(runDate).toISOString();
    try {
      options = resolveTemplateOptions(template, when.slice(0, 10));
    } catch (e) {
      if (e instanceof RelativeDateError) throw invalid([{ field: e.field, reason: e.reason }], 'unprocessable');
      throw e;
    }
    return records.runs.create(
      { ...ctx, via: 'billing template' },
      {
        ...options,
        name: b.name ?? `${template.name} ${when.slice(0, 10)}`,
        status: 'draft',
        template_id: template.id,
        scheduled_run_date: when,
        ...(template.notification_email ? { notification_email: template.notification_email } : {}),
        ...extra,
      },
      db,
    );
  };
  return inTx ? work(inTx) : deps.store.transaction(work);
}
