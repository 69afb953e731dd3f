import type { RequestContext } from '../../core/context.js';
import { pageLimit } from '../../resources/kit/paging.js';
import { runActions } from '../../store/billing.js';
import { outboxRowsOf } from '../../store/outbox.js';
import { Savepoint } from '../../store/savepoints.js';
import { perform } from './actions/index.js';
import { newLookups } from './lookups.js';
import type { BillingRecords } from './records.js';
import type { Rec } from './types.js';

/** How many pending actions a dry run looks at, at most (it holds a write transaction meanwhile). */
const EXAMINE_AT_MOST = 1000;

/** Thrown to roll the dry run's transaction back once its e-mails are read. */
class DryRunDone extends Error {}

/**
 * POST /billingRuns/{t}/previewEmails/{id}?limit=N: the e-mails executing the run would send, the
 * first N, rendered, with their recipients, and those it would not send (with why), without sending
 * or changing anything. The run's pending actions are performed, in execution order, by the very
 * handlers an execution uses, inside one transaction that is then rolled back: what the outbox held
 * before the rollback is what an execution would queue. Forecasts are skipped (they send nothing).
 */
export async function previewEmails(records: BillingRecords, ctx: RequestContext, id: string, query: Record<string, string>) {
  const { store } = records.deps;
  const run = await records.mustRun(store.db, ctx, id);
  const limit = pageLimit(query.limit, 10, 100);
  const actx = { ...ctx, via: 'billing run preview' };
  const Items: Rec[] = [];
  let examined = 0;
  let more = false;
  try {
    await store.transaction(async (trx) => {
      const lookups = newLookups();
      const savepoint = new Savepoint(trx, store.dialect, 'billing_preview');
      let after: string | undefined;
      for (;;) {
        const page = await runActions.pending(trx, records.actions.table, ctx.tenantId, run.id, after, 50);
        if (!page.length) break;
        for (const a of page) {
          after = a.id;
          if (a.type === 'forecast renewal') continue;
          if (Items.length >= limit || examined >= EXAMINE_AT_MOST) {
            more = true;
            throw new DryRunDone();
          }
          examined++;
          const base = { billing_run_action_id: a.id, type: a.type, name: a.name };
          await savepoint.open();
          try {
            lookups.records = new Map();
            const outcome = await perform(records, trx, actx, run, a, lookups);
            const mails = await outboxRowsOf(trx, ctx.tenantId, [`billingRunActions/${a.id}`]);
            for (const m of mails) Items.push({ ...base, status: 'would send', ...rendered(m.message) });
            const changes = outcome.changes ?? {};
            if (!mails.length && changes.notice_status === 'not sent') {
              Items.push({ ...base, status: 'not sent', reason: String(changes.notice_status_reason ?? 'not sent') });
            }
            savepoint.keep(); // the next actions see this one's effect, as in an execution
          } catch (e) {
            await savepoint.undo();
            Items.push({ ...base, status: 'error', reason: e instanceof Error ? e.message : String(e) });
          }
        }
      }
      throw new DryRunDone();
    });
  } catch (e) {
    if (!(e instanceof DryRunDone)) throw e;
  }
  const shown = Items.slice(0, limit);
  return { Count: shown.length, Items: shown, actions_examined: examined, more: more || Items.length > limit };
}

/** The parts of a queued message a reviewer reads. */
function rendered(message: string): Rec {
  const m = JSON.parse(message) as Rec;
  const out: Rec = { to: m.to, from: m.from, subject: m.subject, html: m.html, text: m.text };
  for (const k of ['cc', 'bcc', 'replyTo'] as const) if (typeof m[k] === 'string' && m[k]) out[k === 'replyTo' ? 'reply_to' : k] = m[k];
  return out;
}
