import type { EmailTemplate } from './render.js';

/** One line of an invoice as its e-mail lists it. */
export interface InvoiceMailLine {
  description: string;
  fee_type: string;
  amount: number;
}

function escapeHtml(s: string) {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * The e-mail of an invoice a billing run sends a training provider: a notice template (rendered by
 * renderMessage in render.ts) with its lines written in as an HTML table. Its placeholders:
 * {{invoice_number}}, {{amount}} (the total) and {{organization_name}} (the provider's name).
 */
export function invoiceEmail(lines: InvoiceMailLine[]): { email: EmailTemplate } {
  const rows = lines
    .map((l) => `<tr><td>${escapeHtml(l.description)}</td><td>${l.fee_type.replace('_', ' ')}</td><td>${l.amount.toFixed(2)}</td></tr>`)
    .join('');
  return {
    email: {
      subject: 'Invoice {{invoice_number}} from your certification body',
      body: `<p>Dear {{organization_name}},</p><p>Invoice {{invoice_number}}: {{amount}}.</p><table>${rows}</table>`,
    },
  };
}
