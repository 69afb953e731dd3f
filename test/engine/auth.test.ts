import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { startApp, minimalRun, TEST_SECRET, type TestApp } from '../helpers.js';

let t: TestApp;
before(async () => {
  t = await startApp();
});
after(() => t.close());

const key = new TextEncoder().encode(TEST_SECRET);
const sign = (claims: Record<string, unknown>, opts: { sub?: string; exp?: string | number; alg?: string; secret?: Uint8Array } = {}) => {
  let j = new SignJWT(claims).setProtectedHeader({ alg: opts.alg ?? 'HS256' }).setIssuedAt();
  if (opts.sub !== undefined) j = j.setSubject(opts.sub);
  j = j.setExpirationTime(opts.exp ?? '1h');
  return j.sign(opts.secret ?? key);
};

test('no token, a malformed header, a bad signature or an expired token: 401 with a JSON error', async () => {
  const cases: [string, string | false][] = [
    ['no header', false],
    ['not a JWT', 'abc.def'],
    ['wrong secret', await sign({ tenants: ['acme'] }, { sub: 'u', secret: new TextEncoder().encode('x'.repeat(40)) })],
    ['expired', await sign({ tenants: ['acme'] }, { sub: 'u', exp: Math.floor(Date.now() / 1000) - 60 })],
    ['no sub', await sign({ tenants: ['acme'] })],
    ['no tenants', await sign({}, { sub: 'u' })],
  ];
  for (const [name, auth] of cases) {
    const res = await t.call({ method: 'GET', url: '/billingRuns/acme', auth });
    assert.equal(res.statusCode, 401, name);
    assert.equal(res.json().statusCode, 401, name);
    assert.ok(res.json().message, name);
    assert.match(String(res.headers['www-authenticate']), /^Bearer/, name);
  }
  const basic = await t.app.inject({ method: 'GET', url: '/billingRuns/acme', headers: { authorization: 'Basic dXNlcjpwYXNz' } });
  assert.equal(basic.statusCode, 401);
});

test('a tenant not in the token is a 403 on every operation; "*" opens every tenant', async () => {
  const tok = await t.token({ tenants: ['other'] });
  for (const [method, url] of [
    ['GET', '/billingRuns/acme'],
    ['POST', '/billingRuns/acme'],
    ['GET', '/billingRuns/acme/x'],
    ['PUT', '/billingRuns/acme/x'],
    ['PATCH', '/billingRuns/acme/x'],
    ['DELETE', '/billingRuns/acme/x'],
    ['POST', '/billingRuns/acme/search'],
    ['POST', '/billingRuns/acme/batch'],
    ['GET', '/billingRuns/acme/recurringBillingRun/x'],
    ['POST', '/billingRuns/acme/refresh/x'],
  ] as const) {
    const res = await t.call({ method, url, auth: tok, payload: method === 'GET' || method === 'DELETE' ? undefined : {} });
    assert.equal(res.statusCode, 403, `${method} ${url}`);
  }
  const all = await t.token({ tenants: '*' });
  assert.equal((await t.call({ method: 'POST', url: '/billingRuns/anything', payload: minimalRun(), auth: all })).statusCode, 201);
});

test('the subject is recorded as sys_*_by_id', async () => {
  const tok = await t.token({ sub: 'alice' });
  const rec = (await t.call({ method: 'POST', url: '/billingRuns/acme', payload: minimalRun(), auth: tok })).json();
  assert.equal(rec.sys_created_by_id, 'alice');
  const bob = await t.token({ sub: 'bob' });
  const up = (
    await t.call({
      method: 'PATCH',
      url: `/billingRuns/acme/${rec.id}`,
      payload: [{ op: 'replace', path: '/name', value: 'b' }],
      auth: bob,
    })
  ).json();
  assert.equal(up.sys_created_by_id, 'alice');
  assert.equal(up.sys_last_modified_by_id, 'bob');
  assert.equal(up.sys_last_security_context.user_id, 'bob');
});

test('a read-only token can read and search but not write', async () => {
  const ro = await t.token({ scope: 'certifications:read' });
  assert.equal((await t.call({ method: 'GET', url: '/billingRuns/acme', auth: ro })).statusCode, 200);
  assert.equal((await t.call({ method: 'POST', url: '/billingRuns/acme/search', payload: {}, auth: ro })).statusCode, 200);
  const res = await t.call({ method: 'POST', url: '/billingRuns/acme', payload: minimalRun(), auth: ro });
  assert.equal(res.statusCode, 403);
  assert.match(res.json().message, /certifications:write/);
});
