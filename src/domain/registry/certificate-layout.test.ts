import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BODY_PLACEHOLDERS,
  type Box,
  type CertificateContent,
  certificateLayout,
  certificateStanding,
  DEFAULT_ACCENT,
  DESIGN_LIMITS,
  designProblem,
  fillBody,
  type Measure,
} from './certificate-layout.js';

const TODAY = '2026-06-15';
// a stand-in for the font's metrics: 0.55 em a character, lines of 1.2 em
const measure: Measure = (text, size, _bold, width) => Math.max(1, Math.ceil((text.length * size * 0.55) / width)) * size * 1.2;
const base: CertificateContent = {
  program: 'Registered Nurse',
  board: 'State Board of Nursing',
  holder: 'Ada Lovelace',
  number: 1001,
  certificationDate: '2024-01-10',
  expirationDate: '2026-09-23',
};
const byRole = (l: ReturnType<typeof certificateLayout>) => Object.fromEntries(l.texts.map((t) => [t.role, t]));
const overlap = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

test('which certification gets a certificate: retired and never activated do not; not valid today carries its standing', () => {
  assert.deepEqual(certificateStanding({ status: 'retired', number: 5 }, TODAY), {
    printable: false,
    reason: 'is retired: it has no certificate',
  });
  assert.deepEqual(certificateStanding({ status: 'active' }, TODAY), {
    printable: false,
    reason: 'has no certificate number yet (it was never activated)',
  });
  assert.deepEqual(certificateStanding({ status: 'active', number: 1, expiration_date: '2026-12-31' }, TODAY), { printable: true });
  // in grace is valid: no note
  assert.deepEqual(
    certificateStanding({ status: 'active', number: 1, expiration_date: '2026-06-01', grace_period_end_date: '2026-07-01' }, TODAY),
    { printable: true },
  );
  assert.deepEqual(certificateStanding({ status: 'suspended', number: 1, expiration_date: '2027-01-01' }, TODAY), {
    printable: true,
    standingNote: 'Suspended on 15 June 2026: This licence is suspended: it is not valid.',
  });
  const lapsed = certificateStanding(
    { status: 'active', number: 1, expiration_date: '2026-04-01', grace_period_end_date: '2026-05-01' },
    TODAY,
  );
  assert.ok(lapsed.printable && lapsed.standingNote?.startsWith('Lapsed on 15 June 2026: This licence lapsed: it expired on 1 April 2026'));
});

test('without a design: the defaults (programme name as title, "This certifies that", landscape, the default accent)', () => {
  const l = certificateLayout(base, measure);
  assert.equal(l.orientation, 'landscape');
  assert.ok(l.page.width > l.page.height);
  assert.equal(l.accent, DEFAULT_ACCENT);
  const t = byRole(l);
  assert.equal(t.title!.text, 'Registered Nurse');
  assert.equal(t.statement!.text, 'This certifies that');
  assert.equal(t.holder!.text, 'Ada Lovelace');
  assert.equal(t.number!.text, 'holds certificate number 1001');
  assert.equal(t.dates!.text, 'Certified on 10 January 2024    ·    Expires on 23 September 2026');
  assert.equal(t.body, undefined);
  assert.equal(t.signatory_name, undefined);
  assert.equal(l.signatureLine, undefined);
  assert.equal(l.logo, undefined);
  assert.deepEqual(
    l.texts.map((x) => x.role),
    ['board', 'title', 'statement', 'holder', 'number', 'dates'],
  );
  assert.equal(
    byRole(certificateLayout({ ...base, expirationDate: undefined } as CertificateContent, measure)).dates!.text.endsWith(
      'Does not expire',
    ),
    true,
  );
});

test('a design: its title, statement, filled body, signatory, accent and portrait page', () => {
  const l = certificateLayout(
    {
      ...base,
      design: {
        title: 'Certificate of Registration',
        statement: 'The Board hereby declares that',
        body: '{{holder}} holds licence {{ number }} in {{program}} from {{board}}, certified {{certification_date}}, valid until {{expiration_date}}.',
        signatory_name: 'Grace Hopper',
        signatory_title: 'Registrar',
        accent_color: '#7A1F5C',
        orientation: 'portrait',
      },
    },
    measure,
  );
  assert.equal(l.orientation, 'portrait');
  assert.ok(l.page.height > l.page.width);
  assert.equal(l.accent, '#7a1f5c');
  const t = byRole(l);
  assert.equal(t.title!.text, 'Certificate of Registration');
  assert.equal(t.title!.color, '#7a1f5c');
  assert.equal(t.statement!.text, 'The Board hereby declares that');
  assert.equal(
    t.body!.text,
    'Ada Lovelace holds licence 1001 in Registered Nurse from State Board of Nursing, certified 10 January 2024, valid until 23 September 2026.',
  );
  assert.equal(t.signatory_name!.text, 'Grace Hopper');
  assert.equal(t.signatory_title!.text, 'Registrar');
  assert.ok(l.signatureLine && l.signatureLine.y < t.signatory_name!.y, 'the name under the line');
  assert.equal(
    fillBody('valid until {{expiration_date}}', {
      ...Object.fromEntries(BODY_PLACEHOLDERS.map((p) => [p, ''])),
      expiration_date: 'x',
    } as never),
    'valid until x',
  );
  const noExpiry = certificateLayout(
    { ...base, expirationDate: undefined, design: { body: 'until {{expiration_date}}' } } as CertificateContent,
    measure,
  );
  assert.equal(byRole(noExpiry).body!.text, 'until no expiration date');
});

