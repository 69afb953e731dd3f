import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { BACKEND, REPLICA_URL, startApp } from '../helpers.js';
import { sleep, until } from '../process.js';

/**
 * Reads from a real streaming replica (.ci/run makes one with pg_basebackup -R on port 5433):
 * GET, list and search go to the replica, consistentRead=true and a write's consistency token keep a
 * read off a replica that is behind (replay paused here), a replica that is down is skipped, and a
 * replica stopped while reads run costs no request (TEST_REPLICA_CLUSTER, e.g. "15 replica").
 */
const configured = BACKEND === 'postgres' && !!REPLICA_URL;
const CLUSTER = process.env.TEST_REPLICA_CLUSTER;

test(`reads go to a replica unless consistentRead or a newer consistency token says otherwise (${configured ? 'postgres + replica' : 'needs PostgreSQL and TEST_REPLICA_URL'})`, {
  timeout: 180_000,
}, async () => {
  if (!configured) {
    assert.ok(BACKEND === 'sqlite' || !REPLICA_URL);
    return;
  }
  // the second "replica" never answers: it must be skipped without an error
  const t = await startApp({ replicas: [REPLICA_URL!, 'postgres://127.0.0.1:1/none'], env: { REPLICA_MAX_LAG_MS: '600000' } });
  const admin = new pg.Client({ connectionString: REPLICA_URL });
  try {
    await admin.connect();
    // a replica the previous test restarted may still be catching up on a loaded machine
    const ready = await until(
      'the replica to be up',
      async () => {
        const r = (await t.call({ method: 'GET', url: '/health/ready', auth: false })).json();
        return r.replicas?.[0]?.up ? r : undefined;
      },
      120_000,
    );
    assert.deepEqual(
      ready.replicas.map((r: { up: boolean }) => r.up),
      [true, false],
    );

    await admin.query('select pg_wal_replay_pause()');
    const created = await t.call({
      method: 'POST',
      url: '/billingRuns/acme',
      payload: { name: 'Written while the replica waits', status: 'draft' },
    });
    assert.equal(created.statusCode, 201, created.body);
    const token = created.headers['x-consistency-token'];
    assert.match(String(token), /^[0-9A-F]+\/[0-9A-F]+$/);
    const id = created.json().id;
    await t.store.replicas!.check();

    const stale = await t.call({ method: 'GET', url: `/billingRuns/acme/${id}` });
    assert.equal(stale.statusCode, 404, 'a plain read is served by the replica, which has not replayed the write');
    const listed = await t.call({ method: 'GET', url: '/billingRuns/acme' });
    assert.equal(listed.json().Items.length, 0, 'the list too');
    assert.equal(
      (await t.call({ method: 'GET', url: `/billingRuns/acme/${id}?consistentRead=true` })).statusCode,
      200,
      'consistentRead=true reads the primary',
    );
    const own = await t.call({ method: 'GET', url: `/billingRuns/acme/${id}`, headers: { 'x-consistency-token': String(token) } });
    assert.equal(own.statusCode, 200, "the write's token skips a replica that is not that far along");
    const found = await t.call({
      method: 'POST',
      url: '/billingRuns/acme/search',
      payload: {},
      headers: { 'x-consistency-token': String(token) },
    });
    assert.equal(found.json().Items.length, 1, 'a search with the token sees the write');

    await admin.query('select pg_wal_replay_resume()');
    await until('the replica to replay the write', async () =>
      (await t.call({ method: 'GET', url: `/billingRuns/acme/${id}` })).statusCode === 200 ? true : undefined,
    );
    await t.store.replicas!.check();
    const again = await t.call({ method: 'GET', url: `/billingRuns/acme/${id}`, headers: { 'x-consistency-token': String(token) } });
    assert.equal(again.statusCode, 200);
    const served = Object.fromEntries(t.store.replicas!.served);
    assert.ok(
      Object.keys(served).some((k) => k.includes(':5433') && served[k]! >= 3),
      JSON.stringify(served),
    );
    assert.ok(!Object.keys(served).some((k) => k.includes(':1/')), 'the dead replica answered nothing');
  } finally {
    await admin.query('select pg_wal_replay_resume()').catch(() => {});
    await admin.end().catch(() => {});
    await t.close();
  }
});

test(`a replica stopped while reads run costs no request (${configured && CLUSTER ? 'postgres + replica' : 'needs TEST_REPLICA_URL and TEST_REPLICA_CLUSTER'})`, {
  timeout: 180_000,
}, async () => {
  if (!configured || !CLUSTER) {
    assert.ok(!configured || !CLUSTER);
    return;
  }
  const [version, name] = CLUSTER.split(' ');
  const t = await startApp({ replicas: [REPLICA_URL!] });
  try {
    const created = await t.call({ method: 'POST', url: '/billingRuns/acme', payload: { name: 'Read all along', status: 'draft' } });
    const id = created.json().id;
    await until('the replica to serve the record', async () => {
      await t.store.replicas!.check();
      return t.store.replicas!.states[0]!.up && (await t.call({ method: 'GET', url: `/billingRuns/acme/${id}` })).statusCode === 200
        ? true
        : undefined;
    });
    const statuses: number[] = [];
    let reading = true;
    const readers = Array.from({ length: 8 }, async () => {
      while (reading) statuses.push((await t.call({ method: 'GET', url: `/billingRuns/acme/${id}` })).statusCode);
    });
    await sleep(300);
    const before = t.store.replicas!.served.get(t.store.replicas!.states[0]!.name) ?? 0;
    execFileSync('pg_ctlcluster', [version!, name!, 'stop', '-m', 'immediate']);
    await sleep(3000);
    reading = false;
    await Promise.all(readers);
    assert.ok(before > 0, 'the replica served reads before it stopped');
    // a loaded CI machine manages a few dozen reads in that time; what matters is that none failed
    assert.ok(statuses.length > 20, `${statuses.length} reads`);
    assert.deepEqual([...new Set(statuses)], [200], 'every read answered 200');
    assert.equal(t.store.replicas!.states[0]!.up, false);
  } finally {
    await t.close();
    await restart(version!, name!);
  }
});

/**
 * Starts the stopped replica again (already running is fine) and waits until it streams from the
 * primary once more, so whatever runs next on this machine finds it as it was.
 */
async function restart(version: string, name: string) {
  try {
    execFileSync('pg_ctlcluster', [version, name, 'start'], { stdio: 'pipe' });
  } catch (e) {
    if (!/already running/.test(String((e as { stdout?: Buffer }).stdout))) throw e;
  }
  await until(
    'the replica to stream from the primary again',
    async () => {
      const c = new pg.Client({ connectionString: REPLICA_URL });
      try {
        await c.connect();
        const r = await c.query("select count(*)::int as n from pg_stat_wal_receiver where status = 'streaming'");
        return r.rows[0].n > 0 ? true : undefined;
      } catch {
        return undefined;
      } finally {
        await c.end().catch(() => {});
      }
    },
    120_000,
    500,
  );
}
