import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, type TestApp } from '../helpers.js';
import type { Clock } from '../../src/core/clock.js';
import { addDays } from '../billing/population.js';
import { fetchFrom, independentVerifier } from './verifier.js';
import { outboxRowsOf } from '../../src/store/outbox.js';
import { asTenant } from '../../src/store/tenant-scope.js';
import { emlName } from '../../src/mail/transport.js';
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';

/**
 * Open Badges 3.0 credentials end to end, checked by an independent verifier (the Digital Credentials
 * libraries, test/credentials/verifier.ts) and by the server's own verification route: signature, a
 * changed field, suspension and reinstatement through the status lists, retirement (revocation for
 * good), a lapse as time passes, another tenant's credential, key rotation, the e-mail with the
 * credential attached, and bad input. Twice: issuers as did:key (no PUBLIC_BASE_URL) and as did:web.
 */
const TODAY = '2026-06-15';

for (const mode of ['did:key', 'did:web'] as const) {
  describe(`credentials (${mode})`, () => {
    let now = new Date(`${TODAY}T09:00:00Z`);
    const clock: Clock = { now: () => now };
    const BASE = 'https://registry.example.org';
    let t: TestApp;
    let other: string;
    let program: any;
    const certs: Record<string, any> = {};

    const call = async (method: string, url: string, body?: unknown, status = 200, auth?: string | false) => {
      const res = await t.call({ method: method as any, url, payload: body as any, auth: auth === undefined ? t.admin : auth });
      assert.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
      return res.json();
    };
    const fetchJson = fetchFrom(() => t);
    const verify = independentVerifier(fetchJson);
    const credentialOf = (key: string, tenant = 'acme', auth?: string) =>
      call('GET', `/certifications/${tenant}/credential/${certs[key].id}`, undefined, 200, auth);
    const serverVerify = (vc: unknown, tenant = 'acme') => call('POST', `/credentials/${tenant}/verify`, vc, 200, false);

    before(async () => {
      t = await startApp({
        clock,
        env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '0', ...(mode === 'did:web' ? { PUBLIC_BASE_URL: BASE } : {}) },
      });
      other = await t.token({ tenants: ['other'], scope: 'certifications:admin' });
      program = await call('POST', '/programs/acme', { name: 'Registered Nurse', description: 'State licence to practise as an RN' }, 201);
      await call(
        'POST',
        '/settings/acme',
        { business_unit_id: 'bu', merchant_account_id: 'm', bank_account_id: 'b', board_name: 'State Board of Nursing' },
        201,
      );
      for (const [k, number] of [
        ['ada', 1001],
        ['ben', 1002],
        ['cy', 1003],
      ] as const) {
        certs[k] = await call(
          'POST',
          '/certifications/acme',
          {
            number,
            contact_id: `contact-${k}`,
            program_id: program.id,
            status: 'active',
            name: `${k.toUpperCase()} Zoë Łukasz`,
            email_address: `${k}@example.org`,
            certification_date: '2025-06-01',
            expiration_date: addDays(TODAY, 100),
            grace_period_end_date: addDays(TODAY, 130),
          },
          201,
        );
      }
      const op = await call('POST', '/programs/other', { name: 'Paramedic' }, 201, other);
      certs.olga = await call(
        'POST',
        '/certifications/other',
        {
          number: 7,
          contact_id: 'c-olga',
          program_id: op.id,
          status: 'active',
          name: 'Olga',
          certification_date: '2025-06-01',
          expiration_date: addDays(TODAY, 100),
        },
        201,
        other,
      );
    });
    after(() => t?.close());

    test('a certification gets a signed OpenBadgeCredential that an independent verifier accepts', async () => {
      const vc = await credentialOf('ada');
      assert.deepEqual(vc.type, ['VerifiableCredential', 'OpenBadgeCredential']);
      assert.equal(vc.credentialSubject.name, 'ADA Zoë Łukasz');
      assert.equal(vc.credentialSubject.licenseNumber, '1001');
      // the holder's address, salted and hashed: who knows it can match it; the credential does not say it
      const [identity] = vc.credentialSubject.identifier;
      assert.equal(identity.identityHash, `sha256$${createHash('sha256').update(`ada@example.org${identity.salt}`).digest('hex')}`);
      assert.equal(JSON.stringify(vc).includes('ada@example.org'), false);
      assert.equal(vc.credentialSubject.achievement.name, 'Registered Nurse');
      assert.equal(vc.issuer.name, 'State Board of Nursing');
      assert.equal(vc.validFrom, '2025-06-01T00:00:00Z');
      assert.equal(vc.validUntil, `${addDays(TODAY, 130)}T23:59:59Z`);
      assert.equal(vc.proof.cryptosuite, 'eddsa-rdfc-2022');
      assert.ok(vc.issuer.id.startsWith(mode === 'did:key' ? 'did:key:z6Mk' : 'did:web:registry.example.org:issuers:acme'), vc.issuer.id);
      assert.deepEqual(
        vc.credentialStatus.map((s: any) => s.statusPurpose),
        ['revocation', 'suspension'],
      );
      const r = await verify(vc, now);
      assert.equal(r.verified, true, JSON.stringify({ ...r.result, results: undefined }, null, 1));
      const own = await serverVerify(vc);
      assert.deepEqual(own.checks, {
        signature: { ok: true },
        issuer: { ok: true },
        dates: { ok: true },
        status: { ok: true, revocation: false, suspension: false },
      });
      assert.equal(own.verified, true);
      // the same term and content: the same credential, however often asked for
      assert.equal((await credentialOf('ada')).id, vc.id);
      // hosted at its own URL, as issued
      assert.deepEqual(await fetchJson(vc.id), vc);
      // no private key anywhere in what the routes answer
      const keys = await call('GET', '/settings/acme/issuerKeys');
      assert.equal(keys.Count, 1);
      assert.equal(JSON.stringify(keys).includes('secret'), false);
      assert.ok(vc.proof.verificationMethod.endsWith(`#${keys.Items[0].publicKeyMultibase}`));
    });

    test('a changed field breaks the signature', async () => {
      const vc = await credentialOf('ada');
      const forged = structuredClone(vc);
      forged.credentialSubject.name = 'Mallory';
      assert.equal((await verify(forged, now)).verified, false);
      const own = await serverVerify(forged);
      assert.equal(own.verified, false);
      assert.equal(own.checks.signature.ok, false);
      const later = structuredClone(vc);
      later.validUntil = '2099-12-31T23:59:59Z';
      assert.equal((await verify(later, now)).verified, false);
    });

    test('suspension sets the bit (both verifiers fail the credential); reinstatement clears it', async () => {
      const vc = await credentialOf('ben');
      assert.equal((await verify(vc, now)).verified, true);
      await call('PATCH', `/certifications/acme/${certs.ben.id}`, [{ op: 'replace', path: '/status', value: 'suspended' }]);
      const suspended = await verify(vc, now);
      assert.equal(suspended.verified, false);
      const own = await serverVerify(vc);
      assert.equal(own.verified, false);
      assert.deepEqual(own.checks.status, { ok: false, reason: 'the credential is suspended', revocation: false, suspension: true });
      assert.equal(own.checks.signature.ok, true);
      // a suspended certification gets no new credential: its latest is answered, flagged
      assert.equal((await credentialOf('ben')).id, vc.id);
      await call('PATCH', `/certifications/acme/${certs.ben.id}`, [{ op: 'replace', path: '/status', value: 'active' }]);
      assert.equal((await verify(vc, now)).verified, true);
      assert.equal((await serverVerify(vc)).verified, true);
    });

    test('a new term issues a new credential and revokes the one it replaces; retirement revokes for good', async () => {
      const first = await credentialOf('cy');
      // a renewal: a new term (renewal date, expiration)
      await call('PATCH', `/certifications/acme/${certs.cy.id}`, [
        { op: 'add', path: '/renewal_date', value: TODAY },
        { op: 'replace', path: '/expiration_date', value: addDays(TODAY, 465) },
        { op: 'replace', path: '/grace_period_end_date', value: addDays(TODAY, 495) },
      ]);
      const second = await credentialOf('cy');
      assert.notEqual(second.id, first.id);
      assert.equal(second.validFrom, `${TODAY}T00:00:00Z`);
      assert.equal((await verify(second, now)).verified, true);
      const replaced = await serverVerify(first);
      assert.equal(replaced.checks.status.revocation, true);
      assert.equal((await verify(first, now)).verified, false);
      await call('PATCH', `/certifications/acme/${certs.cy.id}`, [{ op: 'replace', path: '/status', value: 'retired' }]);
      assert.equal((await verify(second, now)).verified, false);
      assert.equal((await serverVerify(second)).checks.status.revocation, true);
      // a retired certification cannot come back (the lifecycle refuses it), and its credential stays revoked
      await call('PATCH', `/certifications/acme/${certs.cy.id}`, [{ op: 'replace', path: '/status', value: 'active' }], 409);
      assert.equal((await serverVerify(second)).checks.status.revocation, true);
      // no new credential for a retired certification: its latest, revoked, is answered
      assert.equal((await credentialOf('cy')).id, second.id);
    });

    test("another tenant's credential is not this tenant's; a credential re-signed by another tenant fails", async () => {
      const olga = await credentialOf('olga', 'other', other);
      assert.equal((await verify(olga, now)).verified, true, 'valid for its own tenant');
      assert.equal((await serverVerify(olga, 'other')).verified, true);
      const atAcme = await serverVerify(olga, 'acme');
      assert.equal(atAcme.verified, false);
      assert.equal(atAcme.checks.issuer.ok, false);
      // claims acme as its issuer, with other's proof: the signature breaks
      const ada = await credentialOf('ada');
      const claimed = structuredClone(olga);
      claimed.issuer = ada.issuer;
      assert.equal((await verify(claimed, now)).verified, false);
      assert.equal((await serverVerify(claimed, 'acme')).verified, false);
      // the other tenant's credential is not served under acme, nor acme's under other
      const path = new URL(olga.id).pathname;
      assert.equal((await t.call({ method: 'GET', url: path.replace('/other/', '/acme/'), auth: false })).statusCode, 404);
      assert.equal((await t.call({ method: 'GET', url: `/certifications/other/credential/${certs.ada.id}`, auth: other })).statusCode, 404);
    });

    test('key rotation: new credentials signed with the new key, old ones still verify', async () => {
      const before = await credentialOf('ada');
      const rotated = await call('POST', '/settings/acme/issuerKeys/rotate', undefined, 201);
      const keys = await call('GET', '/settings/acme/issuerKeys');
      assert.equal(keys.Count, 2);
      assert.equal(keys.Items[0].id, rotated.id);
      assert.equal(keys.Items[0].retiredAt, null);
      assert.ok(keys.Items[1].retiredAt);
      assert.equal((await verify(before, now)).verified, true, 'signed by the retired key');
      assert.equal((await serverVerify(before)).verified, true);
      await call('PATCH', '/settings/acme', [{ op: 'replace', path: '/board_name', value: 'Board of Nursing' }]);
      const after = await credentialOf('ada');
      assert.notEqual(after.id, before.id);
      assert.ok(after.proof.verificationMethod.endsWith(`#${rotated.publicKeyMultibase}`));
      assert.equal((await verify(after, now)).verified, true);
      if (mode === 'did:web') {
        const doc = await fetchJson(`${BASE}/issuers/acme/did.json`);
        assert.equal((doc as any).verificationMethod.length, 2);
      } else {
        assert.equal((await t.call({ method: 'GET', url: '/issuers/acme/did.json', auth: false })).statusCode, 404);
      }
    });

    test('as time passes: a lapse sets the suspension bit and the dates fail', async () => {
      const vc = await credentialOf('ada');
      const saved = now;
      now = new Date(`${addDays(TODAY, 131)}T09:00:00Z`);
      try {
        const own = await serverVerify(vc);
        assert.equal(own.checks.dates.ok, false);
        assert.equal(own.checks.status.suspension, true);
        assert.equal((await verify(vc, now)).verified, false);
      } finally {
        now = saved;
      }
      assert.equal((await serverVerify(vc)).verified, true);
    });

    test('the credential e-mailed to the holder, attached; as a download', async () => {
      const out = await call('POST', `/certifications/acme/credential/${certs.ada.id}/email`, {}, 202);
      assert.equal(out.to, 'ada@example.org');
      const rows = await asTenant('acme', () => outboxRowsOf(t.store.db, 'acme', `certifications/${certs.ada.id}`));
      assert.equal(rows.length, 1);
      // sent (no SMTP_URL: written as an .eml file) with the credential as an attachment
      await (t.app as any).services.mailer.sender.drain();
      const eml = fs.readFileSync(path.join(t.config.dataDir, 'mail', emlName(rows[0]!.message_id!)), 'utf8');
      assert.match(eml, /Content-Type: application\/vc\+ld\+json; name=credential-1001\.json/);
      assert.match(eml, /Content-Disposition: attachment; filename=credential-1001\.json/);
      const mail = JSON.parse(rows[0]!.message);
      assert.match(mail.subject, /Registered Nurse/);
      assert.equal(mail.attachments[0].filename, 'credential-1001.json');
      const attached = JSON.parse(mail.attachments[0].content);
      assert.equal(attached.id, out.credential_id);
      assert.equal((await verify(attached, now)).verified, true);
      const res = await t.call({ method: 'GET', url: `/certifications/acme/credential/${certs.ada.id}?download=true`, auth: t.admin });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-disposition']), /attachment; filename="credential-1001.json"/);
      await call('POST', `/certifications/acme/credential/${certs.ada.id}/email`, { email_address: 'not an address' }, 400);
      await call('POST', `/certifications/acme/credential/${certs.ada.id}/email`, { notice_id: 'nope' }, 400);
      // a notice's own e-mail, its placeholders filled, to another address
      const notice = await call(
        'POST',
        '/notices/acme',
        { name: 'Your credential', email: { subject: 'Credential {{number}} for {{name}}', body: 'Attached, {{program_name}}.' } },
        201,
      );
      const sent = await call(
        'POST',
        `/certifications/acme/credential/${certs.ada.id}/email`,
        { notice_id: notice.id, email_address: 'hr@example.org' },
        202,
      );
      assert.equal(sent.to, 'hr@example.org');
      const mails = await asTenant('acme', () => outboxRowsOf(t.store.db, 'acme', `certifications/${certs.ada.id}`));
      const last = JSON.parse(mails.find((m) => m.to_address === 'hr@example.org')!.message);
      assert.equal(last.subject, 'Credential 1001 for ADA Zoë Łukasz');
      assert.equal(last.attachments.length, 1);
    });

    test('bad input is a 4xx naming what is wrong, never a 500', async () => {
      const bad = async (method: string, url: string, payload: unknown, status: number) => {
        const res = await t.call({ method: method as any, url, payload: payload as any, auth: false });
        assert.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
      };
      await bad('GET', '/credentials/acme/status/bogus/0', undefined, 400);
      await bad('GET', '/credentials/acme/status/revocation/x', undefined, 400);
      await bad('GET', '/credentials/acme/status/revocation/1234567', undefined, 400);
      await bad('GET', '/credentials/acme/status/revocation/5', undefined, 404);
      await bad('GET', '/credentials/acme/not-a-uuid', undefined, 400);
      await bad('GET', '/credentials/acme/0190a0a0-0000-7000-8000-000000000000', undefined, 404);
      await bad('POST', '/credentials/acme/verify', [1, 2], 400);
      const junk = await serverVerify({ '@context': ['https://example.org/nope'], proof: { cryptosuite: 'eddsa-rdfc-2022' } });
      assert.equal(junk.verified, false);
      assert.equal(junk.checks.signature.ok, false);
      const noStatus = await serverVerify({
        credentialStatus: { statusListCredential: 'x', statusPurpose: 'revocation', statusListIndex: '-1' },
      });
      assert.equal(noStatus.checks.status.ok, false);
      for (const odd of [
        { credentialStatus: [null, 1] },
        { proof: [null], issuer: 7, validFrom: {} },
        { credentialStatus: 'x', proof: 'y' },
      ]) {
        const r = await serverVerify(odd);
        assert.equal(r.verified, false, JSON.stringify(odd));
      }
      // a certification that is not valid and never had a credential gets none
      const suspended = await call(
        'POST',
        '/certifications/acme',
        { number: 1009, name: 'Dee', contact_id: 'c-d', program_id: program.id, status: 'suspended', certification_date: '2025-06-01' },
        201,
      );
      await call('GET', `/certifications/acme/credential/${suspended.id}`, undefined, 409);
      await call('POST', `/certifications/acme/credential/${suspended.id}/email`, {}, 409);
    });
  });
}
