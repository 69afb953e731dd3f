import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startSmtpCapture } from '../mail/capture.js';
import { BACKEND, freshDatabase, PG_URL, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';
import { call as httpCall, killServer, sleep, startServer, tokenFor, until, type ServerProcess } from '../process.js';
import { assertEndState, buildPopulation, expectedMails, type Call } from './population.js';

/**
 * Three server processes on one PostgreSQL database, all doing background work: one scheduler leader
 * at a time; a billing run's execution is claimed by one of them, which is SIGKILLed mid-way; another
 * takes the work over once the lease ends and the run ends as an uninterrupted one would, every
 * e-mail sent once. PostgreSQL only: several processes sharing work is a PostgreSQL deployment.
 */
const N = 1;
const onPostgres = BACKEND === 'postgres';
const token = () => tokenFor('acme', 'three', 'certifications:admin');

const pidOf = (owner: string) => Number(owner.split(':')[1]);

test(`three processes: one scheduler leader, an execution handed over after SIGKILL, done once (${onPostgres ? 'postgres' : 'runs on PostgreSQL only'})`, {
  timeout: 300_000,
}, async () => {
  if (!onPostgres) {
    assert.equal(BACKEND, 'sqlite');
    return;
  }
  const db = await freshDatabase();
  const smtp = await startSmtpCapture();
  const servers: ServerProcess[] = [];
  // the superuser reads the server tables across tenants (row-level security would hide them)
  const dbName = new URL(db.url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: Object.assign(new URL(PG_URL!), { pathname: `/${dbName}` }).toString() });
  try {
    const env = {
      SMTP_URL: smtp.url,
      WORKER_POLL_MS: '100',
      WORKER_LEASE_MS: '1500',
      SCHEDULER_POLL_MS: '200',
      RATE_LIMIT_PER_MINUTE: '0',
    };
    for (let i = 0; i < 3; i++) servers.push(await startServer({ databaseUrl: db.url, env }));
    await admin.connect();
    const alive = () => servers.filter((s) => s.child.exitCode === null && s.child.signalCode === null);

    // one leader, and it stays one
    const owners = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const r = await admin.query("select owner from leases where name = 'scheduler' and until > $1", [new Date().toISOString()]);
      assert.ok(r.rowCount! <= 1);
      if (r.rowCount) owners.add(r.rows[0].owner);
      await sleep(100);
    }
    assert.equal(owners.size, 1, `one scheduler leader: ${[...owners]}`);
    assert.ok(
      servers.some((s) => s.pid === pidOf([...owners][0]!)),
      'the leader is one of the three',
    );

    const auth = await token();
    const port = () => alive()[0]!.port;
    const call: Call = async (method, url, body, status = 200) => {
      const r = await httpCall(port(), method, url, body, { authorization: `Bearer ${auth}` }, 30_000);
      assert.equal(r.status, status, `${method} ${url}: ${JSON.stringify(r.body)}`);
      return r.body;
    };
    const t = {
      call: async (o: { method: string; url: string; payload?: unknown; auth?: string }) => {
        const r = await httpCall(port(), o.method, o.url, o.payload, { authorization: `Bearer ${o.auth ?? auth}` }, 30_000);
        return { statusCode: r.status, json: () => r.body, body: JSON.stringify(r.body) };
      },
    } as unknown as TestApp;
    const today = new Date().toISOString().slice(0, 10);
    const population = await buildPopulation('acme', call, new Factory(t, auth, 'acme'), today, N);
    const finished = (arn: string) =>
      until(
        arn,
        async () => {
          const e = await call('GET', `/executions/acme/${arn}`);
          return e.status === 'RUNNING' ? undefined : e;
        },
        120_000,
      );
    const refresh = await call('POST', `/billingRuns/acme/refresh/${population.run.id}`);
    assert.equal((await finished(refresh.executionArn)).status, 'SUCCEEDED');

    const exec = await call('POST', `/billingRuns/acme/execute/${population.run.id}`);
    const id = String(exec.executionArn).slice(String(exec.executionArn).lastIndexOf(':') + 1);
    const holder = await until(
      'a process to claim the execution and make progress',
      async () => {
        const r = await admin.query('select lease_owner, status from executions where id = $1', [id]);
        const e = await call('GET', `/executions/acme/${exec.executionArn}`);
        return r.rows[0]?.lease_owner && e.progress?.done >= 10
          ? { owner: r.rows[0].lease_owner as string, e }
          : e.status !== 'RUNNING'
            ? { owner: '', e }
            : undefined;
      },
      60_000,
      2,
    );
    assert.equal(holder.e.status, 'RUNNING', 'caught while executing');
    const victim = servers.find((s) => s.pid === pidOf(holder.owner))!;
    assert.ok(victim, `the execution is held by one of the three (${holder.owner})`);
    victim.kill('SIGKILL');
    await victim.exited;

    const resumed = await finished(exec.executionArn);
    assert.equal(resumed.status, 'SUCCEEDED', JSON.stringify(resumed));
    const taker = (await admin.query('select lease_owner from executions where id = $1', [id])).rows[0];
    assert.notEqual(taker?.lease_owner, holder.owner);
    await assertEndState('acme', call, population, N);
    const distinct = () => new Set(smtp.mails.map((m) => m.messageId)).size;
    await until('every e-mail', async () => (distinct() >= expectedMails(N) ? true : undefined), 90_000, 200);
    await sleep(500);
    assert.equal(distinct(), expectedMails(N), 'every e-mail delivered, each its own Message-ID');
    // Delivery is at least once (docs/mail.md): a sender SIGKILLed between the SMTP server's 250 and
    // its commit has that one message sent again by the next, with the same Message-ID.
    assert.ok(smtp.mails.length - distinct() <= 1, `${smtp.mails.length - distinct()} resent: at most one per killed sender`);
  } finally {
    for (const s of servers) await killServer(s);
    await admin.end().catch(() => {});
    await smtp.close();
    await db.drop();
  }
});
