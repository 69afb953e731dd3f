import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jwtVerify } from 'jose';
import { freshDatabase } from '../helpers.js';
import { startServer } from '../process.js';

const MAIN = path.resolve('src/main.ts');
const run = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });

test('a bad setting stops start-up with a message that names it (exit 2)', () => {
  for (const [env, name] of [
    [{ PORT: 'abc' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ BODY_LIMIT: 'lots' }, 'BODY_LIMIT'],
  ] as [Record<string, string>, string][]) {
    const r = run(['serve'], env);
    assert.equal(r.status, 2, `${name}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`Invalid setting ${name}`));
  }
});

test("token: signs with the server's secret (JWT_SECRET or DATA_DIR's), never a new one; scopes are checked; --help and unknown commands", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'accredit-cli-'));
  try {
    // no JWT_SECRET and no secret in DATA_DIR: it says so and creates nothing, wherever it runs
    const cwd = path.join(dir, 'elsewhere');
    fs.mkdirSync(cwd);
    const none = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), MAIN, 'token', '--tenant', 'acme'], {
      cwd,
      env: { ...process.env, JWT_SECRET: '', DATA_DIR: '', JWT_JWKS_URL: '' },
      encoding: 'utf8',
    });
    assert.equal(none.status, 2, none.stderr);
    assert.match(none.stderr, /JWT_SECRET/);
    assert.ok(none.stderr.includes(path.join(cwd, 'data', 'jwt-secret')), none.stderr);
    assert.equal(none.stdout, '');
    assert.ok(!fs.existsSync(path.join(cwd, 'data')), 'no ./data folder is created');

    // the secret serve created in DATA_DIR: the token verifies with it
    const secret = 'a-secret-that-serve-created-0123456789abcdef';
    fs.writeFileSync(path.join(dir, 'jwt-secret'), `${secret}\n`);
    const r = run(['token', '--tenant', 'acme', '--sub', 'me', '--scope', 'certifications:read'], { DATA_DIR: dir, JWT_SECRET: '' });
    assert.equal(r.status, 0, r.stderr);
    const { payload } = await jwtVerify(r.stdout.trim(), new TextEncoder().encode(secret));
    assert.deepEqual(payload.tenants, ['acme']);
    assert.equal(payload.sub, 'me');
    assert.equal(payload.scope, 'certifications:read');

    // an unknown scope: exit 2 naming the valid ones, no token
    const bogus = run(['token', '--scope', 'bogus'], { DATA_DIR: dir, JWT_SECRET: '' });
    assert.equal(bogus.status, 2, bogus.stderr);
    assert.match(bogus.stderr, /certifications:read, certifications:write, certifications:admin/);
    assert.equal(bogus.stdout, '');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(run(['--help'], {}).status, 0);
  assert.equal(run(['frobnicate'], {}).status, 2);
});

test('serve: migrates, logs a ready token, answers /health, drains on SIGTERM and exits 0', async () => {
  const db = await freshDatabase();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'accredit-serve-'));
  // no JWT_SECRET: the server makes one and logs a token once it is ready
  const server = await startServer({ databaseUrl: db.url, dataDir: dir, logLevel: 'info', env: { JWT_SECRET: '' } });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const token = /"token":"([^"]+)"/.exec(server.output())?.[1];
    assert.ok(token, `a ready token is logged: ${server.output().slice(0, 2000)}`);
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const created = await fetch(`${base}/billingRuns/demo`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'r', status: 'draft' }),
    });
    assert.equal(created.status, 201);
    // In-flight requests finish after SIGTERM.
    const inflight = Array.from({ length: 20 }, () => fetch(`${base}/billingRuns/demo`, { headers: auth }).then((r) => r.status));
    server.kill('SIGTERM');
    const statuses = await Promise.all(inflight.map((p) => p.catch(() => 0)));
    assert.ok(
      statuses.every((s) => s === 200 || s === 0),
      `no 5xx while draining: ${statuses}`,
    );
    assert.equal((await server.exited).code, 0);
    assert.ok(!/Bearer ey/.test(server.output()), 'the Authorization header is never logged');
  } finally {
    server.kill('SIGKILL');
    await db.drop();
  }
});
