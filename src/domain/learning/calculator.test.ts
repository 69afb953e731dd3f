import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  type CalculatorError,
  calculateCredits,
  calculatorProblems,
  parseFormula,
  variableName,
  type CalculatorOptions,
} from './calculator.js';

const calc = (formulas: [string, string][], variables = ['semester_hours', 'pages']): CalculatorOptions => ({
  variables: variables.map((name) => ({ label: name.replace('_', ' '), name })),
  formulas: formulas.map(([credit_type_id, formula]) => ({ credit_type_id, formula })),
});

test('formulas compute one quantity per credit type, and the total', () => {
  const out = calculateCredits(
    calc([
      ['ce', 'semester_hours * 15'],
      ['cme', 'min(pages, 20) / 4'],
    ]),
    { semester_hours: 3, pages: 30 },
  );
  assert.deepEqual(out, {
    credits: [
      { credit_type_id: 'ce', quantity: 45 },
      { credit_type_id: 'cme', quantity: 5 },
    ],
    total_number_of_credits: 50,
  });
  assert.deepEqual(calculateCredits(calc([['ce', 'pages > 10 ? 5 : 2']]), { pages: 4 }).credits, [{ credit_type_id: 'ce', quantity: 2 }]);
  assert.deepEqual(
    calculateCredits(calc([['ce', 'round(semester_hours / 3, 2)']]), { semester_hours: '10' }).credits,
    [{ credit_type_id: 'ce', quantity: 3.33 }],
    'numeric strings accepted',
  );
  assert.deepEqual(
    calculateCredits(calc([['ce', '0.1 + 0.2']]), {}).credits,
    [{ credit_type_id: 'ce', quantity: 0.3 }],
    'float noise rounded',
  );
  assert.deepEqual(calculateCredits(calc([['ce', '']]), {}), { credits: [], total_number_of_credits: 0 }, 'empty formula: no credits');
});

test('a missing or non-numeric variable is named', () => {
  const c = calc([['ce', 'semester_hours * 15']]);
  assert.throws(
    () => calculateCredits(c, {}),
    (e: CalculatorError) =>
      e.field === 'credit_calculator_variables.semester_hours' && /required by the formula for credit type ce/.test(e.reason),
  );
  assert.throws(
    () => calculateCredits(c, { semester_hours: 'three' }),
    (e: CalculatorError) => e.field === 'credit_calculator_variables.semester_hours' && /must be a number/.test(e.reason),
  );
  assert.throws(() => calculateCredits(c, { semester_hours: -1 }), /gives -15 .* at least 0/);
  assert.throws(() => calculateCredits(calc([['ce', 'pages / 0']]), { pages: 1 }), /gives Infinity/);
});

test('bad formulas are named with the reason; only arithmetic is allowed', () => {
  const problem = (formula: string) => calculatorProblems(calc([['ce', formula]]))[0];
  assert.deepEqual(calculatorProblems(calc([['ce', 'semester_hours * 15 + pages ^ 2']])), []);
  assert.equal(problem('semester_hours * ')!.field, 'credit_calculator_options.formulas.0.formula');
  assert.match(problem('(semester_hours + 1')!.reason, /cannot be parsed/);
  assert.match(problem('hours * 15')!.reason, /uses hours, which is not a variable of the calculator \(variables: semester_hours, pages\)/);
  for (const evil of [
    'import({}, {})',
    'x = 3',
    'f(x) = x',
    'pages.constructor',
    'pages[1]',
    '"a"',
    'evaluate("1")',
    'createUnit("foo")',
    '{a: 1}',
    '[1, 2]',
    'sqrt(pages)',
    '5 cm',
    'true',
  ]) {
    assert.ok(problem(evil), `${evil} is refused`);
  }
  assert.throws(
    () => calculateCredits(calc([['ce', 'import({})']]), {}),
    (e: CalculatorError) => /formulas\.0\.formula/.test(e.field),
  );
  assert.match(
    calculatorProblems(
      calc([
        ['ce', 'pages'],
        ['ce', 'pages * 2'],
      ]),
    )[0]!.reason,
    /one formula per credit type/,
  );
  assert.match(
    calculatorProblems({
      variables: [
        { label: 'Pages', name: 'pages' },
        { label: 'p', name: 'pages' },
      ],
    })[0]!.reason,
    /already variable 0/,
  );
  assert.match(calculatorProblems({ variables: [{ label: 'x', name: '1abc' }] })[0]!.reason, /not an identifier/);
  assert.equal(typeof parseFormula('pages * 2'), 'object');
});

test('a variable without a name is used by its label in snake case', () => {
  assert.equal(variableName({ label: 'Semester hours' }), 'semester_hours');
  assert.equal(variableName({ label: '  CE units (total) ' }), 'ce_units_total');
  assert.equal(variableName({ label: '2nd author' }), 'v_2nd_author');
  assert.equal(variableName({ label: 'Ignored', name: 'hours' }), 'hours');
  const out = calculateCredits(
    { variables: [{ label: 'Semester hours' }], formulas: [{ credit_type_id: 'ce', formula: 'semester_hours * 15' }] },
    { semester_hours: 2 },
  );
  assert.equal(out.total_number_of_credits, 30);
});
