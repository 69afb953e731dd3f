import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, type TestApp } from '../helpers.js';

/**
 * Concurrent PATCHes of one record. On PostgreSQL a patch whose only effect is the record (no
 * reference, no field with history, not the lock, no write hooks) is written without a transaction:
 * read, then one UPDATE that only applies to the version read, retried when another write got in.
 * Whatever the path, no change may be lost, every answer must be a version that was written, and
 * the checks (If-Match, the lock, the domain rule, history) must hold as on the locked path.
 */
let t: TestApp;
let program: string;
before(async () => {
  t = await startApp();
  program = (await t.call({ method: 'POST', url: '/programs/acme', payload: { name: 'Registered Nurse' } })).json().id;
});
after(() => t.close());

const newCert = async (n: number) =>
  (
    await t.call({
      method: 'POST',
      url: '/certifications/acme',
      payload: {
        number: n,
        contact_id: `c-${n}`,
        program_id: program,
        status: 'active',
        name: `Holder ${n}`,
        expiration_date: '2027-06-30',
      },
    })
  ).json();

test('concurrent patches of different fields of one record: none is lost, each answer is its own version', async () => {
  const cert = await newCert(1);
  const fields = [
    'certificate_name',
    'first_name',
    'last_name',
    'email_address',
    'job_title',
    'city',
    'state',
    'country',
    'customer_id',
    'certification_date',
  ];
  const rounds = 3; // each field patched three times: 30 patches racing
  const answers = await Promise.all(
    Array.from({ length: fields.length * rounds }, (_, i) => {
      const f = fields[i % fields.length]!;
      return t.call({
        method: 'PATCH',
        url: `/certifications/acme/${cert.id}`,
        payload: [{ op: 'add', path: `/${f}`, value: `${f} ${Math.floor(i / fields.length)}` }],
      });
    }),
  );
  for (const a of answers) assert.equal(a.statusCode, 200, a.body);
  const versions = answers.map((a) => Number(JSON.parse(a.headers.etag as string)));
  assert.deepEqual(
    [...versions].sort((a, b) => a - b),
    Array.from({ length: 30 }, (_, i) => i + 2),
    'each answer is its own version',
  );
  const final = (await t.call({ method: 'GET', url: `/certifications/acme/${cert.id}` })).json();
  assert.equal(final.sys_version, 31);
  for (const f of fields) assert.match(String(final[f]), new RegExp(`^${f} [0-2]$`), `${f} kept`);
  // every answer shows every field written by a lower version (nothing a write read was lost)
  const byVersion = answers.map((a) => a.json()).sort((a, b) => a.sys_version - b.sys_version);
  for (let v = 1; v < byVersion.length; v++) {
    for (const f of fields)
      if (byVersion[v - 1][f] !== undefined)
        assert.notEqual(
          byVersion[v][f],
          undefined,
          `${f} of version ${byVersion[v - 1].sys_version} is in version ${byVersion[v].sys_version}`,
        );
  }
});

test('concurrent patches of the same field: every answer was a state of the record, the last one stays', async () => {
  const cert = await newCert(2);
  const answers = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      t.call({
        method: 'PATCH',
        url: `/certifications/acme/${cert.id}`,
        payload: [{ op: 'add', path: '/certificate_name', value: `v${i}` }],
      }),
    ),
  );
  assert.ok(answers.every((a) => a.statusCode === 200));
  const byVersion = new Map(answers.map((a) => [a.json().sys_version, a.json().certificate_name]));
  assert.equal(byVersion.size, 20, 'twenty distinct versions');
  const final = (await t.call({ method: 'GET', url: `/certifications/acme/${cert.id}` })).json();
  assert.equal(final.sys_version, 21);
  assert.equal(final.certificate_name, byVersion.get(21));
});

test('If-Match and the lock hold on that path too', async () => {
  const cert = await newCert(3);
  const stale = await t.call({
    method: 'PATCH',
    url: `/certifications/acme/${cert.id}`,
    headers: { 'if-match': '"7"' },
    payload: [{ op: 'add', path: '/certificate_name', value: 'x' }],
  });
  assert.equal(stale.statusCode, 412);
  const ok = await t.call({
    method: 'PATCH',
    url: `/certifications/acme/${cert.id}`,
    headers: { 'if-match': '"1"' },
    payload: [{ op: 'add', path: '/certificate_name', value: 'y' }],
  });
  assert.equal(ok.statusCode, 200);
  assert.equal(
    (
      await t.call({
        method: 'PATCH',
        url: `/certifications/acme/${cert.id}`,
        headers: { 'if-match': '"1"' },
        payload: [{ op: 'replace', path: '/certificate_name', value: 'z' }],
      })
    ).statusCode,
    412,
    'the version read before is stale now',
  );
  assert.equal(
    (
      await t.call({
        method: 'PATCH',
        url: `/certifications/acme/${cert.id}`,
        payload: [{ op: 'replace', path: '/sys_locked', value: true }],
        auth: t.admin,
      })
    ).statusCode,
    200,
  );
  const locked = await t.call({
    method: 'PATCH',
    url: `/certifications/acme/${cert.id}`,
    payload: [{ op: 'replace', path: '/certificate_name', value: 'w' }],
  });
  assert.equal(locked.statusCode, 423);
  assert.equal((await t.call({ method: 'GET', url: `/certifications/acme/${cert.id}` })).json().certificate_name, 'y');
});

test('a patch of a field with history or of a reference still records its history and references', async () => {
  const cert = await newCert(4);
  const other = (await t.call({ method: 'POST', url: '/programs/acme', payload: { name: 'Critical Care' } })).json().id;
  const res = await t.call({
    method: 'PATCH',
    url: `/certifications/acme/${cert.id}`,
    payload: [
      { op: 'replace', path: '/program_id', value: other },
      { op: 'add', path: '/certificate_name', value: 'moved' },
    ],
  });
  assert.equal(res.statusCode, 200, res.body);
  const history = (await t.call({ method: 'GET', url: `/certifications/acme/history/${cert.id}` })).json().Items;
  assert.deepEqual(history[0].changes.program_id, [program, other]);
  assert.equal((await t.call({ method: 'DELETE', url: `/programs/acme/${other}` })).statusCode, 409, 'the new reference is indexed');
  const gone = await t.call({
    method: 'PATCH',
    url: `/certifications/acme/${cert.id}`,
    payload: [{ op: 'replace', path: '/program_id', value: 'no-such-program' }],
  });
  assert.equal(gone.statusCode, 422);
});
