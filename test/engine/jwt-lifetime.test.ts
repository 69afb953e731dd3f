import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { SignJWT, decodeJwt } from 'jose';
import { startApp, TEST_SECRET, type TestApp } from '../helpers.js';
import { ConfigError, loadConfig } from '../../src/config.js';

/**
 * A token's life is bounded: without `exp` it is refused (unless JWT_ALLOW_NO_EXP=true), and
 * JWT_MAX_AGE (24h by default) caps it counted from `iat`; a token without `iat` may not expire
 * further than the cap from now. `accredit token --expires` stays within the cap.
 */
let strict: TestApp;
let short: TestApp;
let lax: TestApp;
before(async () => {
  strict = await startApp();
  short = await startApp({ env: { JWT_MAX_AGE: '1h', JWT_ALLOW_NO_EXP: 'true' } });
  lax = await startApp({ env: { JWT_ALLOW_NO_EXP: 'true', JWT_MAX_AGE: '0' } });
});
after(async () => {
  await strict?.close();
  await short?.close();
  await lax?.close();
});

const key = new TextEncoder().encode(TEST_SECRET);
const now = () => Math.floor(Date.now() / 1000);
function token(o: { iat?: number; exp?: number }) {
  let j = new SignJWT({ tenants: ['acme'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('u');
  if (o.iat !== undefined) j = j.setIssuedAt(o.iat);
  if (o.exp !== undefined) j = j.setExpirationTime(o.exp);
  return j.sign(key);
}
async function status(t: TestApp, auth: string) {
  const res = await t.call({ method: 'GET', url: '/billingRuns/acme', auth });
  return { code: res.statusCode, message: res.json().message as string | undefined };
}

test('a token without exp: 401 saying why, unless JWT_ALLOW_NO_EXP=true', async () => {
  const noExp = await token({ iat: now() });
  const refused = await status(strict, noExp);
  assert.equal(refused.code, 401);
  assert.match(refused.message!, /no expiry \(exp\).*JWT_ALLOW_NO_EXP=true/);
  assert.equal((await status(lax, noExp)).code, 200);
  assert.equal((await status(lax, await token({}))).code, 200, 'neither exp nor iat: accepted when allowed');
});

test('JWT_MAX_AGE caps a token counted from iat; without iat, exp may be at most the cap from now', async () => {
  const cases: [string, { iat?: number; exp?: number }, number, RegExp?][] = [
    ['iat now, exp in 1h', { iat: now(), exp: now() + 3600 }, 200],
    ['iat now, exp in exactly 24h', { iat: now(), exp: now() + 86_400 }, 200],
    ['iat now, exp in 48h', { iat: now(), exp: now() + 2 * 86_400 }, 401, /longer \(exp - iat\).*JWT_MAX_AGE 24h/],
    ['issued 25h ago, exp in 1h', { iat: now() - 25 * 3600, exp: now() + 3600 }, 401, /longer \(exp - iat\)/],
    ['no iat, exp in 1h', { exp: now() + 3600 }, 200],
    ['no iat, exp in 48h', { exp: now() + 2 * 86_400 }, 401, /no issue time \(iat\).*24h/],
  ];
  for (const [name, claims, code, why] of cases) {
    const s = await status(strict, await token(claims));
    assert.equal(s.code, code, `${name}: ${s.message}`);
    if (why) assert.match(s.message!, why, name);
  }
  // issued 2h ago with a life of 3h: within 24h, beyond a 1h cap
  const old = await token({ iat: now() - 7200, exp: now() + 3600 });
  assert.equal((await status(strict, old)).code, 200);
  const s = await status(short, old);
  assert.equal(s.code, 401);
  assert.match(s.message!, /JWT_MAX_AGE 1h/);
  // without exp (allowed there), the cap still counts from iat
  const noExp = await status(short, await token({ iat: now() - 7200 }));
  assert.equal(noExp.code, 401);
  assert.match(noExp.message!, /issued more than 1h ago \(JWT_MAX_AGE\)/);
  assert.equal((await status(short, await token({ iat: now() - 60 }))).code, 200);
  // the server's own tokens fit its cap
  assert.equal((await status(short, await short.token())).code, 200);
  const own = decodeJwt(await short.token());
  assert.equal(own.exp! - own.iat!, 3600);
  // JWT_MAX_AGE=0: no cap
  assert.equal((await status(lax, await token({ iat: now() - 400 * 86_400, exp: now() + 400 * 86_400 }))).code, 200);
});

test('the settings are checked: a bad JWT_MAX_AGE or JWT_ALLOW_NO_EXP stops start-up naming it', () => {
  for (const [name, value] of [
    ['JWT_MAX_AGE', 'forever'],
    ['JWT_MAX_AGE', '-1h'],
    ['JWT_ALLOW_NO_EXP', 'maybe'],
  ]) {
    assert.throws(
      () => loadConfig({ [name!]: value }),
      (e: unknown) => e instanceof ConfigError && e.variable === name,
      `${name}=${value}`,
    );
  }
  assert.equal(loadConfig({}).jwt.maxAgeS, 86_400);
  assert.equal(loadConfig({ JWT_MAX_AGE: '90m' }).jwt.maxAgeS, 5400);
  assert.equal(loadConfig({ JWT_MAX_AGE: '7 days' }).jwt.maxAgeS, 7 * 86_400);
  assert.equal(loadConfig({}).jwt.allowNoExp, false);
});

test('accredit token --expires stays within JWT_MAX_AGE', () => {
  const MAIN = path.resolve('src/main.ts');
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'token', '--tenant', 'acme', ...args], {
      env: { ...process.env, JWT_SECRET: TEST_SECRET, JWT_MAX_AGE: '', ...env },
      encoding: 'utf8',
    });
  const beyond = run(['--expires', '30d']);
  assert.equal(beyond.status, 2, beyond.stderr);
  assert.match(beyond.stderr, /--expires 30d is longer than the server accepts \(JWT_MAX_AGE 24h\)/);
  assert.equal(beyond.stdout, '');
  const hour = run(['--expires', '1h']);
  assert.equal(hour.status, 0, hour.stderr);
  const p = decodeJwt(hour.stdout.trim());
  assert.equal(p.exp! - p.iat!, 3600);
  const capped = run([], { JWT_MAX_AGE: '2h' });
  assert.equal(capped.status, 0, capped.stderr);
  const c = decodeJwt(capped.stdout.trim());
  assert.equal(c.exp! - c.iat!, 7200, 'without --expires: 24h, or the cap when shorter');
  assert.equal(run(['--expires', 'soon']).status, 2);
});
