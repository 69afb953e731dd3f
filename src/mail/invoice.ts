import type { EmailTemplate } from './render.js';
import { majorText, toMinor } from '../domain/money/money.js';

/** One line of an invoice as its e-mail lists it. */
export interface InvoiceMailLine {
  description: string;
  fee_type: string;
  /** major units of the invoice's currency, as the catalog's fees are */
  amount: number;
}

/**
 * The e-mail of an invoice a billing run sends a training provider: a notice template (rendered by
 * renderMessage in render.ts) with a table of its lines. Its placeholders: {{invoice_number}},
 * {{amount}} (the total), {{organization_name}} (the provider's name) and {{lines}}, which `vars`
 * holds. The lines are data, never template source: a description such as `{{settings.secret}}` is
 * printed as it is (and HTML-escaped like every value), not run by the template engine.
 */
export function invoiceEmail(
  lines: InvoiceMailLine[],
  currency: string,
): { email: EmailTemplate; vars: { lines: Record<string, string>[] } } {
  return {
    email: {
      subject: 'Invoice {{invoice_number}} from your certification body',
      body:
        '<p>Dear {{organization_name}},</p><p>Invoice {{invoice_number}}: {{amount}}.</p>' +
        '<table>{{#each lines}}<tr><td>{{description}}</td><td>{{fee_type}}</td><td>{{amount}}</td></tr>{{/each}}</table>',
    },
    vars: {
      // written with the currency's digits (40.00 USD, 4000 JPY), from minor units: never toFixed on a float
      lines: lines.map((l) => ({
        description: l.description,
        fee_type: l.fee_type.replace('_', ' '),
        amount: majorText(toMinor(l.amount, currency), currency),
      })),
    },
  };
}
