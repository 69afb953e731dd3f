import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { freshDatabase } from '../helpers.js';
import { killServer, startServer, type ServerProcess } from '../process.js';
import { SignJWT } from 'jose';
import { TEST_SECRET } from '../helpers.js';

/** The typed client's example script against a live server process (real sockets). */
test('examples/client.ts creates a programme and lists its certifications through the typed client', { timeout: 120_000 }, async () => {
  const db = await freshDatabase();
  let server: ServerProcess | undefined;
  try {
    server = await startServer({ databaseUrl: db.url });
    const token = await new SignJWT({ tenants: ['demo'], scope: 'certifications:write' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('client-test')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(TEST_SECRET));
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.resolve('examples/client.ts')], {
      env: { ...process.env, API: `http://127.0.0.1:${server.port}`, TOKEN: token, TENANT: 'demo' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, /^programme [\w-]+: Registered Nurse$/);
    assert.deepEqual(lines.slice(1), ['certificate 1001 Ada Lovelace active until 2027-06-30']);
    // a wrong token is an error the client reports (not a crash with a stack of undefined)
    const bad = spawnSync(process.execPath, ['--import', 'tsx', path.resolve('examples/client.ts')], {
      env: { ...process.env, API: `http://127.0.0.1:${server.port}`, TOKEN: 'nope', TENANT: 'demo' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /create programme: .*"statusCode":401/);
  } finally {
    await killServer(server);
    await db.drop();
  }
});
