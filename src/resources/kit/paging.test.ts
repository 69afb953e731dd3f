import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProjection, project } from './paging.js';

const allowed = new Set(['name', 'status', 'address']);

test('a projection is parsed once per resource and gives the same paths again', () => {
  const a = parseProjection('name, address.city', allowed, 'fields');
  assert.deepEqual(a, [['name'], ['address', 'city']]);
  assert.equal(parseProjection('name, address.city', allowed, 'fields'), a, 'the same parsed paths');
  // another resource with the same field names keeps its own
  const other = new Set(['name']);
  assert.throws(() => parseProjection('name, address.city', other, 'fields'), /unknown field "address.city"/);
  assert.deepEqual(project({ id: 'x', name: 'n', status: 's', address: { city: 'c', zip: 'z' } }, a), {
    id: 'x',
    name: 'n',
    address: { city: 'c' },
  });
});

test('a refused projection is refused every time (errors are not kept)', () => {
  for (let i = 0; i < 2; i++) {
    assert.throws(
      () => parseProjection('name,secret', allowed, 'fieldsToReturn'),
      (e: any) => {
        assert.deepEqual(e.errors, [{ field: 'fieldsToReturn', reason: 'names unknown field "secret"' }]);
        return true;
      },
    );
  }
  assert.equal(parseProjection('  ', allowed, 'fields'), undefined);
});

test('the kept projections are bounded', () => {
  const many = new Set(Array.from({ length: 600 }, (_, i) => `f${i}`));
  const first = parseProjection('f0', many, 'fields');
  for (let i = 1; i < 600; i++) parseProjection(`f${i}`, many, 'fields');
  assert.notEqual(parseProjection('f0', many, 'fields'), first, 'an old entry was let go');
  assert.deepEqual(parseProjection('f0', many, 'fields'), [['f0']]);
});
