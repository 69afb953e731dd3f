import { test } from 'node:test';
import assert from 'node:assert/strict';
import { creditBalanceError, creditTransitionError, creditWriteError, impliedCreditFields, type CreditLike } from './credits.js';

test('credit workflow: draft -> submitted -> under review -> verified | rejected; archived is final', () => {
  // any text as the status, as a stored record may hold
  const at = (status?: string, o: Record<string, unknown> = {}) => ({ status, quantity: 5, ...o }) as CreditLike;
  assert.equal(creditTransitionError(undefined, at('verified')), null, 'created verified (automatically_verify)');
  for (const [a, b] of [
    ['draft', 'submitted'],
    ['submitted', 'under review'],
    ['under review', 'verified'],
    ['under review', 'rejected'],
    ['verified', 'archived'],
    ['rejected', 'archived'],
    ['draft', 'archived'],
  ]) {
    assert.equal(creditTransitionError(at(a), at(b)), null, `${a} -> ${b}`);
  }
  assert.match(creditTransitionError(at('draft'), at('verified'))!, /cannot go from draft to verified/);
  assert.match(creditTransitionError(at('submitted'), at('verified'))!, /cannot go from submitted to verified/);
  assert.match(creditTransitionError(at('archived'), at('verified'))!, /archived; it can no longer change status/);
  assert.match(creditTransitionError(at(undefined), at('verified'))!, /from draft/, 'absent = draft');
});

test('a credit in use cannot leave verified', () => {
  const used: CreditLike = { status: 'verified', quantity: 5, quantity_used: 2, usages: [{ application_id: 'app-1', quantity: 2 }] };
  assert.match(creditTransitionError(used, { ...used, status: 'archived' })!, /used by application app-1 .* cannot become archived/);
  assert.equal(creditTransitionError({ ...used, quantity_used: 0, usages: [] }, { status: 'archived' }), null);
});

test('balance: quantity_available = quantity - quantity_used, quantity_used = sum(usages); derived whatever was sent', () => {
  assert.deepEqual(impliedCreditFields({ quantity: 5 }), { quantity_used: 0, quantity_available: 5 });
  assert.deepEqual(impliedCreditFields({ quantity: 1, usages: [{ quantity: 0.7 }, { quantity: 0.1 }] }), {
    quantity_used: 0.8,
    quantity_available: 0.2,
  });
  assert.deepEqual(impliedCreditFields({ quantity: 5, quantity_used: 2 }), { quantity_available: 3 });
  assert.deepEqual(impliedCreditFields({ quantity: 5, quantity_used: 2, quantity_available: 3 }), {});
  assert.deepEqual(
    impliedCreditFields({ quantity: 5, quantity_used: 2, quantity_available: 5 }),
    { quantity_available: 3 },
    'a wrong balance is corrected',
  );
  assert.deepEqual(
    impliedCreditFields({ quantity: 5, quantity_used: 1, quantity_available: 4, usages: [{ quantity: 2 }] }),
    { quantity_used: 2, quantity_available: 3 },
    'usages decide',
  );
  assert.deepEqual(impliedCreditFields({ quantity: 5, quantity_used: 0, quantity_available: 5, usages: [] }), {});

  assert.equal(creditBalanceError({ quantity: 5 }), null);
  assert.equal(creditBalanceError({ quantity: 1, usages: [{ quantity: 0.7 }, { quantity: 0.3 }] }), null, 'decimals with a tolerance');
  assert.match(creditBalanceError({ quantity: 5, quantity_used: 6 })!, /quantity_used \(6\) cannot exceed quantity \(5\)/);
  assert.match(
    creditBalanceError({ quantity: 5, quantity_used: 0, usages: [{ quantity: 4 }, { quantity: 2 }] })!,
    /quantity_used \(6, the sum of usages\[\]\) cannot exceed quantity \(5\)/,
  );
  assert.match(creditBalanceError({ quantity: 5, quantity_used: -1 })!, /cannot be negative/);
  assert.match(creditWriteError({ status: 'draft', quantity: 5 }, { status: 'verified', quantity: 5 })!, /draft to verified/);
  assert.match(creditWriteError(undefined, { status: 'verified', quantity: 5, quantity_used: 7 })!, /cannot exceed/);
  assert.equal(
    creditWriteError(undefined, { status: 'verified', quantity: 5, quantity_used: 1, quantity_available: 5 }),
    null,
    'corrected, not refused',
  );
});
