import type { RequestContext } from '../../core/context.js';
import { enqueueMail } from '../../mail/outbox.js';
import { renderMessage, type EmailTemplate } from '../../mail/render.js';
import { DEFAULT_MAIL_FROM } from '../notices.js';
import type { BillingRecords } from './records.js';

/**
 * The summary of a run, e-mailed to its `notification_email` when an execution ends (completed,
 * ended with errors, cancelled) or fails, and when a refresh fails. Queued in the outbox like every
 * e-mail, once per execution and outcome (the key names both), so a resumed execution does not send
 * it twice.
 */
const SUMMARY: EmailTemplate = {
  subject: 'Billing run {{name}}: {{outcome}}',
  body:
    '<p>Billing run <b>{{name}}</b> ({{id}}): {{outcome}} at {{at}} (status {{status}}).</p>' +
    '{{#if error}}<p>Error: {{error}}</p>{{/if}}' +
    '<table><tr><th>action</th><th>total</th><th>successful</th><th>excluded</th><th>error</th><th>pending</th></tr>' +
    '{{#each statistics}}<tr><td>{{action}}</td><td>{{total}}</td><td>{{successful}}</td><td>{{excluded}}</td><td>{{error}}</td><td>{{pending}}</td></tr>{{/each}}' +
    '</table>' +
    '{{#if amounts.length}}<p>Amounts: {{#each amounts}}{{type}} × {{count}}: {{formatted}}{{#unless @last}}; {{/unless}}{{/each}}</p>{{/if}}' +
    '<p>Its executions: GET /billingRuns/{{tenant}}/executions/{{id}}; its e-mails: GET /billingRuns/{{tenant}}/messages/{{id}}.</p>',
};

export type SummaryOutcome = 'completed' | 'completed with errors' | 'cancelled' | 'execution failed' | 'refresh failed';

/** Queues the run's summary to its notification_email (nothing when it has none); never fails the caller. */
export async function queueRunSummary(
  records: BillingRecords,
  ctx: RequestContext,
  runId: string,
  executionId: string,
  outcome: SummaryOutcome,
): Promise<void> {
  const { deps } = records;
  try {
    const run = await records.mustRun(deps.store.db, ctx, runId);
    const to = typeof run.notification_email === 'string' ? run.notification_email.trim() : '';
    if (!to) return;
    const mail = renderMessage(
      SUMMARY,
      {
        id: run.id,
        tenant: ctx.tenantId,
        name: run.name,
        status: run.status,
        outcome,
        at: records.now(),
        error: run.error,
        statistics: Array.isArray(run.statistics) ? run.statistics : [],
        amounts: Array.isArray(run.amounts) ? run.amounts : [],
      },
      { from: deps.mailFrom || DEFAULT_MAIL_FROM, to },
    );
    const key = `billingRuns/${run.id}/summary/${executionId}/${outcome}`;
    await deps.store.transaction((db) => enqueueMail(db, ctx.tenantId, key, mail, `billingRuns/${run.id}`, deps.clock.now()));
  } catch (e) {
    // the run's outcome stands without its summary; say why it did not go
    deps.log?.warn({ billing_run_id: runId, execution: executionId, err: e }, 'billing run summary could not be queued');
  }
}
