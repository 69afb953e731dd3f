import { invoiceEmail } from '../../../mail/invoice.js';
import { billedItems } from '../../../store/billing.js';
import { nextValue } from '../../../store/counters.js';
import { AppError } from '../../../core/errors.js';
import { noticeVars, queueNotice } from '../../notices.js';
import { majorText, toMajor } from '../../../domain/money/money.js';
import { linesQuote } from '../amounts.js';
import { billableLines, billedKey } from '../billable.js';
import { tenantCurrency } from '../lookups.js';
import type { Rec } from '../types.js';
import type { ActionHandler } from './context.js';

/**
 * A training provider is invoiced for its registrations not billed yet (see billableLines): one
 * invoice with a line each, the registrations recorded as billed, and the invoice e-mailed when the
 * run says so.
 */
export const billTrainingProvider: ActionHandler = {
  async perform(x) {
    const { action: a, db, ctx, run } = x;
    const provider = await x.get('trainingProviders', a.training_provider_id);
    if (!provider) return { status: 'no longer eligible' };
    const o = x.opts('bill_training_providers');
    const lines = await billableLines(x.records, db, ctx, o, provider.id);
    if (!lines.length) return { status: 'no longer eligible' };
    const number = await nextValue(db, ctx.tenantId, 'invoices.number', 1);
    // added up in minor units of the tenant's currency (exact); a fee that is no amount of it (more
    // decimals than the currency has) is refused: the action fails saying so, nothing is billed
    const currency = await tenantCurrency(x.records, db, ctx, x.lookups);
    const quote = linesQuote(lines, currency);
    if (!quote)
      throw new AppError(
        'conflict',
        `a trainingProvPrograms fee of provider ${provider.id} is not an amount of ${currency} (too many decimals)`,
      );
    const total = toMajor(quote.amount, quote.currency_code);
    const email =
      o.email_invoices_to_training_providers === true && typeof provider.email_address === 'string' && provider.email_address.trim()
        ? provider.email_address
        : undefined;
    const invoice = await x.records.deps.resource('invoices').create(
      ctx,
      {
        number,
        status: email ? 'sent' : 'open',
        training_provider_id: provider.id,
        billing_run_id: run.id,
        billing_run_action_id: a.id,
        date: x.today,
        ...(o.expiration_date_range_start ? { period_start: o.expiration_date_range_start } : {}),
        ...(o.expiration_date_range_end ? { period_end: o.expiration_date_range_end } : {}),
        ...(o.invoice_template_id ? { invoice_template_id: o.invoice_template_id } : {}),
        ...(o.payment_terms_id ? { payment_terms_id: o.payment_terms_id } : {}),
        lines: lines.map(({ training_provider_id: _p, ...l }) => l),
        total,
        ...(email ? { emailed_to: email } : {}),
      },
      db,
    );
    // Each registration is billed once: the unique key refuses a second bill (the transaction rolls back).
    await billedItems.add(db, ctx.tenantId, invoice.id, lines.map(billedKey));
    // the provider's order: the invoice in the one ledger, paid like any order
    const order = await x.records.deps.commerce.invoiceOrder(db, ctx, invoice, currency);
    let mailed: Rec = {};
    if (email) {
      const invoiceMail = invoiceEmail(lines, quote.currency_code);
      const queued = await queueNotice(
        db,
        ctx.tenantId,
        `invoice/${invoice.id}`,
        invoiceMail,
        email,
        noticeVars({
          extra: {
            invoice_number: number,
            amount: majorText(quote.amount, quote.currency_code),
            organization_name: provider.name,
            ...invoiceMail.vars,
          },
        }),
        `billingRunActions/${a.id}`,
        x.now,
        x.from,
      );
      mailed = queued === 'queued' ? { notice_status: 'queued' } : { notice_status: 'not sent', notice_status_reason: 'already queued' };
    } else if (o.email_invoices_to_training_providers === true) {
      mailed = { notice_status: 'not sent', notice_status_reason: 'no address' };
    }
    return { status: 'completed', changes: { invoice_id: invoice.id, order_id: order.id, ...quote, ...mailed } };
  },
};
