import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

test('token prints a JWT for the tenant; --help and unknown commands', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'accredit-cli-'));
  const r = run(['token', '--tenant', 'acme', '--sub', 'me'], { DATA_DIR: dir, JWT_SECRET: '' });
  assert.equal(r.status, 0, r.stderr);
  const payload = JSON.parse(Buffer.from(r.stdout.trim().split('.')[1]!, 'base64url').toString());
  assert.deepEqual(payload.tenants, ['acme']);
  assert.equal(payload.sub, 'me');
  assert.ok(fs.existsSync(path.join(dir, 'jwt-secret')), 'the secret is created in the data folder');
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
    const created = await fetch(`${base}/billingRuns/demo`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'r', status: 'draft' }) });
    assert.equal(created.status, 201);
    // In-flight requests finish after SIGTERM.
    const inflight = Array.from({ length: 20 }, () => fetch(`${base}/billingRuns/demo`, { headers: auth }).then((r) => r.status));
    server.kill('SIGTERM');
    const statuses = await Promise.all(inflight.map((p) => p.catch(() => 0)));
    assert.ok(statuses.every((s) => s === 200 || s === 0), `no 5xx while draining: ${statuses}`);
    assert.equal((await server.exited).code, 0);
    assert.ok(!/Bearer ey/.test(server.output()), 'the Authorization header is never logged');
  } finally {
    server.kill('SIGKILL');
    await db.drop();
  }
});
