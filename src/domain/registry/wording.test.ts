import { test } from 'node:test';
import assert from 'node:assert/strict';
import { longDate, standingInWords } from './wording.js';
import { verdict } from './verification.js';
import { standing } from '../lifecycle/standing.js';

const TODAY = '2026-06-15';
/** The facts as the verification gives them, from a certification record. */
const facts = (c: { status: string; expiration_date?: string; grace_period_end_date?: string }) => {
  const s = standing(c, TODAY);
  return { ...c, valid: verdict(c, TODAY).valid, ...(s ? { standing: s } : {}) };
};

test('long dates are written from the date itself', () => {
  assert.equal(longDate('2026-09-03'), '3 September 2026');
  assert.equal(longDate('2026-12-31T00:00:00Z'), '31 December 2026');
  assert.equal(longDate(undefined), undefined);
});

test('current: valid until the expiration date, or does not expire', () => {
  const w = standingInWords(facts({ status: 'active', expiration_date: '2026-12-31', grace_period_end_date: '2027-01-30' }));
  assert.equal(w.word, 'current');
  assert.equal(w.sentence, 'This licence is current: valid until 31 December 2026.');
  assert.match(standingInWords(facts({ status: 'active' })).sentence, /does not expire/);
});

test('in grace: expired, valid until the grace period end', () => {
  const w = standingInWords(facts({ status: 'active', expiration_date: '2026-06-01', grace_period_end_date: '2026-07-01' }));
  assert.equal(w.word, 'in_grace');
  assert.equal(w.sentence, 'This licence expired on 1 June 2026 and is in its grace period: it is valid until 1 July 2026.');
});

test('lapsed: active past its grace end, or inactive', () => {
  assert.equal(
    standingInWords(facts({ status: 'active', expiration_date: '2026-04-01', grace_period_end_date: '2026-05-01' })).word,
    'lapsed',
  );
  assert.equal(standingInWords(facts({ status: 'inactive', expiration_date: '2027-04-01' })).word, 'lapsed');
});

test('suspended and retired are never valid, whatever the dates', () => {
  assert.equal(standingInWords(facts({ status: 'suspended', expiration_date: '2027-01-01' })).label, 'Suspended');
  assert.equal(standingInWords(facts({ status: 'retired', expiration_date: '2027-01-01' })).word, 'retired');
});
