import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyPatch } from './patch.js';

const record = () => ({
  id: 'r1',
  name: 'n',
  address: { city: 'Oslo', lines: ['a', 'b'] },
  tags: ['x', 'y'],
  other: { deep: { v: 1 } },
});

test('applyPatch never changes the record it was given, whatever the operations reach', () => {
  const cases: [string, any[], (out: any) => void][] = [
    ['replace a nested field', [{ op: 'replace', path: '/address/city', value: 'Bergen' }], (o) => assert.equal(o.address.city, 'Bergen')],
    [
      'add to a nested array',
      [{ op: 'add', path: '/address/lines/-', value: 'c' }],
      (o) => assert.deepEqual(o.address.lines, ['a', 'b', 'c']),
    ],
    ['remove from an array', [{ op: 'remove', path: '/tags/0' }], (o) => assert.deepEqual(o.tags, ['y'])],
    [
      'move between objects',
      [{ op: 'move', from: '/other/deep', path: '/address/deep' }],
      (o) => {
        assert.deepEqual(o.address.deep, { v: 1 });
        assert.deepEqual(o.other, {});
      },
    ],
    [
      'copy then change the copy',
      [
        { op: 'copy', from: '/address', path: '/home' },
        { op: 'replace', path: '/home/city', value: 'Tromsø' },
      ],
      (o) => {
        assert.equal(o.home.city, 'Tromsø');
        assert.equal(o.address.city, 'Oslo');
      },
    ],
    ['replace a top-level field', [{ op: 'replace', path: '/name', value: 'm' }], (o) => assert.equal(o.name, 'm')],
    [
      'test then replace',
      [
        { op: 'test', path: '/other/deep/v', value: 1 },
        { op: 'replace', path: '/other/deep/v', value: 2 },
      ],
      (o) => assert.equal(o.other.deep.v, 2),
    ],
  ];
  for (const [what, ops, check] of cases) {
    const doc = record();
    const out = applyPatch(doc, ops);
    check(out);
    assert.deepEqual(doc, record(), `${what}: the original is unchanged`);
  }
});

test('a failed operation leaves the original as it was and names the operation', () => {
  const doc = record();
  assert.throws(
    () =>
      applyPatch(doc, [
        { op: 'replace', path: '/address/city', value: 'X' },
        { op: 'remove', path: '/address/nope' },
      ]),
    (e: any) => {
      assert.equal(e.errors?.[0]?.field, '1.path');
      return true;
    },
  );
  assert.deepEqual(doc, record());
});

test('test operations get the RFC 6901 pointer checks of the others: canonical, in-bounds indexes, no "-"', () => {
  const doc = record();
  for (const [path, reason] of [
    ['/tags/00', /"00" is not an index of the array/],
    ['/tags/01', /"01" is not an index of the array/],
    ['/tags/+1', /"\+1" is not an index of the array/],
    ['/tags/2', /index 2 is out of bounds/],
    ['/tags/-', /"-" may only end the path of an add/],
    ['/address/lines/1e0', /not an index/],
  ] as const) {
    assert.throws(
      () => applyPatch(doc, [{ op: 'test', path, value: 'x' }]),
      (e: any) => e.status === 400 && e.errors?.[0]?.field === '0.path' && reason.test(e.errors[0].reason),
      path,
    );
  }
  assert.deepEqual(applyPatch(doc, [{ op: 'test', path: '/tags/0', value: 'x' }]).tags, ['x', 'y']);
  assert.throws(
    () => applyPatch(doc, [{ op: 'test', path: '/tags/1', value: 'x' }]),
    (e: any) => e.status === 409,
  );
  assert.throws(
    () => applyPatch(doc, [{ op: 'test', path: '/missing', value: 1 }]),
    (e: any) => e.status === 409,
  );
});
