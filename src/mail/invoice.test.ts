import { test } from 'node:test';
import assert from 'node:assert/strict';
import { invoiceEmail } from './invoice.js';
import { renderMessage } from './render.js';

const from = 'accredit <no-reply@example.org>';

test('invoice lines are data: a description with template syntax is printed as it is, HTML-escaped', () => {
  const descriptions = ['{{settings.secret}}', '{{#each lines}}x{{/each}}', '{{#each}}', '<b>Tom & "Jerry"</b>', '{{{raw}}}'];
  const { email, vars } = invoiceEmail(
    descriptions.map((description, i) => ({ description, fee_type: 'course_fee', amount: 10 + i })),
    'USD',
  );
  // the template source is fixed: nothing of the lines is in it
  for (const d of descriptions) assert.ok(!email.body.includes(d), `${d} is not template source`);
  const m = renderMessage(
    email,
    { invoice_number: 7, amount: '60.00', organization_name: 'College', settings: { secret: 'LEAKED' }, raw: 'RAW', ...vars },
    { from, to: 'billing@example.org' },
  );
  assert.doesNotMatch(m.html, /LEAKED|RAW/);
  assert.equal(
    m.html,
    '<p>Dear College,</p><p>Invoice 7: 60.00.</p><table>' +
      '<tr><td>{{settings.secret}}</td><td>course fee</td><td>10.00</td></tr>' +
      '<tr><td>{{#each lines}}x{{/each}}</td><td>course fee</td><td>11.00</td></tr>' +
      '<tr><td>{{#each}}</td><td>course fee</td><td>12.00</td></tr>' +
      '<tr><td>&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;</td><td>course fee</td><td>13.00</td></tr>' +
      '<tr><td>{{{raw}}}</td><td>course fee</td><td>14.00</td></tr></table>',
  );
  assert.match(m.text, /\{\{settings\.secret\}\}course fee10\.00/);
  assert.equal(m.subject, 'Invoice 7 from your certification body');
});

test("invoice amounts are written with the currency's digits (JPY none, BHD three), from minor units", () => {
  const lines = [{ description: 'Course', fee_type: 'course_fee', amount: 4000 }];
  assert.equal(invoiceEmail(lines, 'JPY').vars.lines[0]!.amount, '4000');
  assert.equal(invoiceEmail([{ ...lines[0]!, amount: 1.5 }], 'BHD').vars.lines[0]!.amount, '1.500');
  assert.equal(invoiceEmail([{ ...lines[0]!, amount: 0.1 }], 'USD').vars.lines[0]!.amount, '0.10');
});
