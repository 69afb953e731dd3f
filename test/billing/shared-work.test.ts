import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSmtpCapture } from '../mail/capture.js';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createVerifier } from '../../src/http/auth.js';
import { migrate } from '../../src/store/migrate.js';
import { openStore, type Store } from '../../src/store/store.js';
import { tableSpecs } from '../../src/resources/index.js';
import { asTenant } from '../../src/store/tenant-scope.js';
import { BACKEND, freshDatabase, TEST_SECRET, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';
import { assertEndState, buildPopulation, expectedMails, type Call } from './population.js';

/**
 * Two server instances on one PostgreSQL database share the background work: runs of two tenants are
 * executed while both instances' workers and mail senders compete for them. Every action is performed
 * once (a dropped certification's history shows one drop), every e-mail is sent once.
 *
 * PostgreSQL only, by design: several processes sharing the work is a PostgreSQL deployment (README
 * "Scaling out"). SQLite serves one process; a second process on the same file contends for its single
 * write lock, and under that contention marking a message sent can time out, which re-sends it.
 */
const onPostgres = BACKEND === 'postgres';
test(`two instances on one database perform every action and send every e-mail exactly once (${onPostgres ? 'postgres' : 'runs on PostgreSQL only'})`, {
  timeout: 240_000,
}, async () => {
  if (!onPostgres) {
    assert.equal(BACKEND, 'sqlite');
    return;
  }
  const db = await freshDatabase();
  const smtp = await startSmtpCapture();
  const received = smtp.mails;
  const instances: { app: FastifyInstance; store: Store; dir: string }[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'accredit-shared-'));
      const config = loadConfig({
        DATABASE_URL: db.url,
        DATA_DIR: dir,
        JWT_SECRET: TEST_SECRET,
        LOG_LEVEL: 'silent',
        RATE_LIMIT_PER_MINUTE: '0',
        SMTP_URL: smtp.url,
        WORKER_POLL_MS: '50',
        SCHEDULER_POLL_MS: '0',
        LIFECYCLE_SWEEP_CRON: '0',
      });
      const store = await openStore(config.databaseUrl, { pgPoolMax: 6 });
      if (i === 0) await migrate(store, tableSpecs());
      const app = await buildApp({ config, store, verifier: createVerifier(config), logger: false });
      await app.ready();
      instances.push({ app, store, dir });
    }
    const verifier = createVerifier(loadConfig({ JWT_SECRET: TEST_SECRET, DATA_DIR: instances[0]!.dir }));
    const tenants = ['north', 'south'];
    const clients = await Promise.all(
      tenants.map(async (tenant, i) => {
        const token = await verifier.sign!({ sub: 'shared', tenants: [tenant], scope: 'certifications:admin' });
        const app = instances[i]!.app; // each tenant set up through a different instance
        const inject = (o: any) => app.inject({ ...o, headers: { authorization: `Bearer ${token}` } });
        const call: Call = async (method, url, body, status = 200) => {
          const res = await inject({ method, url, payload: body });
          assert.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
          return res.json();
        };
        const factory = new Factory(
          { call: (o: any) => inject({ method: o.method, url: o.url, payload: o.payload }) } as unknown as TestApp,
          token,
          tenant,
        );
        return { tenant, call, factory };
      }),
    );
    const today = new Date().toISOString().slice(0, 10);
    const populations = await Promise.all(clients.map((c) => buildPopulation(c.tenant, c.call, c.factory, today)));
    const until = async (c: (typeof clients)[number], arn: string) => {
      for (let i = 0; i < 3000; i++) {
        const e = await c.call('GET', `/executions/${c.tenant}/${arn}`);
        if (e.status !== 'RUNNING') return e;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error('execution did not end');
    };
    for (const action of ['refresh', 'execute']) {
      const handles = await Promise.all(
        clients.map((c, i) => c.call('POST', `/billingRuns/${c.tenant}/${action}/${populations[i]!.run.id}`)),
      );
      const ends = await Promise.all(clients.map((c, i) => until(c, handles[i]!.executionArn)));
      for (const e of ends) assert.equal(e.status, 'SUCCEEDED', JSON.stringify(e));
    }
    for (const [i, c] of clients.entries()) {
      await assertEndState(c.tenant, c.call, populations[i]!, 1);
      // each drop happened once: one history entry moving the certification to inactive
      const dropped = populations[i]!.certs[2]!;
      const history = await c.call('GET', `/certifications/${c.tenant}/history/${dropped.id}`);
      const drops = history.Items.filter((h: any) => h.changes?.status?.[1] === 'inactive');
      assert.equal(drops.length, 1, JSON.stringify(history.Items));
    }
    for (const { app } of instances) await app.services.mailer!.sender.drain();
    for (let i = 0; i < 100 && received.length < 2 * expectedMails(1); i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(received.length, 2 * expectedMails(1));
    assert.equal(new Set(received.map((m) => m.messageId)).size, received.length, 'no message sent twice');
    const owners = await asTenant('*', () => instances[0]!.store.db.selectFrom('outbox').select('status').execute());
    assert.ok(owners.every((o) => o.status === 'sent'));
  } finally {
    for (const { app, store, dir } of instances) {
      await app.close();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    await smtp.close();
    await db.drop();
  }
});
