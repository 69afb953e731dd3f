import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  certificationTransitionError,
  OWNER_FIELDS,
  ownerCopy,
  reinstatementError,
  term,
  type CertificationLike,
} from './certifications.js';
import { computeExpiration, DomainError, type ExpirationOptionsLike, type ExpirationRuleSetLike, type Facts } from './expiration.js';

// ---- helpers ---------------------------------------------------------------------------------------

const set = (options: ExpirationOptionsLike, rules: ExpirationRuleSetLike['rules'] = []): ExpirationRuleSetLike => ({
  name: 'test set',
  rules,
  default_expiration_options: options,
});
/** One-year mid-month anniversary term, with the given grace / reinstatement options. */
const yearly = (extra: ExpirationOptionsLike = {}): ExpirationOptionsLike => ({
  expiration_type: 'anniversary',
  anniversary_expiration_options: { term_length: 1, term_type: 'years', allow_mid_month_expirations: true },
  ...extra,
});
/** grace 30 days, reinstatement 60 days after the grace end */
const REINSTATABLE = set(yearly({ grace_period: 30, allow_reinstatement: true, reinstatement_options: { reinstatement_period: 60 } }));
/** expires 2025-03-14; grace end 2025-04-13; reinstatement end 2025-06-12 */
const CERT: CertificationLike = { id: 'cert1', status: 'inactive', expiration_date: '2025-03-14' };

// ---- certificationTransitionError --------------------------------------------------------------------

const STATUSES = ['active', 'inactive', 'suspended', 'retired'] as const;
const ALLOWED = new Set([
  'active>inactive',
  'active>suspended',
  'active>retired',
  'inactive>active',
  'inactive>retired',
  'suspended>active',
  'suspended>inactive',
  'suspended>retired',
]);

for (const from of STATUSES) {
  for (const to of STATUSES) {
    const allowed = from === to || ALLOWED.has(`${from}>${to}`);
    test(`certificationTransitionError: ${from} -> ${to} is ${allowed ? 'allowed' : 'refused'}`, () => {
      const why = certificationTransitionError(from, to);
      if (allowed) {
        assert.equal(why, null);
      } else if (from === 'retired') {
        assert.equal(why, 'the certification is retired; a retired certification cannot change status');
      } else {
        assert.equal(typeof why, 'string');
        assert.ok(why!.includes(`from ${from} to ${to}`), why!);
      }
    });
  }
}

test('certificationTransitionError: forbidden message lists what is allowed', () => {
  assert.equal(
    certificationTransitionError('inactive', 'suspended'),
    'a certification cannot go from inactive to suspended (from inactive: active, retired)',
  );
});
test('certificationTransitionError: no old status (create) allows any status', () => {
  for (const to of [...STATUSES, undefined]) assert.equal(certificationTransitionError(undefined, to), null, String(to));
});
test('certificationTransitionError: unknown from status', () => {
  assert.equal(certificationTransitionError('lapsed', 'active'), 'unknown certification status "lapsed"');
});
test('certificationTransitionError: unknown to status is refused and named', () => {
  const why = certificationTransitionError('active', 'lapsed');
  assert.equal(typeof why, 'string');
  assert.ok(why!.includes('active') && why!.includes('lapsed'), why!);
});
test('certificationTransitionError: unknown statuses named like Object.prototype members return a message, not a TypeError', () => {
  for (const s of ['toString', 'constructor', 'hasOwnProperty', '__proto__']) {
    assert.equal(certificationTransitionError(s, 'active'), `unknown certification status "${s}"`);
  }
});

// ---- ownerCopy ------------------------------------------------------------------------------------------

