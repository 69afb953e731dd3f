import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boundsWhen, date, dateTime, int, list, num, obj, oneOf, req, str } from './fields.js';
import { defineResource } from './define.js';
import { check } from './validation.js';

test('num() and int() turn min / max / above / whole into JSON Schema bounds, and refuse impossible ones', () => {
  const plain = (s: object) => JSON.parse(JSON.stringify(s));
  assert.deepEqual(plain(num({ min: 0, max: 100 })), { type: 'number', minimum: 0, maximum: 100 });
  assert.deepEqual(plain(num({ above: 0 })), { type: 'number', exclusiveMinimum: 0 });
  assert.deepEqual(plain(int({ min: 1, whole: true, description: 'd' })), { type: 'integer', minimum: 1, multipleOf: 1, description: 'd' });
  assert.throws(() => num({ min: 5, max: 1 }), /min 5 is above max 1/);
  assert.throws(() => num({ min: 0, above: 0 }), /not both/);
});

test('bounds are checked with the field named and the limit in the reason', () => {
  const s = obj({ p: num({ min: 0, max: 100 }), r: num({ above: 0 }), w: num({ min: 0, whole: true }) });
  assert.deepEqual(check(s, { p: 100, r: 0.001, w: 3 }), []);
  assert.deepEqual(check(s, { p: 100.5 }), [{ field: 'p', reason: 'must be <= 100' }]);
  assert.deepEqual(check(s, { p: -1 }), [{ field: 'p', reason: 'must be >= 0' }]);
  assert.deepEqual(check(s, { r: 0 }), [{ field: 'r', reason: 'must be > 0' }]);
  assert.deepEqual(check(s, { w: 2.5 }), [{ field: 'w', reason: 'must be a whole number' }]);
});

test('ordered pairs: the second may equal the first, not come before it; absent halves are not judged', () => {
  const s = obj(
    { start: date(), end: date(), from: dateTime(), until: dateTime(), lo: num(), hi: num() },
    {
      ordered: [
        ['start', 'end'],
        ['from', 'until'],
        ['lo', 'hi'],
      ],
    },
  );
  assert.deepEqual(check(s, { start: '2026-01-01', end: '2026-01-01', lo: 3, hi: 3 }), []);
  assert.deepEqual(check(s, { start: '2026-01-02' }), []);
  assert.deepEqual(check(s, { start: '2026-01-02', end: '2026-01-01' }), [
    { field: 'end', reason: 'must not be before start ("2026-01-02")' },
  ]);
  assert.deepEqual(check(s, { lo: 3, hi: 2.5 }), [{ field: 'hi', reason: 'must not be less than lo (3)' }]);
  // instants, not text: 10:00-02:00 is 12:00Z
  assert.deepEqual(check(s, { from: '2026-01-01T10:00:00-02:00', until: '2026-01-01T11:00:00Z' }), [
    { field: 'until', reason: 'must not be before from ("2026-01-01T10:00:00-02:00")' },
  ]);
  assert.deepEqual(check(s, { from: '2026-01-01T10:00:00+02:00', until: '2026-01-01T09:00:00Z' }), []);
});

test('ordered pairs in array items and nested objects name the item; a prefix is kept', () => {
  const s = obj({ outer: obj({ items: list(obj({ a: date(), b: date() }, { ordered: [['a', 'b']] })) }) });
  const body = {
    outer: {
      items: [
        { a: '2026-01-01', b: '2026-01-02' },
        { a: '2026-01-03', b: '2026-01-02' },
      ],
    },
  };
  assert.deepEqual(check(s, body, 'operations.0.object'), [
    { field: 'operations.0.object.outer.items.1.b', reason: 'must not be before a ("2026-01-03")' },
  ]);
});

test('ordered pairs are checked when defined: both fields exist and compare alike', () => {
  assert.throws(() => obj({ a: date() }, { ordered: [['a', 'b']] }), /both must be date, date-time or number fields/);
  assert.throws(() => obj({ a: date(), b: str() }, { ordered: [['a', 'b']] }), /both must be/);
  assert.throws(() => obj({ a: date(), b: dateTime() }, { ordered: [['a', 'b']] }), /a date cannot be compared with a date-time/);
  const def = { slug: 'things', name: 'Things', singular: 'thing', typeName: 'Thing', table: 'things', coverage: 'test', search: {} };
  assert.throws(() => defineResource({ ...def, fields: { start: date() }, ordered: [['start', 'end']] }), /both must be/);
  const r = defineResource({ ...def, fields: { start: date(), end: date() }, ordered: [['start', 'end']] });
  assert.deepEqual(r.validate({ start: '2026-02-01', end: '2026-01-01' }), [
    { field: 'end', reason: 'must not be before start ("2026-02-01")' },
  ]);
  // the record (output) schema does not carry the rule: a stored record is answered as it is
  assert.equal((r.recordSchema as Record<string, unknown>)['x-ordered'], undefined);
});

test('boundsWhen: a bound that applies only when a sibling has a given value', () => {
  const s = obj({
    d: boundsWhen(
      obj({ kind: req(oneOf(['percentage', 'fixed amount'])), amount: req(num({ min: 0 })) }),
      { kind: 'percentage' },
      'amount',
      { max: 100 },
    ),
  });
  assert.deepEqual(check(s, { d: { kind: 'percentage', amount: 100 } }), []);
  assert.deepEqual(check(s, { d: { kind: 'fixed amount', amount: 150 } }), []);
  assert.deepEqual(check(s, { d: { kind: 'percentage', amount: 150 } }), [{ field: 'd.amount', reason: 'must be <= 100' }]);
  assert.throws(() => boundsWhen(obj({ a: num() }), { a: 1 }, 'b', { max: 1 }), /b is not a property/);
});

test('a field check may name the member of an object field at fault, in validate, validateAll and under a prefix', () => {
  const def = { slug: 'things', name: 'Things', singular: 'thing', typeName: 'Thing', table: 'things', coverage: 'test', search: {} };
  const r = defineResource({
    ...def,
    fields: { look: obj({ body: str(), color: str() }), code: str() },
    fieldChecks: {
      look: (v) => ((v as { body?: string }).body === 'bad' ? { field: 'body', reason: 'is bad' } : null),
      code: (v) => (v === 'x' ? 'is x' : null),
    },
  });
  assert.deepEqual(r.validate({ look: { body: 'fine' }, code: 'y' }), []);
  assert.deepEqual(r.validate({ look: { body: 'bad' } }), [{ field: 'look.body', reason: 'is bad' }]);
  assert.deepEqual(r.validate({ look: { body: 'bad' } }, 'operations.0.object'), [
    { field: 'operations.0.object.look.body', reason: 'is bad' },
  ]);
  assert.deepEqual(r.validateAll({ look: { body: 'bad' }, code: 'x' }), [
    { field: 'look.body', reason: 'is bad' },
    { field: 'code', reason: 'is x' },
  ]);
});
