import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { BACKEND, startApp, TEST_SECRET, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';
import type { Clock } from '../../src/core/clock.js';
import { buildApp } from '../../src/app.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createVerifier } from '../../src/http/auth.js';
import { openStore, type Store } from '../../src/store/store.js';
import { asTenant } from '../../src/store/tenant-scope.js';
import { outboxFor } from '../../src/mail/index.js';
import type { JobContext } from '../../src/jobs/executions.js';
import type { SweepOutput } from '../../src/jobs/sweep.js';

/**
 * Time moves the lifecycle with nothing to set up: the clock passes a grace period end and the
 * lifecycle sweep makes the certification inactive (programme's lapse reason, history via lifecycle,
 * the expiration notice once); open applications past their expiry expire with their credits given
 * back. At every instant, before and after the sweep, the record's standing, /public/verify, the
 * directory search and /statistics agree. A change is made once, whatever runs the sweep twice.
 */
let t: TestApp;
let f: Factory;
let now = new Date('2026-03-01T10:30:00Z');
const clock: Clock = { now: () => now };
const setDay = (d: string, time = '10:30:00') => (now = new Date(`${d}T${time}Z`));
const today = () => now.toISOString().slice(0, 10);

type R = Record<string, any>;
const call = async (method: string, url: string, payload?: unknown, status = 200): Promise<R> => {
  const res = await t.call({ method: method as any, url, payload: payload as any, auth: t.admin });
  assert.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
  return res.json();
};
const pub = (url: string) => t.call({ method: 'GET', url, auth: false });

let ruleSet: R, progA: R, progB: R, lapsedReason: R, expiredReason: R, notice: R, offNotice: R, directory: R, activeDirectory: R;
const certs: Record<string, R> = {};
let number = 100;

const cert = async (key: string, program: R, over: R) => {
  certs[key] = await call(
    'POST',
    '/certifications/acme',
    {
      number: number++,
      contact_id: `contact-${key}`,
      program_id: program.id,
      status: 'active',
      name: `Holder ${key}`,
      email_address: `${key}@example.org`,
      ...over,
    },
    201,
  );
  return certs[key]!;
};
const term = (exp: string, grace: string, reinstatement?: string) => ({
  expiration_date: exp,
  grace_period_end_date: grace,
  ...(reinstatement ? { reinstatement_end_date: reinstatement } : {}),
});

const METRICS_TOKEN = 'metrics-token-0123456789';
before(async () => {
  t = await startApp({
    clock,
    env: { LIFECYCLE_SWEEP_CRON: '0 * * * *', WORKER_POLL_MS: '50', PUBLIC_RATE_LIMIT_PER_MINUTE: '0', METRICS_TOKEN },
  });
  f = new Factory(t, t.admin);
  ruleSet = await f.oneYearRuleSet({ reinstatement: true });
  await call('POST', '/statusReasons/acme', { name: 'Non-payment', status: 'inactive' }, 201);
  lapsedReason = await call('POST', '/statusReasons/acme', { name: 'Lapsed', status: 'inactive' }, 201);
  expiredReason = await call('POST', '/statusReasons/acme', { name: 'Licence not renewed', status: 'inactive' }, 201);
  notice = await call(
    'POST',
    '/notices/acme',
    {
      name: 'Licence lapsed',
      email: {
        subject: 'Your licence {{number}} has lapsed',
        body: '<p>Dear {{name}}, licence {{number}} of {{program_name}} lapsed.</p>',
      },
    },
    201,
  );
  offNotice = await call(
    'POST',
    '/notices/acme',
    { name: 'Old lapse letter', is_active: false, email: { subject: 'Lapsed', body: '<p>Lapsed</p>' } },
    201,
  );
  progA = await call(
    'POST',
    '/programs/acme',
    { name: 'Registered Nurse', expiration_rule_set_id: ruleSet.id, lapse_status_reason_id: expiredReason.id, lapse_notice_id: notice.id },
    201,
  );
  progB = await call(
    'POST',
    '/programs/acme',
    { name: 'Practical Nurse', expiration_rule_set_id: ruleSet.id, lapse_notice_id: offNotice.id },
    201,
  );

  // every standing, and every boundary of the days to come (today is 2026-03-01)
  await cert('current', progA, term('2026-06-30', '2026-07-30', '2026-10-28'));
  await cert('grace', progA, term('2026-02-20', '2026-03-22', '2026-06-20'));
  await cert('reinstatable', progA, term('2026-01-10', '2026-02-09', '2026-05-10'));
  await cert('lapsed', progA, term('2025-10-01', '2025-10-31', '2026-01-29'));
  await cert('noAddress', progA, { ...term('2026-01-10', '2026-02-09', '2026-05-10'), email_address: undefined });
  await cert('noGrace', progB, { expiration_date: '2026-03-01' });
  await cert('inactive', progB, { ...term('2026-06-30', '2026-07-30'), status: 'inactive' });
  await cert('suspended', progB, { ...term('2026-06-30', '2026-07-30'), status: 'suspended' });
  await cert('forever', progB, {});

  directory = await call(
    'POST',
    '/directories/acme',
    {
      name: 'Every licence',
      is_public: true,
      display_mode: 'list',
      searchable_fields: [{ name: 'standing' }, { name: 'status' }, { name: 'number' }],
      certification_statuses: ['active', 'inactive', 'suspended', 'retired'],
    },
    201,
  );
  activeDirectory = await call(
    'POST',
    '/directories/acme',
    { name: 'Find a nurse', is_public: true, display_mode: 'list', searchable_fields: [{ name: 'number' }] },
    201,
  );
});
after(() => t?.close());

/** All pages of a public directory search. */
async function entries(d: R, query = ''): Promise<R[]> {
  const out: R[] = [];
  let key: string | undefined;
  do {
    const res = await pub(
      `/public/directories/acme/${d.id}/search?limit=100${query}${key ? `&exclusiveStartKey=${encodeURIComponent(key)}` : ''}`,
    );
    assert.equal(res.statusCode, 200, res.body);
    out.push(...res.json().Items);
    key = res.json().LastEvaluatedKey;
  } while (key);
  return out;
}

/**
 * The four readers agree today: each record's standing = verify's standing and validity = the
 * directory entry's standing and status; the directory of active licences lists the valid ones; the
 * statistics count each programme's records by the same standing. Answers the records by key.
 */
async function assertAgree(label: string): Promise<Record<string, R>> {
  const records: Record<string, R> = {};
  for (const [key, c] of Object.entries(certs)) records[key] = await call('GET', `/certifications/acme/${c.id}`);
  const listed = new Map((await entries(directory)).map((e) => [e.number, e]));
  const valid = new Set((await entries(activeDirectory)).map((e) => e.number));
  const stats = await call('GET', '/statistics/acme/programs');
  const expectedCounts = new Map<string, R>();
  for (const [key, rec] of Object.entries(records)) {
    const at = `${label} ${today()} ${key}`;
    const v = await pub(`/public/verify/acme/${rec.program_id}/${rec.number}`);
    assert.equal(v.statusCode, 200, v.body);
    const verdict = v.json();
    const isValid = rec.standing === 'current' || rec.standing === 'in_grace';
    const todayStatus = rec.status === 'active' && rec.standing && !isValid ? 'inactive' : rec.status;
    assert.equal(verdict.standing, rec.standing, `${at}: verify's standing`);
    assert.equal(verdict.valid, isValid, `${at}: verify's validity`);
    assert.equal(verdict.in_grace_period, rec.standing === 'in_grace', `${at}: verify's grace`);
    assert.equal(verdict.status, todayStatus, `${at}: verify's status`);
    const entry = listed.get(rec.number);
    assert.ok(entry, `${at}: in the directory of every status`);
    assert.equal(entry.standing, rec.standing, `${at}: the directory's standing`);
    assert.equal(entry.status, todayStatus, `${at}: the directory's status`);
    assert.equal(valid.has(rec.number), todayStatus === 'active', `${at}: listed as active iff valid today`);
    const counts = (expectedCounts.get(rec.program_id) ??
      expectedCounts.set(rec.program_id, { current: 0, in_grace: 0, lapsed_reinstatable: 0, lapsed: 0, total: 0 }).get(rec.program_id))!;
    if (rec.standing) {
      counts[rec.standing]++;
      counts.total++;
    }
  }
  for (const [programId, counts] of expectedCounts) {
    const p = stats.programs.find((x: R) => x.program_id === programId);
    assert.deepEqual(p.standing, counts, `${label} ${today()}: statistics of programme ${programId}`);
  }
  // the search by standing finds the same records
  const inGrace = Object.values(records)
    .filter((r) => r.standing === 'in_grace')
    .map((r) => r.number)
    .sort();
  assert.deepEqual(
    (await entries(directory, '&standing=in_grace')).map((e) => e.number).sort(),
    inGrace,
    `${label} ${today()}: search standing=in_grace`,
  );
  return records;
}

describe('standing: one definition, four readers', () => {
  test('today: every standing as the domain defines it', async () => {
    const r = await assertAgree('before any sweep');
    assert.deepEqual(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.standing ?? null])), {
      current: 'current',
      grace: 'in_grace',
      reinstatable: 'lapsed_reinstatable',
      lapsed: 'lapsed',
      noAddress: 'lapsed_reinstatable',
      noGrace: 'current',
      inactive: 'lapsed_reinstatable',
      suspended: null,
      forever: 'current',
    });
    assert.equal(r.lapsed!.status, 'active', 'stored status untouched until the sweep runs');
    const stats = await call('GET', '/statistics/acme/programs');
    assert.deepEqual(stats.standing, { total: 8, current: 3, in_grace: 1, lapsed_reinstatable: 3, lapsed: 1 });
  });

  test('the days move them: the four readers agree on every boundary day, without any sweep', async () => {
    for (const d of [
      '2026-03-02',
      '2026-03-22',
      '2026-03-23',
      '2026-05-10',
      '2026-05-11',
      '2026-06-30',
      '2026-07-01',
      '2026-07-30',
      '2026-07-31',
    ]) {
      setDay(d);
      await assertAgree('no sweep');
    }
    assert.equal((await call('GET', `/certifications/acme/${certs.current!.id}`)).standing, 'lapsed_reinstatable');
    setDay('2026-03-01');
  });

  test('standing is read-only: a record read and sent back is accepted, the field is never stored', async () => {
    const rec = await call('GET', `/certifications/acme/${certs.forever!.id}`);
    const { id: _id, ...body } = Object.fromEntries(Object.entries(rec).filter(([k]) => !k.startsWith('sys_')));
    const put = await call('PUT', `/certifications/acme/${rec.id}`, { ...body, standing: 'lapsed' });
    assert.equal(put.standing, 'current');
    const found = await call('POST', '/certifications/acme/search?fieldsToReturn=number,standing', { ids: [rec.id] });
    assert.deepEqual(found.Items, [{ id: rec.id, number: rec.number, standing: 'current' }]);
    const stored = await asTenant('acme', () => t.app.services.resource('certifications').table.get(t.store.db, 'acme', rec.id));
    assert.equal(stored!.standing, undefined, 'not stored');
    assert.equal(stored!.sys_version, 1, 'sending it back changes nothing');
  });
});