test('ownerCopy: contact owner copies the owner fields only, customer_id = contact_id', () => {
  const app = {
    id: 'app1',
    status: 'approved',
    process_id: 'p1',
    owner_type: 'contact',
    contact_id: 'ct1',
    first_name: 'Ada',
    last_name: 'Lovelace',
    email_address: 'ada@example.org',
    city: 'London',
    state: 'LDN',
    country: 'GB',
  };
  assert.deepEqual(ownerCopy(app), {
    owner_type: 'contact',
    contact_id: 'ct1',
    first_name: 'Ada',
    last_name: 'Lovelace',
    email_address: 'ada@example.org',
    city: 'London',
    state: 'LDN',
    country: 'GB',
    customer_id: 'ct1',
    name: 'Ada Lovelace',
  });
});
test('ownerCopy: organization owner, customer_id = organization_id', () => {
  const out = ownerCopy({ owner_type: 'organization', organization_id: 'org1', contact_id: 'ct1', name: 'Acme Ltd' });
  assert.deepEqual(out, { owner_type: 'organization', organization_id: 'org1', contact_id: 'ct1', name: 'Acme Ltd', customer_id: 'org1' });
});
test('ownerCopy: without owner_type the contact is the customer', () => {
  assert.equal(ownerCopy({ contact_id: 'ct1', organization_id: 'org1' }).customer_id, 'ct1');
  assert.equal(ownerCopy({ owner_type: 'contact', contact_id: 'ct1', organization_id: 'org1' }).customer_id, 'ct1');
});
test('ownerCopy: an explicit name wins over first/last names', () => {
  assert.equal(ownerCopy({ contact_id: 'ct1', name: 'Dr A. Lovelace', first_name: 'Ada', last_name: 'Lovelace' }).name, 'Dr A. Lovelace');
});
test('ownerCopy: name from first and/or last name', () => {
  assert.equal(ownerCopy({ contact_id: 'ct1', first_name: 'Ada', last_name: 'Lovelace' }).name, 'Ada Lovelace');
  assert.equal(ownerCopy({ contact_id: 'ct1', first_name: 'Ada' }).name, 'Ada');
  assert.equal(ownerCopy({ contact_id: 'ct1', last_name: 'Lovelace' }).name, 'Lovelace');
  assert.equal(ownerCopy({ contact_id: 'ct1', first_name: '', last_name: 'Lovelace' }).name, 'Lovelace');
});
test('ownerCopy: name falls back to the contact id', () => {
  assert.equal(ownerCopy({ contact_id: 'ct1' }).name, 'ct1');
  assert.equal(ownerCopy({ contact_id: 'ct1', first_name: '', last_name: '' }).name, 'ct1');
});
test('ownerCopy: absent fields are not copied', () => {
  const out = ownerCopy({ contact_id: 'ct1', first_name: 'Ada' });
  assert.deepEqual(Object.keys(out).sort(), ['contact_id', 'customer_id', 'first_name', 'name']);
  for (const k of ['owner_type', 'organization_id', 'last_name', 'email_address', 'city', 'state', 'country']) assert.ok(!(k in out), k);
});
test('ownerCopy: only OWNER_FIELDS plus customer_id and name come out', () => {
  const app: Record<string, unknown> = { id: 'a', program_id: 'p', fee_paid_date: '2024-01-01', certification_id: 'c' };
  for (const k of OWNER_FIELDS) app[k] = `${k}-value`;
  const out = ownerCopy(app);
  assert.deepEqual(Object.keys(out).sort(), [...OWNER_FIELDS, 'customer_id'].sort());
  assert.equal(out.name, 'name-value');
});
test('ownerCopy: does not modify the application', () => {
  const app = { contact_id: 'ct1', first_name: 'Ada' };
  ownerCopy(app);
  assert.deepEqual(app, { contact_id: 'ct1', first_name: 'Ada' });
});
test('ownerCopy: an organization owner without any name does not get the name "undefined"', () => {
  const out = ownerCopy({ owner_type: 'organization', organization_id: 'org1' });
  assert.equal(out.customer_id, 'org1');
  assert.notEqual(out.name, 'undefined');
});

// ---- term ----------------------------------------------------------------------------------------------

