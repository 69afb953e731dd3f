import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { stringify } from 'csv-stringify/sync';
import { parse } from 'csv-parse/sync';
import { readCell, writeCell, importPlan, defaultColumns, type CellKind } from '../../src/bulk/columns.js';
import { RESOURCES } from '../../src/resources/index.js';

/**
 * The cell codec of CSV exports and loads: whatever a field of a kind holds, the cell written for it
 * (through a real CSV writer and parser) reads back as the same value. Empty strings are the one
 * exception (an empty cell is "absent"), so they are left out of the generated values.
 */
const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 });
const num = fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0));
const cases: [CellKind, fc.Arbitrary<unknown>][] = [
  ['string', text],
  ['number', num],
  ['integer', fc.integer()],
  ['boolean', fc.boolean()],
  [{ list: 'string' }, fc.array(fc.string({ unit: 'grapheme', maxLength: 6 }), { maxLength: 5 })],
  [{ list: 'number' }, fc.array(num, { maxLength: 5 })],
  [{ list: 'boolean' }, fc.array(fc.boolean(), { maxLength: 5 })],
  ['json', fc.oneof(fc.array(fc.dictionary(text, fc.jsonValue())), fc.dictionary(text, fc.jsonValue()))],
  ['any', fc.jsonValue()],
];

for (const [kind, values] of cases) {
  test(`a ${JSON.stringify(kind)} value reads back from its cell, through CSV`, () => {
    fc.assert(
      fc.property(values, (v) => {
        const cell = writeCell(v, kind);
        const [[back]] = parse(stringify([[cell]]), { bom: true, relax_quotes: true }) as string[][];
        assert.equal(back, cell);
        if (cell === '') return v === null;
        const read = readCell(back!, kind);
        assert.ok('value' in read, JSON.stringify(read));
        // JSON drops -0 and keeps the rest; compare as JSON
        assert.equal(JSON.stringify(read.value), JSON.stringify(v));
      }),
      { numRuns: 300 },
    );
  });
}

test('cells that are not of their kind stay text, so that validation names the field', () => {
  assert.deepEqual(readCell('12,5', 'number'), { value: '12,5' });
  assert.deepEqual(readCell('0x10', 'integer'), { value: '0x10' });
  assert.deepEqual(readCell(' 42 ', 'integer'), { value: 42 });
  assert.deepEqual(readCell('yes', 'boolean'), { value: 'yes' });
  assert.deepEqual(readCell('TRUE', 'boolean'), { value: true });
  assert.deepEqual(readCell('1;x;3', { list: 'number' }), { value: [1, 'x', 3] });
  assert.deepEqual(readCell('{oops', 'json'), { error: 'must be JSON text (an object or a list)' });
});

test('every resource has an export header that a load takes back', () => {
  for (const r of RESOURCES) {
    const header = defaultColumns(r).map((c) => c.name);
    const plan = importPlan(r, header);
    assert.deepEqual(plan.problems, [], r.def.slug);
    assert.deepEqual(
      plan.columns.map((c) => c?.name),
      header,
      r.def.slug,
    );
  }
});

test('CSV injection: no text or list cell begins as a formula would (= + - @ tab CR); numbers stay numbers', () => {
  const formula = /^[=+\-@\t\r]/;
  const risky = fc
    .tuple(fc.constantFrom('', "'", "''"), fc.constantFrom('=', '+', '-', '@', '\t', '\r'), text)
    .map(([q, c, s]) => q + c + s);
  fc.assert(
    fc.property(risky, (v) => {
      const cell = writeCell(v, 'string');
      assert.doesNotMatch(cell, formula);
      assert.equal(cell, `'${v}`);
      assert.deepEqual(readCell(cell, 'string'), { value: v });
      const list = writeCell([v, 'b'], { list: 'string' });
      assert.doesNotMatch(list, formula);
      assert.deepEqual(readCell(list, { list: 'string' }), { value: [v, 'b'] });
    }),
    { numRuns: 300 },
  );
  assert.equal(writeCell(-5, 'number'), '-5');
  assert.equal(writeCell(-5, 'any'), '-5');
  assert.equal(writeCell([-1, 2], { list: 'number' }), '[-1,2]');
  assert.equal(writeCell('a-b', 'string'), 'a-b');
  // a load reads the escaped form back, and takes the number of an escaped number cell
  assert.deepEqual(readCell("'-5", 'number'), { value: -5 });
});
