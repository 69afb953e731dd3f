import type { RequestContext } from '../../core/context.js';
import { decodeKey, encodeKey, pageLimit } from '../../resources/kit/paging.js';
import { runActions } from '../../store/billing.js';
import { outboxRowsOf } from '../../store/outbox.js';
import type { StoredRecord } from '../../store/records.js';
import type { BillingRecords } from './records.js';

/**
 * What an operations team follows of a run: every execution that worked on it (whoever started it,
 * the scheduler included) and every message its actions sent or did not send.
 */

/** GET /billingRuns/{t}/executions/{id}: the run's refreshes and executions, oldest first. */
export async function runExecutions(records: BillingRecords, ctx: RequestContext, id: string) {
  const run = await records.mustRun(records.deps.store.db, ctx, id);
  const rows = await records.deps.executions.list(ctx.tenantId, 'billingRuns', run.id);
  const Items = rows.map((r) => ({ ...records.deps.executions.view(r), started_by: r.started_by ?? 'system' }));
  return { Count: Items.length, Items };
}

/** The states of the outbox as a run's message shows them: waiting (queued, being sent, to retry), sent or failed. */
const DELIVERY: Record<string, 'queued' | 'sent' | 'failed'> = {
  queued: 'queued',
  sending: 'queued',
  retry: 'queued',
  sent: 'sent',
  failed: 'failed',
};

/**
 * GET /billingRuns/{t}/messages/{id}?limit&exclusiveStartKey: one item per e-mail an action of the run
 * queued (with what the mailer did with it) and per action whose e-mail was not sent (with why). Pages
 * run over the run's actions in id order, DynamoDB style: a page may hold fewer items than `limit`
 * (actions without an e-mail, or not performed yet, are skipped) and still carry a LastEvaluatedKey.
 */
export async function runMessages(records: BillingRecords, ctx: RequestContext, id: string, query: Record<string, string>) {
  const { db } = records.deps.store;
  const run = await records.mustRun(db, ctx, id);
  const limit = pageLimit(query.limit, 100, 1000);
  const after = decodeKey(query.exclusiveStartKey);
  const actions = await records.actions.table.page(db, ctx.tenantId, runActions.ofRun(run.id), after, limit + 1);
  const page = actions.slice(0, limit);
  const sources = page.map((a) => `billingRunActions/${a.id}`);
  const mails = await outboxRowsOf(db, ctx.tenantId, sources);
  const bySource = new Map<string, typeof mails>();
  for (const m of mails) bySource.set(m.source, [...(bySource.get(m.source) ?? []), m]);
  const Items: Record<string, unknown>[] = [];
  for (const a of page) {
    const base = { billing_run_action_id: a.id, type: a.type, name: a.name, action_status: a.status, ...noticeOf(a) };
    const queued = bySource.get(`billingRunActions/${a.id}`) ?? [];
    for (const m of queued) {
      Items.push({
        ...base,
        outbox_id: m.id,
        status: DELIVERY[m.status] ?? 'queued',
        to: m.to_address,
        subject: subjectOf(m.message),
        attempts: Number(m.attempts),
        queued_at: m.created_at,
        ...(m.sent_at ? { sent_at: m.sent_at } : {}),
        ...(m.last_error ? { reason: m.last_error } : {}),
      });
    }
    if (!queued.length && a.notice_status === 'not sent') {
      Items.push({ ...base, status: 'not sent', reason: a.notice_status_reason ?? 'not sent' });
    }
  }
  return {
    Count: Items.length,
    Items,
    ...(actions.length > limit ? { LastEvaluatedKey: encodeKey(page[page.length - 1]!.id) } : {}),
  };
}

const noticeOf = (a: StoredRecord) => (typeof a.notice_id === 'string' ? { notice_id: a.notice_id } : {});

function subjectOf(message: string): string | undefined {
  try {
    const s = (JSON.parse(message) as { subject?: unknown }).subject;
    return typeof s === 'string' ? s : undefined;
  } catch {
    return undefined;
  }
}