test('term: without a rule set throws DomainError on the programme field', () => {
  assert.throws(
    () => term(undefined, '2024-03-15', {}),
    (e: unknown) => {
      assert.ok(e instanceof DomainError);
      assert.equal(e.field, 'program.expiration_rule_set_id');
      assert.match(e.reason, /no expiration rule set/);
      return true;
    },
  );
});
test('term: computes expiration, grace end and reinstatement end', () => {
  assert.deepEqual(term(REINSTATABLE, '2024-03-15', {}), {
    expiration_date: '2025-03-14',
    grace_period_end: '2025-04-13',
    reinstatement_end: '2025-06-12',
    rule: 'default',
  });
});
test('term: delegates to computeExpiration (calendar, rules by facts)', () => {
  const rs = set({ expiration_type: 'calendar' }, [
    {
      name: 'members',
      matching_conditions: { all: [{ fact: 'member', operator: 'equal', value: true }] },
      expiration_options: yearly({ grace_period: 5 }),
    },
  ]);
  const cases: [string, Facts][] = [
    ['2024-03-15', {}],
    ['2024-03-15', { member: true }],
    ['2024-12-31', { member: false }],
  ];
  for (const [start, f] of cases) assert.deepEqual(term(rs, start, f), computeExpiration(rs, start, f));
  assert.equal(term(rs, '2024-03-15', { member: true }).rule, 'members');
  assert.equal(term(rs, '2024-03-15', {}).expiration_date, '2024-12-31');
});
test('term: invalid input surfaces computeExpiration DomainError', () => {
  assert.throws(() => term(REINSTATABLE, '2024-02-30', {}), DomainError);
  assert.throws(() => term(set({} as ExpirationOptionsLike), '2024-02-01', {}), DomainError);
});

// ---- reinstatementError ------------------------------------------------------------------------------

