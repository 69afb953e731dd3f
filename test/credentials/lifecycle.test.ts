import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';
import type { Clock } from '../../src/core/clock.js';
import { fetchFrom, independentVerifier } from './verifier.js';
import { injectCall } from '../billing/population.js';

/**
 * One credential per term, through the real lifecycle: an application activated gives the first term's
 * credential; a renewal (activated in its window) issues the next term's and revokes the first; the
 * licence lapses past its grace period (the sweep) and its credential's suspension bit is set; a
 * reinstatement issues a new credential that verifies. Checked by the independent verifier.
 *
 * The days are in the past: the independent library checks a status list's validFrom (the day it was
 * signed, by the server's clock) against the real clock, with no way to give it another.
 */
let now = new Date('2023-01-15T09:00:00Z');
const clock: Clock = { now: () => now };
const setDay = (d: string) => {
  now = new Date(`${d}T09:00:00Z`);
};
let t: TestApp;
let f: Factory;
const call = injectCall(() => t);
const verify = independentVerifier(fetchFrom(() => t));
const proc: Record<string, any> = {};
let cert: any;

before(async () => {
  t = await startApp({ clock, env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '0', PUBLIC_BASE_URL: 'https://board.example.org' } });
  f = new Factory(t, t.admin);
  const ruleSet = await f.oneYearRuleSet({ reinstatement: true });
  const program = await f.create('programs', {
    name: 'Registered Nurse',
    expiration_rule_set_id: ruleSet.id,
    next_certification_number: 1000,
    default_renewal_period: 90,
  });
  for (const type of ['certification', 'renewal', 'reinstatement'])
    proc[type] = await f.create('applicationProcesses', { name: type, type, program_id: program.id, auto_approve: true });
});
after(() => t?.close());

const apply = async (type: string, body: Record<string, unknown>) => {
  const a = await call('POST', `/applications/acme/generateApplication/${proc[type].id}/contact/nurse-1`, body, 201);
  assert.equal((await call('POST', `/applications/acme/submit/${a.id}`)).status, 'approved');
  return (await call('POST', `/applications/acme/activate/${a.id}`)).certification;
};
const credential = () => call('GET', `/certifications/acme/credential/${cert.id}`);
const ownVerify = (vc: unknown) => call('POST', '/credentials/acme/verify', vc);

test('activation, renewal, lapse and reinstatement: one credential per term, each with its status', async () => {
  cert = await apply('certification', { name: 'Ada Lovelace', email_address: 'ada@example.org' });
  const first = await credential();
  assert.equal(first.issuer.id, 'did:web:board.example.org:issuers:acme');
  assert.equal(first.validFrom, '2023-01-15T00:00:00Z');
  assert.equal(first.validUntil, '2024-02-13T23:59:59Z');
  assert.equal(first.credentialSubject.licenseNumber, '1000');
  assert.equal((await verify(first, now)).verified, true);

  setDay('2023-12-01'); // in the renewal window
  cert = await apply('renewal', { certification_id: cert.id });
  const second = await credential();
  assert.notEqual(second.id, first.id);
  assert.equal(second.validFrom, '2023-12-01T00:00:00Z');
  assert.equal(second.validUntil, '2025-02-13T23:59:59Z');
  assert.equal((await verify(second, now)).verified, true);
  // the first term's credential is replaced: revoked, though its dates still run
  assert.equal((await verify(first, now)).verified, false);
  assert.deepEqual((await ownVerify(first)).checks.status, {
    ok: false,
    reason: 'the credential is revoked',
    revocation: true,
    suspension: false,
  });

  setDay('2025-02-20'); // past the grace period: the sweep lapses it
  const sweep = await call('POST', '/certifications/acme/lifecycleSweep', undefined, 202);
  for (let i = 0; i < 200; i++) {
    const e = await call('GET', `/executions/acme/${encodeURIComponent(sweep.executionArn)}`);
    if (e.status !== 'RUNNING') break;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.equal((await call('GET', `/certifications/acme/${cert.id}`)).status, 'inactive');
  const lapsed = await ownVerify(second);
  assert.equal(lapsed.checks.status.suspension, true);
  assert.equal(lapsed.checks.dates.ok, false);
  // no new credential while lapsed: the latest is answered
  assert.equal((await credential()).id, second.id);

  setDay('2025-03-01'); // inside the reinstatement window
  cert = await apply('reinstatement', { certification_id: cert.id });
  const third = await credential();
  assert.notEqual(third.id, second.id);
  assert.equal(third.validFrom, '2025-03-01T00:00:00Z');
  const v3 = await verify(third, now);
  assert.equal(v3.verified, true, v3.statusError);
  assert.equal((await ownVerify(third)).verified, true);
});