const sweepOf = (app: FastifyInstance) => app.services.sweep!;
/** Runs the sweep's execution handler for `acme` directly (as a worker would), optionally stopping after `units` records. */
function runSweep(app: FastifyInstance, stopAfter = Infinity): Promise<SweepOutput> {
  let reads = 0;
  const job: JobContext = {
    ctx: {
      tenantId: 'acme',
      actor: { sub: 'test', tenants: ['acme'], scopes: new Set(['certifications:admin', 'certifications:write', 'certifications:read']) },
      requestId: 'test',
    },
    executionId: crypto.randomUUID(),
    recordId: 'sweep',
    params: {},
    progress: async () => {},
    get stopping() {
      return reads++ >= stopAfter;
    },
  };
  return asTenant('acme', () => sweepOf(app).run(job));
}
const history = async (id: string) => (await call('GET', `/certifications/acme/history/${id}?limit=100`)).Items as R[];
const lifecycleEntries = async (id: string) => (await history(id)).filter((h) => h.via === 'lifecycle');
const outbox = (id: string) => asTenant('acme', () => outboxFor(t.store.db, 'acme', `certifications/${id}`));

describe('the lifecycle sweep', () => {
  let creditType: R, credit: R, app: R, freshApp: R;

  test('an open application with credits, due to expire later', async () => {
    creditType = await f.create('creditTypes');
    const proc = await f.create('applicationProcesses', {
      name: 'Initial',
      type: 'certification',
      program_id: progA.id,
      credit_requirements: [{ credit_type_id: creditType.id, quantity: 5 }],
    });
    credit = await f.create('credits', {
      contact_id: 'applicant',
      type_id: creditType.id,
      quantity: 8,
      status: 'verified',
      date: '2026-02-01',
    });
    app = await call(
      'POST',
      `/applications/acme/generateApplication/${proc.id}/contact/applicant`,
      { name: 'Applicant', expiration_date: '2026-03-10' },
      201,
    );
    assert.equal((await call('POST', `/applications/acme/submit/${app.id}`)).status, 'pending approval');
    assert.equal((await call('GET', `/credits/acme/${credit.id}`)).quantity_used, 5);
    freshApp = await call(
      'POST',
      `/applications/acme/generateApplication/${proc.id}/contact/other`,
      { name: 'Other', expiration_date: '2026-12-31' },
      201,
    );
  });

  test('nothing happens before the next occurrence of LIFECYCLE_SWEEP_CRON', async () => {
    setDay('2026-03-01', '10:45:00');
    await sweepOf(t.app).check();
    await t.app.services.executions.idle();
    assert.equal((await call('GET', '/certifications/acme/lifecycleSweeps')).Count, 0);
    assert.equal((await call('GET', `/certifications/acme/${certs.lapsed!.id}`)).status, 'active');
  });

  test('at the occurrence: one execution lapses what is past grace and expires what is past its date, in one transaction each', async () => {
    setDay('2026-03-11', '11:00:02'); // the application expired yesterday; the grace of `grace` still runs
    await sweepOf(t.app).check();
    await t.app.services.executions.idle();
    const sweeps = await call('GET', '/certifications/acme/lifecycleSweeps');
    assert.equal(sweeps.Count, 1, JSON.stringify(sweeps));
    const run = sweeps.Items[0];
    assert.equal(run.status, 'SUCCEEDED', JSON.stringify(run));
    const execution = await call('GET', `/executions/acme/${encodeURIComponent(run.executionArn)}`);
    assert.equal(execution.status, 'SUCCEEDED');
    assert.equal(execution.resource, 'lifecycle');
    assert.deepEqual(execution.progress, { done: 5, total: 5 });
    assert.equal(run.output.lapsed, 4, 'reinstatable, lapsed, noAddress, noGrace');
    assert.equal(run.output.expired, 1);
    assert.equal(run.output.notices_queued, 2);
    assert.deepEqual(run.output.notices_not_sent.map((n: R) => n.certification_id).sort(), [certs.noAddress!.id, certs.noGrace!.id].sort());
    assert.match(run.output.notices_not_sent.find((n: R) => n.certification_id === certs.noGrace!.id).reason, /switched off/);
    assert.match(run.output.notices_not_sent.find((n: R) => n.certification_id === certs.noAddress!.id).reason, /no address/);
    assert.deepEqual(run.output.errors, []);
    assert.equal(run.output.notices_not_sent_count, 2);
    assert.equal(run.output.error_count, 0);

    for (const key of ['reinstatable', 'lapsed', 'noAddress']) {
      const rec = await call('GET', `/certifications/acme/${certs[key]!.id}`);
      assert.equal(rec.status, 'inactive', key);
      assert.equal(rec.status_reason_id, expiredReason.id, `${key}: the programme's lapse reason`);
      const entries = await lifecycleEntries(rec.id);
      assert.equal(entries.length, 1, key);
      assert.deepEqual(entries[0].changes.status, ['active', 'inactive']);
      assert.equal(entries[0].by_id, 'lifecycle sweep');
    }
    const b = await call('GET', `/certifications/acme/${certs.noGrace!.id}`);
    assert.equal(b.status, 'inactive');
    assert.equal(b.status_reason_id, lapsedReason.id, 'no programme reason: the tenant\'s "Lapsed"');
    assert.equal(b.lapse_notice_sent_date, undefined, 'a switched-off notice is not sent');
    for (const key of ['current', 'grace', 'forever', 'inactive', 'suspended']) {
      assert.equal((await lifecycleEntries(certs[key]!.id)).length, 0, `${key} untouched`);
    }

    // the expiration notice: once, to the holder, recorded on the certification
    const lapsed = await call('GET', `/certifications/acme/${certs.lapsed!.id}`);
    assert.equal(lapsed.lapse_notice_sent_date, '2026-03-11');
    const mails = await outbox(lapsed.id);
    assert.equal(mails.length, 1);
    assert.equal(mails[0]!.to_address, 'lapsed@example.org');
    assert.match(JSON.parse(mails[0]!.message).subject, new RegExp(`licence ${lapsed.number} has lapsed`));
    assert.equal((await outbox(certs.noAddress!.id)).length, 0);

    // the application: expired, its credits given back; the other one untouched
    assert.equal((await call('GET', `/applications/acme/${app.id}`)).status, 'expired');
    const c = await call('GET', `/credits/acme/${credit.id}`);
    assert.equal(c.quantity_used, 0);
    assert.equal(c.quantity_available, 8);
    assert.equal((await call('GET', `/applications/acme/${freshApp.id}`)).status, 'draft');

    await assertAgree('after the sweep');
  });

  test('/metrics reports what the sweeps of the last 24 hours did, from the executions', async () => {
    const text = (await t.call({ method: 'GET', url: '/metrics', auth: METRICS_TOKEN })).body;
    const value = (series: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    assert.equal(value('accredit_lifecycle_sweeps_24h{status="SUCCEEDED"}'), 1);
    assert.equal(value('accredit_lifecycle_sweeps_24h{status="FAILED"}'), 0);
    assert.equal(value('accredit_lifecycle_sweep_changes_24h{result="lapsed"}'), 4);
    assert.equal(value('accredit_lifecycle_sweep_changes_24h{result="expired"}'), 1);
    assert.equal(value('accredit_lifecycle_sweep_changes_24h{result="notices_queued"}'), 2);
    assert.equal(value('accredit_lifecycle_sweep_changes_24h{result="notices_not_sent"}'), 2);
    assert.equal(value('accredit_lifecycle_sweep_changes_24h{result="errors"}'), 0);
    assert.equal(value('accredit_lifecycle_sweep_last_end_seconds'), Date.parse('2026-03-11T11:00:02Z') / 1000);
  });

  test('the same occurrence again, or a sweep with nothing due, changes nothing and sends nothing', async () => {
    assert.deepEqual(await sweepOf(t.app).round(new Date('2026-03-11T11:00:00Z')), [], 'nothing is due any more');
    const again = await runSweep(t.app);
    assert.deepEqual(again, {
      lapsed: 0,
      expired: 0,
      notices_queued: 0,
      notices_not_sent: [],
      notices_not_sent_count: 0,
      errors: [],
      error_count: 0,
    });
    assert.equal((await outbox(certs.lapsed!.id)).length, 1);
    assert.equal((await lifecycleEntries(certs.lapsed!.id)).length, 1);
  });

  test('the grace ends: the next occurrence lapses it; an admin may start a sweep at once (visible as an execution)', async () => {
    setDay('2026-03-23', '09:00:01');
    assert.equal((await call('GET', `/certifications/acme/${certs.grace!.id}`)).standing, 'lapsed_reinstatable');
    const handle = await call('POST', '/certifications/acme/lifecycleSweep', undefined, 202);
    assert.match(handle.executionArn, /execution:lifecycle-sweep:/);
    await t.app.services.executions.idle();
    const done = await call('GET', `/executions/acme/${encodeURIComponent(handle.executionArn)}`);
    assert.equal(done.status, 'SUCCEEDED');
    assert.equal(done.output.lapsed, 1);
    const rec = await call('GET', `/certifications/acme/${certs.grace!.id}`);
    assert.equal(rec.status, 'inactive');
    assert.equal(rec.standing, 'lapsed_reinstatable');
    assert.equal((await call('GET', '/certifications/acme/lifecycleSweeps')).Items[0].executionArn, handle.executionArn, 'newest first');
    const write = await t.call({ method: 'POST', url: '/certifications/acme/lifecycleSweep', auth: await t.token() });
    assert.equal(write.statusCode, 403, 'starting a sweep needs the admin scope');
    await assertAgree('after the second sweep');
  });

  test('two sweeps at once change each certification once and send each notice once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push((await cert(`race${i}`, progA, term('2026-01-01', '2026-01-31', '2026-05-01'))).id);
    const [a, b] = await Promise.all([runSweep(t.app), runSweep(t.app)]);
    assert.equal(a.lapsed + b.lapsed, 25, `${a.lapsed} + ${b.lapsed}`);
    assert.equal(a.notices_queued + b.notices_queued, 25);
    for (const id of ids) {
      assert.equal((await lifecycleEntries(id)).length, 1, id);
      assert.equal((await outbox(id)).length, 1, id);
    }
  });

  test('a sweep stopped half-way (a crash, a lost lease) is resumed by the next run without doing anything twice', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await cert(`crash${i}`, progA, term('2026-01-01', '2026-01-31', '2026-05-01'))).id);
    await assert.rejects(runSweep(t.app, 5), /stopping/);
    const lapsedSoFar = (await Promise.all(ids.map(async (id) => (await call('GET', `/certifications/acme/${id}`)).status))).filter(
      (s) => s === 'inactive',
    ).length;
    assert.equal(lapsedSoFar, 5);
    const rest = await runSweep(t.app);
    assert.equal(rest.lapsed, 7);
    for (const id of ids) {
      assert.equal((await lifecycleEntries(id)).length, 1, id);
      assert.equal((await outbox(id)).length, 1, id);
    }
  });
});

