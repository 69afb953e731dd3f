import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { BACKEND, freshDatabase } from '../helpers.js';
import { call, killServer, sleep, startServer, tokenFor, type ServerProcess } from '../process.js';

/**
 * A bulk load whose server is killed (SIGKILL) part-way resumes in the next server process after the
 * last row it committed: every good row written exactly once, every bad row rejected once.
 */
const N = BACKEND === 'sqlite' ? 40_000 : 10_000;

function post(port: number, url: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: url,
        agent: false,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('a load killed part-way resumes after its last committed row', { timeout: 300_000 }, async () => {
  const db = await freshDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'accredit-bulk-resume-'));
  const env = { WORKER_POLL_MS: '100', WORKER_LEASE_MS: '1500', SCHEDULER_POLL_MS: '0', RATE_LIMIT_PER_MINUTE: '0' };
  let server: ServerProcess | undefined;
  try {
    server = await startServer({ databaseUrl: db.url, dataDir, env });
    const auth = { authorization: `Bearer ${await tokenFor('acme')}` };
    const lines = ['sys_external_id,name,unit'];
    for (let i = 1; i <= N; i++) lines.push(`T${i},${i % 1000 === 0 ? '' : `Type ${i}`},hour`);
    const accepted = await post(server.port, '/bulkLoads/acme?resource=creditTypes&source_file=types.csv', lines.join('\n'), {
      ...auth,
      'content-type': 'text/csv',
    });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    const url = `/bulkLoads/acme/${accepted.body.id}`;

    let at: any;
    for (let i = 0; ; i++) {
      const r = await call(server.port, 'GET', url, undefined, auth);
      at = r.body;
      if (at.rows_read >= 1000 || (at.status !== 'queued' && at.status !== 'running')) break;
      if (i > 20_000) throw new Error('no progress');
      await sleep(2);
    }
    server.kill('SIGKILL');
    await server.exited;
    assert.equal(at.status, 'running', JSON.stringify(at));
    assert.ok(at.rows_read > 0 && at.rows_read < N, `killed part-way (${at.rows_read} of ${N})`);

    server = await startServer({ databaseUrl: db.url, dataDir, env });
    let done: any;
    for (let i = 0; ; i++) {
      done = (await call(server.port, 'GET', url, undefined, auth)).body;
      if (done.status === 'completed' || done.status === 'failed') break;
      if (i > 6000) throw new Error(`the load did not end: ${JSON.stringify(done)}`);
      await sleep(50);
    }
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.deepEqual([done.rows_read, done.rows_written, done.rows_rejected, done.rows_unchanged], [N, N - N / 1000, N / 1000, 0]);

    const records: any[] = [];
    let key: string | undefined;
    do {
      const page: any = (
        await call(server.port, 'GET', `/creditTypes/acme?limit=1000${key ? `&exclusiveStartKey=${key}` : ''}`, undefined, auth)
      ).body;
      records.push(...page.Items);
      key = page.LastEvaluatedKey;
    } while (key);
    assert.equal(records.length, N - N / 1000, 'every good row once');
    assert.equal(new Set(records.map((r) => r.sys_bulk_load_record_no)).size, records.length, 'no row written twice');
    assert.ok(
      records.every((r) => r.name === `Type ${r.sys_bulk_load_record_no}` && r.sys_external_id === `T${r.sys_bulk_load_record_no}`),
    );

    const errors: any[] = [];
    key = undefined;
    do {
      const page: any = (
        await call(server.port, 'GET', `${url}/errors?limit=1000${key ? `&exclusiveStartKey=${key}` : ''}`, undefined, auth)
      ).body;
      errors.push(...page.Items);
      key = page.LastEvaluatedKey;
    } while (key);
    assert.deepEqual(
      errors.map((e) => e.row),
      Array.from({ length: N / 1000 }, (_, i) => (i + 1) * 1000),
    );
    assert.ok(errors.every((e) => e.errors[0].field === 'name'));
    // the upload is removed once the load has ended
    assert.deepEqual(fs.readdirSync(path.join(dataDir, 'uploads')), []);
  } finally {
    await killServer(server);
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
