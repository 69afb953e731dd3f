import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { BACKEND, freshDatabase } from '../helpers.js';
import { call, killServer, sleep, startServer, tokenFor, until, within, type ServerProcess } from '../process.js';

/**
 * Real processes on one database: `--role api | worker` split the work, and `--workers N` serves one
 * port from N processes (node:cluster), replacing one that dies and draining all on SIGTERM.
 */
const admin = () => tokenFor('acme', 'scale-out', 'certifications:admin');

const children = (pid: number): number[] => {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when there is none
  }
};

test(`roles: an api process runs no background work, a worker process runs it and serves no API (${BACKEND})`, {
  timeout: 180_000,
}, async () => {
  const db = await freshDatabase();
  let api: ServerProcess | undefined;
  let worker: ServerProcess | undefined;
  try {
    const env = { WORKER_POLL_MS: '100', SCHEDULER_POLL_MS: '0' };
    api = await startServer({ databaseUrl: db.url, env: { ...env, ACCREDIT_ROLE: 'api' } });
    const h = { authorization: `Bearer ${await admin()}` };
    const run = await call(api.port, 'POST', '/billingRuns/acme', { name: 'Split roles', status: 'draft' }, h);
    assert.equal(run.status, 201, JSON.stringify(run.body));
    const started = await call(api.port, 'POST', `/billingRuns/acme/refresh/${run.body.id}`, undefined, h);
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const arn = started.body.executionArn;
    await sleep(1500);
    const waiting = await call(api.port, 'GET', `/executions/acme/${arn}`, undefined, h);
    assert.equal(waiting.body.status, 'RUNNING', 'no process with background work yet: the refresh waits');

    worker = await startServer({ databaseUrl: db.url, env: { ...env, ACCREDIT_ROLE: 'worker' } });
    const refused = await call(worker.port, 'GET', '/certifications/acme', undefined, h);
    assert.equal(refused.status, 421);
    assert.match(refused.body.message, /background work only/);
    assert.equal((await call(worker.port, 'GET', '/health/live')).status, 200);
    const done = await until('the worker to run the refresh', async () => {
      const e = await call(api!.port, 'GET', `/executions/acme/${arn}`, undefined, h);
      return e.body?.status === 'RUNNING' ? undefined : e.body;
    });
    assert.equal(done.status, 'SUCCEEDED', JSON.stringify(done));
    assert.equal((await call(api.port, 'GET', `/billingRuns/acme/${run.body.id}`, undefined, h)).body.status, 'ready for execution');
  } finally {
    await killServer(api);
    await killServer(worker);
    await db.drop();
  }
});

test(`--workers 2 serves one port from two processes, replaces one that dies, loses no write and drains on SIGTERM (${BACKEND})`, {
  timeout: 240_000,
}, async () => {
  const db = await freshDatabase();
  let server: ServerProcess | undefined;
  try {
    server = await startServer({ databaseUrl: db.url, env: { WEB_CONCURRENCY: '2', SCHEDULER_POLL_MS: '0' } });
    const pid = server.pid;
    const first = await until('two workers', () => (children(pid).length === 2 ? children(pid) : undefined));
    const h = { authorization: `Bearer ${await admin()}` };
    const write = async (n: number, tag: string) => {
      const statuses: number[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: 12 }, async () => {
          while (next < n) {
            const i = next++;
            const r = await call(server!.port, 'POST', '/billingRuns/acme', { name: `${tag} ${i}`, status: 'draft' }, h);
            statuses.push(r.status);
          }
        }),
      );
      return statuses;
    };
    const a = await write(150, 'before');
    assert.deepEqual([...new Set(a)], [201], 'every write of the first round answered 201');

    process.kill(first[1]!, 'SIGKILL');
    const second = await until('a replacement worker', () => {
      const now = children(pid);
      return now.length === 2 && !now.includes(first[1]!) ? now : undefined;
    });
    assert.ok(second.includes(first[0]!), 'the other worker kept running');
    await until('the port to answer', async () => ((await call(server!.port, 'GET', '/health')).status === 200 ? true : undefined));
    const b = await write(150, 'after');
    assert.deepEqual([...new Set(b)], [201], 'every write of the second round answered 201');

    const list = await call(server.port, 'GET', '/billingRuns/acme?limit=1000', undefined, h);
    assert.equal(list.status, 200);
    const items: { name: string }[] = list.body.Items;
    assert.equal(list.body.LastEvaluatedKey, undefined);
    assert.equal(items.length, 300, 'every acknowledged write is there, once');

    server.kill('SIGTERM');
    const exit = await within(server.exited, 30_000);
    assert.deepEqual(exit, { code: 0, signal: null }, server.output().slice(-2000));
    for (const w of second) assert.throws(() => process.kill(w, 0), 'no worker is left behind');
  } finally {
    await killServer(server);
    await db.drop();
  }
});