test('reinstatementError: a certification without an expiration date', () => {
  assert.match(reinstatementError({ id: 'c' }, REINSTATABLE, {}, '2025-05-01') ?? '', /no expiration date/);
});
test('reinstatementError: no rule set', () => {
  assert.equal(reinstatementError(CERT, undefined, {}, '2025-05-01'), 'the programme has no expiration rule set');
});
test('reinstatementError: still valid is refused, naming the grace end', () => {
  for (const today of ['2024-06-01', '2025-03-13', '2025-03-14']) {
    const why = reinstatementError(CERT, REINSTATABLE, {}, today);
    assert.match(why ?? '', /has not lapsed/, today);
    assert.ok(why!.includes('2025-04-13'), why!);
  }
});
test('reinstatementError: inside the grace period is refused, up to and including its last day', () => {
  for (const today of ['2025-03-15', '2025-04-01', '2025-04-13']) {
    assert.equal(
      reinstatementError(CERT, REINSTATABLE, {}, today),
      'the certification has not lapsed (it is valid, or in its grace period, until 2025-04-13); renew it instead',
      today,
    );
  }
});
test('reinstatementError: first day after the grace period is allowed', () => {
  assert.equal(reinstatementError(CERT, REINSTATABLE, {}, '2025-04-14'), null);
});
test('reinstatementError: inside the window is allowed', () => {
  assert.equal(reinstatementError(CERT, REINSTATABLE, {}, '2025-05-20'), null);
});
test('reinstatementError: last day of the window is allowed', () => {
  assert.equal(reinstatementError(CERT, REINSTATABLE, {}, '2025-06-12'), null);
});
test('reinstatementError: the day after the window is refused with the closing date', () => {
  assert.equal(reinstatementError(CERT, REINSTATABLE, {}, '2025-06-13'), 'the reinstatement window closed on 2025-06-12');
  assert.equal(reinstatementError(CERT, REINSTATABLE, {}, '2027-01-01'), 'the reinstatement window closed on 2025-06-12');
});
test('reinstatementError: the closing date agrees with term().reinstatement_end', () => {
  const t = term(REINSTATABLE, '2024-03-15', {});
  const cert = { expiration_date: t.expiration_date };
  assert.equal(reinstatementError(cert, REINSTATABLE, {}, t.reinstatement_end!), null);
  assert.equal(
    reinstatementError(cert, REINSTATABLE, {}, t.grace_period_end),
    reinstatementError(cert, REINSTATABLE, {}, t.expiration_date),
  );
  assert.match(reinstatementError(cert, REINSTATABLE, {}, t.grace_period_end) ?? '', /has not lapsed/);
});
test('reinstatementError: without a grace period the window opens the day after expiration', () => {
  const rs = set(yearly({ allow_reinstatement: true, reinstatement_options: { reinstatement_period: 10 } }));
  assert.match(reinstatementError(CERT, rs, {}, '2025-03-14') ?? '', /until 2025-03-14/);
  assert.equal(reinstatementError(CERT, rs, {}, '2025-03-15'), null);
  assert.equal(reinstatementError(CERT, rs, {}, '2025-03-24'), null);
  assert.equal(reinstatementError(CERT, rs, {}, '2025-03-25'), 'the reinstatement window closed on 2025-03-24');
});
test('reinstatementError: grace period across month end and leap day', () => {
  const rs = set(yearly({ grace_period: 30, allow_reinstatement: true, reinstatement_options: { reinstatement_period: 1 } }));
  const cert = { expiration_date: '2024-01-31' };
  assert.match(reinstatementError(cert, rs, {}, '2024-03-01') ?? '', /until 2024-03-01/);
  assert.equal(reinstatementError(cert, rs, {}, '2024-03-02'), null);
  assert.equal(reinstatementError(cert, rs, {}, '2024-03-03'), 'the reinstatement window closed on 2024-03-02');
});
test('reinstatementError: no reinstatement_period means the window is closed at the grace end', () => {
  const rs = set(yearly({ grace_period: 30, allow_reinstatement: true }));
  assert.equal(reinstatementError(CERT, rs, {}, '2025-04-14'), 'the reinstatement window closed on 2025-04-13');
});
test('reinstatementError: a rule set without allow_reinstatement refuses once lapsed', () => {
  const msg = "the programme's rule set does not allow reinstatement";
  for (const extra of [{}, { allow_reinstatement: false }] as ExpirationOptionsLike[]) {
    const rs = set(yearly({ grace_period: 30, reinstatement_options: { reinstatement_period: 60 }, ...extra }));
    assert.equal(reinstatementError(CERT, rs, {}, '2025-04-14'), msg);
    assert.equal(reinstatementError(CERT, rs, {}, '2025-06-12'), msg);
    // inside the grace period it is still "not lapsed"
    assert.match(reinstatementError(CERT, rs, {}, '2025-04-13') ?? '', /has not lapsed/);
  }
});
test('reinstatementError: the rule selected by the facts decides', () => {
  const rs = set(yearly({ grace_period: 30, allow_reinstatement: true, reinstatement_options: { reinstatement_period: 60 } }), [
    { name: 'disabled', is_enabled: false, expiration_options: yearly({ allow_reinstatement: false }) },
    {
      name: 'members',
      matching_conditions: { all: [{ fact: 'member', operator: 'equal', value: true }] },
      expiration_options: yearly({ grace_period: 0, allow_reinstatement: true, reinstatement_options: { reinstatement_period: 10 } }),
    },
    {
      name: 'no reinstatement',
      matching_conditions: { all: [{ fact: 'region', operator: 'equal', value: 'EU' }] },
      expiration_options: yearly({ grace_period: 0 }),
    },
  ]);
  // members: no grace, 10 days
  assert.equal(reinstatementError(CERT, rs, { member: true }, '2025-03-20'), null);
  assert.equal(reinstatementError(CERT, rs, { member: true }, '2025-03-25'), 'the reinstatement window closed on 2025-03-24');
  // default: still in grace on 2025-03-20, open on 2025-05-01
  assert.match(reinstatementError(CERT, rs, {}, '2025-03-20') ?? '', /until 2025-04-13/);
  assert.equal(reinstatementError(CERT, rs, { member: false }, '2025-05-01'), null);
  // EU: lapsed the day after expiration, never reinstatable
  assert.equal(reinstatementError(CERT, rs, { region: 'EU' }, '2025-03-20'), "the programme's rule set does not allow reinstatement");
  // the first matching rule wins
  assert.equal(reinstatementError(CERT, rs, { member: true, region: 'EU' }, '2025-03-20'), null);
});
test('reinstatementError: a bad rule set surfaces as DomainError', () => {
  const rs = set(yearly(), [
    { name: 'bad', matching_conditions: { all: [{ fact: 'x', operator: 'like', value: 1 }] }, expiration_options: yearly() },
  ]);
  assert.throws(() => reinstatementError(CERT, rs, {}, '2025-05-01'), DomainError);
});
