import { test } from 'node:test';
import assert from 'node:assert/strict';
import { htmlToText, NOTICE_PLACEHOLDERS, renderMessage, TemplateError, templateProblems } from './render.js';

const from = 'accredit <no-reply@example.org>';

test('placeholders take their values; missing ones render empty', () => {
  const m = renderMessage(
    {
      subject: 'Your {{program_name}} certificate {{number}}',
      body: '<p>Dear {{name}},</p><p>it expires on {{expiration_date}}{{grace_period_end_date}}.</p>',
    },
    { name: 'Ada Lovelace', program_name: 'Registered Nurse', number: 1000, expiration_date: '2027-01-14' },
    { from, to: 'ada@example.org' },
  );
  assert.equal(m.subject, 'Your Registered Nurse certificate 1000');
  assert.equal(m.html, '<p>Dear Ada Lovelace,</p><p>it expires on 2027-01-14.</p>');
  assert.equal(m.text, 'Dear Ada Lovelace,\nit expires on 2027-01-14.');
  assert.equal(m.to, 'ada@example.org');
  assert.equal(m.from, from);
  assert.equal(m.replyTo, undefined);
  assert.ok(NOTICE_PLACEHOLDERS.includes('invoice_number'));
});

test('values are HTML-escaped in the body, not in the subject; the text part decodes them', () => {
  const vars = { name: 'Tom & <Jerry>', exam_name: 'Q&A "basics"' };
  const m = renderMessage({ subject: '{{exam_name}} for {{name}}', body: '<b>{{name}}</b> passed {{exam_name}}' }, vars, { from });
  assert.equal(m.subject, 'Q&A "basics" for Tom & <Jerry>');
  assert.equal(m.html, '<b>Tom &amp; &lt;Jerry&gt;</b> passed Q&amp;A &quot;basics&quot;');
  assert.equal(m.text, 'Tom & <Jerry> passed Q&A "basics"');
  // Triple braces are the template author's explicit choice of raw HTML.
  assert.equal(renderMessage({ subject: 's', body: '<p>{{{x}}}</p>' }, { x: '<i>i</i>' }, { from }).html, '<p><i>i</i></p>');
});

test('a line break in a value cannot add a header: the subject is one line', () => {
  const m = renderMessage({ subject: 'Hello {{name}}', body: 'b' }, { name: 'x\r\nBcc: victim@example.org' }, { from });
  assert.equal(m.subject, 'Hello x Bcc: victim@example.org');
});

test('a body without tags is plain text: line breaks become <br> in the HTML part', () => {
  const m = renderMessage({ subject: 's', body: 'Dear {{name}},\n\nwelcome.' }, { name: 'A<B' }, { from });
  assert.equal(m.html, 'Dear A&lt;B,<br>\n<br>\nwelcome.');
  assert.equal(m.text, 'Dear A<B,\n\nwelcome.');
});

test('sender, reply-to, cc and bcc come from the template; from_name names the default address', () => {
  const full = renderMessage(
    {
      subject: 's',
      body: 'b',
      from: 'board@example.org',
      from_name: 'The "Board"',
      reply_to: 'help@example.org',
      cc: 'cc@example.org',
      bcc: ' ',
    },
    {},
    { from },
  );
  assert.equal(full.from, '"The Board" <board@example.org>');
  assert.equal(full.replyTo, 'help@example.org');
  assert.equal(full.cc, 'cc@example.org');
  assert.equal(full.bcc, undefined);
  assert.equal(renderMessage({ subject: 's', body: 'b', from_name: 'Registrar' }, {}, { from }).from, '"Registrar" <no-reply@example.org>');
  assert.equal(renderMessage({ subject: 's', body: 'b', from: 'x@example.org' }, {}, { from }).from, 'x@example.org');
});

test('helpers work: #if, #each', () => {
  const m = renderMessage(
    { subject: '{{#if score}}Score {{score}}{{else}}No score{{/if}}', body: '{{#each items}}<li>{{this}}</li>{{/each}}' },
    { score: 85, items: ['a', 'b'] },
    { from },
  );
  assert.equal(m.subject, 'Score 85');
  assert.equal(m.html, '<li>a</li><li>b</li>');
  assert.equal(m.text, '- a\n- b');
});

test('templates that do not compile or render: reasons per field', () => {
  assert.deepEqual(templateProblems({ subject: 'fine {{name}}', body: 'fine' }), []);
  const syntax = templateProblems({ subject: 'ok', body: 'Hello {{#if}' });
  assert.equal(syntax.length, 1);
  assert.equal(syntax[0]!.field, 'email.body');
  assert.match(syntax[0]!.reason, /^is not a valid template \(Parse error on line 1, at "Hello \{\{#if\}": .*got 'INVALID'\)$/);
  assert.doesNotMatch(syntax[0]!.reason, /\n/);

  const both = templateProblems({ subject: '{{#if}}x{{/if}}', body: '{{> header}}' });
  assert.deepEqual(
    both.map((p) => p.field),
    ['email.subject', 'email.body'],
  );
  assert.match(both[0]!.reason, /#if requires exactly one argument/);
  assert.match(both[1]!.reason, /partial header could not be found/);
  assert.match(templateProblems({ subject: '{{shout name}}', body: 'b' })[0]!.reason, /Missing helper: "shout"/);
  assert.match(templateProblems({ subject: 's', body: '{{#each items}}x{{/if}}' })[0]!.reason, /each doesn't match if/);
  // Missing parts are the schema's concern.
  assert.deepEqual(templateProblems(undefined), []);
  assert.deepEqual(templateProblems({ subject: 's' }), []);

  assert.throws(
    () => renderMessage({ subject: 'ok', body: '{{#if a}x' }, {}, { from }),
    (e: unknown) => e instanceof TemplateError && e.field === 'email.body' && /Parse error/.test(e.reason),
  );
});

test('a bad template is not cached as good: it fails every time', () => {
  for (let i = 0; i < 2; i++) assert.equal(templateProblems({ subject: 's', body: '{{#with}}{{/with}}' }).length, 1);
});

test('htmlToText drops scripts and styles, keeps line structure', () => {
  assert.equal(htmlToText('<style>p{}</style><h1>Title</h1><p>One<br/>Two&nbsp;&#x3D;&#61;</p>'), 'Title\nOne\nTwo ==');
});
