import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSmtpCapture } from '../mail/capture.js';
import { freshDatabase, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';
import { call as httpCall, freePort, killServer, sleep, startServer, tokenFor, until, type ServerProcess } from '../process.js';
import { assertEndState, buildPopulation, expectedMails, listAll, type Call } from './population.js';

/**
 * A billing run killed mid-execution (the server is a child process, SIGKILL) resumes, in the next
 * server process, to the same end state as an uninterrupted run of the same population in another
 * tenant of the same database: no action performed twice, none lost, no e-mail sent twice.
 */
/** Population size: 2 x (120 certifications, 80 applications), about 450 actions per run. */
const N = 2;
const adminToken = (tenant: string) => tokenFor(tenant, 'crash-test', 'certifications:admin');

function client(port: () => number, token: string) {
  const call: Call = async (method, url, body, status = 200) => {
    const r = await httpCall(port(), method, url, body, { authorization: `Bearer ${token}` }, 30_000);
    assert.equal(r.status, status, `${method} ${url}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  // the factory builds bodies from the schemas and sends them through this adapter
  const t = {
    call: async (o: { method: string; url: string; payload?: unknown; auth?: string }) => {
      const r = await httpCall(port(), o.method, o.url, o.payload, { authorization: `Bearer ${o.auth ?? token}` }, 30_000);
      return { statusCode: r.status, json: () => r.body, body: JSON.stringify(r.body) };
    },
  } as unknown as TestApp;
  return { call, factory: (tenant: string) => new Factory(t, token, tenant) };
}

test('a run killed mid-execution resumes to the end state of an uninterrupted run', { timeout: 480_000 }, async () => {
  const db = await freshDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'accredit-crash-'));
  const smtp = await startSmtpCapture();
  const smtpUrl = smtp.url;
  const messageIds = smtp.mails; // one entry per message: each has a single recipient
  const deadSmtp = `smtp://127.0.0.1:${await freePort()}`; // nothing listens: sending fails and is retried later
  const env = (smtp: string) => ({
    SMTP_URL: smtp,
    WORKER_POLL_MS: '100',
    WORKER_LEASE_MS: '1500',
    SCHEDULER_POLL_MS: '0',
    RATE_LIMIT_PER_MINUTE: '0',
  });
  let server: ServerProcess | undefined;
  const port = () => server!.port;
  try {
    server = await startServer({ databaseUrl: db.url, dataDir, env: env(smtpUrl) });
    const today = new Date().toISOString().slice(0, 10);
    const tenants = { calm: client(port, await adminToken('calm')), crash: client(port, await adminToken('crash')) };
    const populations = {
      calm: await buildPopulation('calm', tenants.calm.call, tenants.calm.factory('calm'), today, N),
      crash: await buildPopulation('crash', tenants.crash.call, tenants.crash.factory('crash'), today, N),
    };
    const finished = (tenant: 'calm' | 'crash', arn: string) =>
      until(
        `${tenant} ${arn}`,
        async () => {
          const e = await tenants[tenant].call('GET', `/executions/${tenant}/${arn}`);
          return e.status === 'RUNNING' ? undefined : e;
        },
        120_000,
      );

    // the uninterrupted run
    for (const action of ['refresh', 'execute']) {
      const h = await tenants.calm.call('POST', `/billingRuns/calm/${action}/${populations.calm.run.id}`);
      assert.equal((await finished('calm', h.executionArn)).status, 'SUCCEEDED');
    }
    await assertEndState('calm', tenants.calm.call, populations.calm, N);
    await until("the calm tenant's mail", async () => (messageIds.length >= expectedMails(N) ? true : undefined), 60_000);
    // and recorded as sent: a kill between the SMTP server's accept and that commit sends the message
    // again (delivery is at least once, docs/mail.md)
    await until(
      "the calm tenant's mail recorded as sent",
      async () =>
        (await listAll(tenants.calm.call, `/billingRunActions/calm/billingRun/${populations.calm.run.id}`)).some(
          (a) => a.notice_status === 'queued',
        )
          ? undefined
          : true,
      60_000,
      200,
    );

    // the interrupted one: mail cannot leave this process (its SMTP server is down), so every message
    // of the crash tenant is sent by the process that resumes the run
    await killServer(server);
    server = await startServer({ databaseUrl: db.url, dataDir, env: env(deadSmtp) });
    const crash = tenants.crash;
    const refresh = await crash.call('POST', `/billingRuns/crash/refresh/${populations.crash.run.id}`);
    assert.equal((await finished('crash', refresh.executionArn)).status, 'SUCCEEDED');
    const exec = await crash.call('POST', `/billingRuns/crash/execute/${populations.crash.run.id}`);
    const at = await until(
      'some progress',
      async () => {
        const e = await crash.call('GET', `/executions/crash/${exec.executionArn}`);
        return e.progress.done >= 10 || e.status !== 'RUNNING' ? e : undefined;
      },
      60_000,
      2,
    );
    server.kill('SIGKILL');
    await server.exited;
    assert.equal(at.status, 'RUNNING', 'killed while executing');
    assert.ok(at.progress.done < at.progress.total, `killed part-way (${at.progress.done} of ${at.progress.total})`);

    server = await startServer({ databaseUrl: db.url, dataDir, env: env(smtpUrl) });
    const resumed = await finished('crash', exec.executionArn);
    assert.equal(resumed.status, 'SUCCEEDED', JSON.stringify(resumed));
    await assertEndState('crash', crash.call, populations.crash, N);
    await until("the crash tenant's mail", async () => (messageIds.length >= 2 * expectedMails(N) ? true : undefined), 90_000, 200);
    await sleep(500); // nothing more arrives
    assert.equal(messageIds.length, 2 * expectedMails(N));
    assert.equal(new Set(messageIds.map((m) => m.messageId)).size, messageIds.length, 'no message sent twice');
  } finally {
    await killServer(server);
    await smtp.close();
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