describe('two server processes on one database (PostgreSQL)', () => {
  const onPostgres = BACKEND === 'postgres';
  test(`one round starts one sweep, and concurrent sweeps of both lapse each certification once (${onPostgres ? 'postgres' : 'PostgreSQL only: SQLite serves one process'})`, async () => {
    if (!onPostgres) return;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'accredit-sweep-'));
    const config = loadConfig({
      DATABASE_URL: t.config.databaseUrl,
      DATA_DIR: dir,
      JWT_SECRET: TEST_SECRET,
      LOG_LEVEL: 'silent',
      RATE_LIMIT_PER_MINUTE: '0',
      LIFECYCLE_SWEEP_CRON: '0 * * * *',
      WORKER_POLL_MS: '50',
    });
    const store: Store = await openStore(config.databaseUrl, { pgPoolMax: 6 });
    const second = await buildApp({ config, store, verifier: createVerifier(config), clock, logger: false });
    await second.ready();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push((await cert(`pg${i}`, progA, term('2026-01-01', '2026-01-31', '2026-05-01'))).id);
      setDay('2026-03-23', '10:00:01');
      const occurrence = new Date('2026-03-23T10:00:00Z');
      const rounds = await Promise.all([sweepOf(t.app).round(occurrence), sweepOf(second).round(occurrence)]);
      assert.equal(rounds.flat().length, 1, 'the lease: one process starts the round');
      const loser = rounds[0]!.length ? second : t.app;
      await Promise.all([t.app.services.executions.idle(), second.services.executions.idle()]);
      const [a, b] = await Promise.all([runSweep(t.app), runSweep(second)]);
      assert.equal(a.lapsed + b.lapsed, 0, 'the execution did it all');
      for (const id of ids) {
        assert.equal((await call('GET', `/certifications/acme/${id}`)).status, 'inactive');
        assert.equal((await lifecycleEntries(id)).length, 1, id);
        assert.equal((await outbox(id)).length, 1, id);
      }
      // new work at the next occurrence: while the other process holds the lease, this one starts nothing
      const more: string[] = [];
      for (let i = 0; i < 20; i++) more.push((await cert(`pgrace${i}`, progA, term('2026-01-01', '2026-01-31', '2026-05-01'))).id);
      setDay('2026-03-23', '10:01:01');
      assert.deepEqual(await sweepOf(loser).round(new Date('2026-03-23T10:01:00Z')), [], 'the lease is held by the other process');
      // and the handlers themselves, racing on two processes
      const [x, y] = await Promise.all([runSweep(t.app), runSweep(second)]);
      assert.equal(x.lapsed + y.lapsed, 20);
      for (const id of more) {
        assert.equal((await lifecycleEntries(id)).length, 1, id);
        assert.equal((await outbox(id)).length, 1, id);
      }
    } finally {
      await second.close();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('settings', () => {
  test('LIFECYCLE_SWEEP_CRON: hourly by default, 0 turns it off, a bad schedule stops start-up naming it', () => {
    assert.equal(loadConfig({}).lifecycleSweepCron, '0 * * * *');
    assert.equal(loadConfig({ LIFECYCLE_SWEEP_CRON: '0' }).lifecycleSweepCron, undefined);
    assert.equal(loadConfig({ LIFECYCLE_SWEEP_CRON: '*/15 * * * *' }).lifecycleSweepCron, '*/15 * * * *');
    assert.throws(
      () => loadConfig({ LIFECYCLE_SWEEP_CRON: 'every hour' }),
      (e: unknown) => e instanceof ConfigError && e.variable === 'LIFECYCLE_SWEEP_CRON',
    );
  });

  test("a programme's lapse status reason must explain inactive; a missing one is a 400 naming the field", async () => {
    const retired = await call('POST', '/statusReasons/acme', { name: 'Deceased', status: 'retired' }, 201);
    const bad = await t.call({
      method: 'POST',
      url: '/programs/acme',
      payload: { name: 'X', lapse_status_reason_id: retired.id },
      auth: t.admin,
    });
    assert.equal(bad.statusCode, 400, bad.body);
    assert.equal(bad.json().errors[0].field, 'lapse_status_reason_id');
    const missing = await t.call({
      method: 'POST',
      url: '/programs/acme',
      payload: { name: 'X', lapse_notice_id: 'no-such-notice' },
      auth: t.admin,
    });
    assert.equal(missing.statusCode, 400, missing.body);
    assert.equal(missing.json().errors[0].field, 'lapse_notice_id');
  });
});
