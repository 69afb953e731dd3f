import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applicationWindowError, graceDays, renewalPricingInReinstatement, renewalWindow, renewalWindowError } from './windows.js';
import type { ExpirationOptionsLike, ExpirationRuleSetLike } from './expiration.js';
import type { CertificationLike } from './certifications.js';

const set = (options: ExpirationOptionsLike, rules: ExpirationRuleSetLike['rules'] = []): ExpirationRuleSetLike => ({
  name: 'test set',
  rules,
  default_expiration_options: options,
});
const yearly = (extra: ExpirationOptionsLike = {}): ExpirationOptionsLike => ({
  expiration_type: 'anniversary',
  anniversary_expiration_options: { term_length: 1, term_type: 'years', allow_mid_month_expirations: true },
  ...extra,
});
/** grace 30 days, reinstatement 60 days after the grace end */
const RS = set(yearly({ grace_period: 30, allow_reinstatement: true, reinstatement_options: { reinstatement_period: 60 } }));
/** expires 2025-03-14; grace end 2025-04-13; reinstatement end 2025-06-12 */
const CERT: CertificationLike = { id: 'c1', status: 'active', expiration_date: '2025-03-14' };

test("graceDays: the rule set's grace period (the matching rule's), 0 without a rule set", () => {
  assert.equal(graceDays(RS, {}), 30);
  assert.equal(graceDays(undefined, {}), 0);
  const ruled = set(yearly({ grace_period: 30 }), [
    {
      name: 'vip',
      matching_conditions: { all: [{ fact: 'vip', operator: 'equal', value: true }] },
      expiration_options: yearly({ grace_period: 90 }),
    },
  ]);
  assert.equal(graceDays(ruled, { vip: true }), 90);
  assert.equal(graceDays(ruled, { vip: false }), 30);
});

test('renewalWindow: opens renewal_period days before expiration, closes at the end of grace', () => {
  assert.deepEqual(renewalWindow(CERT, RS, {}, 90), { opens: '2024-12-14', expires: '2025-03-14', closes: '2025-04-13', period: 90 });
  assert.deepEqual(
    renewalWindow(CERT, RS, {}, undefined),
    { expires: '2025-03-14', closes: '2025-04-13' },
    'no renewal period: no opening limit',
  );
  assert.deepEqual(renewalWindow(CERT, RS, {}, 0), { opens: '2025-03-14', expires: '2025-03-14', closes: '2025-04-13', period: 0 });
  assert.equal(renewalWindow({ id: 'x' }, RS, {}, 90), null, 'no expiration date: no window');
  // the certification's own grace end wins over the rule set's
  assert.equal(renewalWindow({ ...CERT, grace_period_end_date: '2025-05-01' }, RS, {}, 90)!.closes, '2025-05-01');
  assert.equal(
    renewalWindow({ ...CERT, grace_period_end_date: '2025-01-01' }, RS, {}, 90)!.closes,
    '2025-04-13',
    'a grace end before expiry is ignored',
  );
  assert.equal(renewalWindow(CERT, undefined, {}, 90)!.closes, '2025-03-14', 'no rule set and no stored grace end: closes on expiry');
});

test('renewalWindowError: inside the window (both ends inclusive) is fine', () => {
  for (const today of ['2024-12-14', '2025-01-01', '2025-03-14', '2025-04-13'])
    assert.equal(renewalWindowError(CERT, RS, {}, 90, today), null, today);
  assert.equal(renewalWindowError(CERT, RS, {}, undefined, '2020-01-01'), null, 'no renewal period: any time before the end of grace');
  assert.equal(renewalWindowError({ id: 'x' }, RS, {}, 90, '2099-01-01'), null);
});

test('renewalWindowError: too early names the window and its dates', () => {
  const why = renewalWindowError(CERT, RS, {}, 90, '2024-12-13');
  assert.equal(
    why,
    'certification c1 cannot be renewed yet: its renewal window runs from 2024-12-14 (90 days before it expires on 2025-03-14) to 2025-04-13 (the end of its grace period)',
  );
});

test('renewalWindowError: after grace points to reinstatement, with its window', () => {
  assert.equal(
    renewalWindowError(CERT, RS, {}, 90, '2025-04-14'),
    'certification c1 cannot be renewed: its renewal window (2024-12-14 to 2025-04-13) closed at the end of its grace period on 2025-04-13; it lapsed after its grace period, apply for reinstatement instead (its reinstatement window runs from 2025-04-14 to 2025-06-12)',
  );
  assert.match(
    renewalWindowError(CERT, RS, {}, undefined, '2025-07-01')!,
    /closed at the end of its grace period on 2025-04-13; .* apply for reinstatement instead \(its reinstatement window closed on 2025-06-12\)/,
  );
  const noRein = set(yearly({ grace_period: 30 }));
  assert.match(
    renewalWindowError(CERT, noRein, {}, 90, '2025-05-01')!,
    /apply for reinstatement instead \(its programme's rule set does not allow reinstatement\)/,
  );
  assert.match(
    renewalWindowError({ ...CERT, reinstatement_end_date: '2025-09-30' }, RS, {}, 90, '2025-07-01')!,
    /runs from 2025-04-14 to 2025-09-30/,
    'the stored reinstatement end wins',
  );
});

test('applicationWindowError: renewals by their renewal window, reinstatements by theirs, others never', () => {
  assert.match(applicationWindowError('renewal', CERT, RS, {}, 90, '2024-01-01')!, /cannot be renewed yet/);
  assert.equal(applicationWindowError('renewal', CERT, RS, {}, 90, '2025-02-01'), null);
  assert.match(
    applicationWindowError('reinstatement', CERT, RS, {}, 90, '2025-02-01')!,
    /^certification c1 cannot be reinstated: the certification has not lapsed .* renew it instead$/,
  );
  assert.equal(applicationWindowError('reinstatement', CERT, RS, {}, 90, '2025-05-01'), null);
  assert.match(applicationWindowError('reinstatement', CERT, RS, {}, 90, '2025-06-13')!, /reinstatement window closed on 2025-06-12/);
  for (const type of ['certification', 'transfer', undefined])
    assert.equal(applicationWindowError(type, CERT, RS, {}, 90, '2030-01-01'), null);
});

test('reinstatement at renewal pricing: only when the selected options allow reinstatement and give renewal pricing', () => {
  const priced = {
    allow_reinstatement: true,
    reinstatement_options: { reinstatement_period: 90, give_renewal_pricing_during_reinstatement_period: true },
  };
  assert.equal(renewalPricingInReinstatement(set(yearly(priced)), {}), true);
  assert.equal(renewalPricingInReinstatement(set(yearly({ ...priced, allow_reinstatement: false })), {}), false);
  assert.equal(
    renewalPricingInReinstatement(set(yearly({ allow_reinstatement: true, reinstatement_options: { reinstatement_period: 90 } })), {}),
    false,
  );
  assert.equal(renewalPricingInReinstatement(undefined, {}), false);
  // a conditional rule's options win over the default ones when its conditions hold
  const ruled = set(yearly(priced), [
    {
      name: 'military',
      is_enabled: true,
      matching_conditions: { all: [{ fact: 'application_type', operator: 'equal', value: 'reinstatement' }] },
      expiration_options: yearly({ allow_reinstatement: true, reinstatement_options: { reinstatement_period: 30 } }),
    } as never,
  ]);
  assert.equal(renewalPricingInReinstatement(ruled, { application_type: 'renewal' }), true);
  assert.equal(renewalPricingInReinstatement(ruled, { application_type: 'reinstatement' }), false);
});
