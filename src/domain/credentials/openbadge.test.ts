import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHash } from 'node:crypto';
import { holderName, listPosition, notIssuable, openBadgeCredential, STATUS_LIST_LENGTH, statusFlags, termOf } from './openbadge.js';

test('the term runs from the renewal date (else the certification date) to the last covered day', () => {
  assert.deepEqual(termOf({ certification_date: '2025-01-10', expiration_date: '2026-01-09' }), {
    validFrom: '2025-01-10T00:00:00Z',
    validUntil: '2026-01-09T23:59:59Z',
  });
  assert.deepEqual(
    termOf({
      certification_date: '2025-01-10',
      renewal_date: '2026-01-02',
      expiration_date: '2027-01-09',
      grace_period_end_date: '2027-02-09',
    }),
    { validFrom: '2026-01-02T00:00:00Z', validUntil: '2027-02-09T23:59:59Z' },
  );
  assert.deepEqual(termOf({ certification_date: '2025-01-10' }), { validFrom: '2025-01-10T00:00:00Z' });
  assert.equal(termOf({ expiration_date: '2026-01-09' }), null);
});

test('status flags: retired or gone revokes; suspended and every not-valid standing suspend', () => {
  const dates = { expiration_date: '2026-06-30', grace_period_end_date: '2026-07-31' };
  assert.deepEqual(statusFlags(undefined, '2026-01-01'), { revocation: true, suspension: false });
  assert.deepEqual(statusFlags({ status: 'retired', ...dates }, '2026-01-01'), { revocation: true, suspension: false });
  assert.deepEqual(statusFlags({ status: 'suspended', ...dates }, '2026-01-01'), { revocation: false, suspension: true });
  assert.deepEqual(statusFlags({ status: 'active', ...dates }, '2026-06-30'), { revocation: false, suspension: false });
  assert.deepEqual(statusFlags({ status: 'active', ...dates }, '2026-07-31'), { revocation: false, suspension: false }, 'in grace');
  assert.deepEqual(statusFlags({ status: 'active', ...dates }, '2026-08-01'), { revocation: false, suspension: true }, 'due to lapse');
  assert.deepEqual(statusFlags({ status: 'inactive', ...dates }, '2026-01-01'), { revocation: false, suspension: true });
});

test('the credential: programme as achievement, holder as subject, one entry per status purpose', () => {
  const index = STATUS_LIST_LENGTH + 7;
  assert.deepEqual(listPosition(index), { list: 1, bit: 7 });
  const vc = openBadgeCredential({
    id: 'https://x.test/credentials/t/c1',
    issuer: { id: 'did:key:z6Mk1', name: 'Board' },
    achievement: { id: 'https://x.test/p', name: 'Registered Nurse' },
    holder: { name: 'Zoë Ng', number: 42, email: { address: ' Zoe@Example.org', salt: 'pepper' } },
    term: { validFrom: '2026-01-01T00:00:00Z', validUntil: '2026-12-31T23:59:59Z' },
    status: { lists: { revocation: 'https://x.test/r/1', suspension: 'https://x.test/s/1' }, index },
  }) as any;
  assert.deepEqual(vc.type, ['VerifiableCredential', 'OpenBadgeCredential']);
  assert.equal(vc.credentialSubject.licenseNumber, '42');
  // sha256('zoe@example.org' + 'pepper'), the address never in clear
  assert.deepEqual(vc.credentialSubject.identifier, [
    {
      type: 'IdentityObject',
      identityType: 'emailAddress',
      hashed: true,
      identityHash: `sha256$${createHash('sha256').update('zoe@example.orgpepper').digest('hex')}`,
      salt: 'pepper',
    },
  ]);
  assert.equal(JSON.stringify(vc).includes('example.org'), false);
  assert.equal(vc.credentialSubject.achievement.name, 'Registered Nurse');
  assert.equal(vc.validUntil, '2026-12-31T23:59:59Z');
  assert.deepEqual(
    vc.credentialStatus.map((s: any) => [s.statusPurpose, s.statusListIndex, s.id]),
    [
      ['revocation', '7', 'https://x.test/r/1#7'],
      ['suspension', '7', 'https://x.test/s/1#7'],
    ],
  );
});

test('who gets a new credential: numbered, dated, valid today; the holder named as the certificate names them', () => {
  const c = { status: 'active', number: 7, certification_date: '2026-01-01', expiration_date: '2026-12-31' };
  assert.equal(notIssuable(c, '2026-06-01'), undefined);
  assert.match(notIssuable({ ...c, status: 'retired' }, '2026-06-01')!, /retired/);
  assert.match(notIssuable({ ...c, status: 'suspended' }, '2026-06-01')!, /not valid today/);
  assert.match(notIssuable(c, '2027-01-01')!, /not valid today/);
  assert.match(notIssuable({ ...c, number: undefined }, '2026-06-01')!, /no certificate number/);
  assert.match(notIssuable({ ...c, certification_date: undefined }, '2026-06-01')!, /no certification or renewal date/);
  assert.equal(holderName({ certificate_name: ' Dr Ada ', name: 'Ada' }), 'Dr Ada');
  assert.equal(holderName({ name: 'Ada L' }), 'Ada L');
  assert.equal(holderName({ first_name: 'Ada', last_name: 'Lovelace' }), 'Ada Lovelace');
});