test('the logo is fitted into its box at the top, aspect kept, and the text moves down for it', () => {
  const without = certificateLayout(base, measure);
  const wide = certificateLayout({ ...base, logo: { width: 1000, height: 100 } }, measure);
  assert.ok(wide.logo);
  assert.ok(Math.abs(wide.logo.width / wide.logo.height - 10) < 1e-9, 'aspect kept');
  assert.ok(wide.logo.width <= 220 && wide.logo.height <= 64);
  assert.ok(Math.abs(wide.logo.x + wide.logo.width / 2 - wide.page.width / 2) < 1e-9, 'centred');
  const tall = certificateLayout({ ...base, logo: { width: 50, height: 200 } }, measure).logo!;
  assert.equal(tall.height, 64);
  assert.equal(tall.width, 16);
  assert.ok(byRole(wide).board!.y > wide.logo.y + wide.logo.height, 'the board name under the logo');
  assert.ok(byRole(wide).board!.y > byRole(without).board!.y);
});

test('with every member at its longest, a logo and a standing note, nothing overlaps and all stays on the page', () => {
  for (const orientation of ['landscape', 'portrait'] as const) {
    const l = certificateLayout(
      {
        ...base,
        holder: 'Maria Magdalena Alexandra Konstantinopoulou-Vanderbilt-Smythe of Upper Tooting and Lower Wallop',
        board: 'The Very Long Name of the State Board of Registered and Practical Nursing',
        standingNote: 'Suspended on 15 June 2026: This licence is suspended: it is not valid.',
        logo: { width: 300, height: 100 },
        design: {
          title: 'T'.repeat(DESIGN_LIMITS.title),
          statement: 'S'.repeat(DESIGN_LIMITS.statement),
          body: 'word '.repeat(DESIGN_LIMITS.body / 5),
          signatory_name: 'N'.repeat(DESIGN_LIMITS.signatory_name),
          signatory_title: 'R'.repeat(DESIGN_LIMITS.signatory_title),
          orientation,
        },
      },
      measure,
    );
    const boxes: [string, Box][] = [
      ...l.texts.map((t): [string, Box] => [t.role, t]),
      ['qr', l.qr],
      ['verify', l.verify],
      ...(l.logo ? [['logo', l.logo] as [string, Box]] : []),
    ];
    for (const [name, b] of boxes) {
      assert.ok(b.x >= l.frame.x && b.y >= l.frame.y, `${orientation}: ${name} inside the frame`);
      assert.ok(
        b.x + b.width <= l.frame.x + l.frame.width && b.y + b.height <= l.frame.y + l.frame.height,
        `${orientation}: ${name} inside`,
      );
    }
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++)
        assert.ok(!overlap(boxes[i]![1], boxes[j]![1]), `${orientation}: ${boxes[i]![0]} and ${boxes[j]![0]} overlap`);
    for (const role of ['board', 'title', 'statement', 'holder', 'standing'] as const) {
      const t = byRole(l)[role]!;
      assert.ok(t.height >= measure(t.text, t.size, t.bold, t.width), `${orientation}: the ${role} is printed in full`);
    }
  }
});

test('the body may use the placeholders only; the reason names the member', () => {
  assert.equal(
    designProblem({ body: 'To {{holder}} ({{number}}), {{program}}, {{board}}: {{certification_date}} – {{expiration_date}}' }),
    undefined,
  );
  assert.equal(designProblem({ title: 'no body' }), undefined);
  assert.equal(designProblem(undefined), undefined);
  assert.deepEqual(designProblem({ body: 'Dear {{name}}' }), {
    field: 'body',
    reason:
      'uses {{name}}, which is not a placeholder (the placeholders are {{holder}}, {{number}}, {{program}}, {{board}}, {{certification_date}}, {{expiration_date}})',
  });
  assert.equal(designProblem({ body: '{{#if holder}}x{{/if}}' })?.field, 'body');
  assert.match(designProblem({ body: 'Dear {{ holder' })!.reason, /"\{\{" or "\}\}" outside a placeholder/);
  assert.match(designProblem({ body: '{{holder.constructor}}' })!.reason, /outside a placeholder/);
});
