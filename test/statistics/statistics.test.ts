import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, type TestApp } from '../helpers.js';
import type { Clock } from '../../src/core/clock.js';
import { addDays, injectCall, listAll } from '../billing/population.js';

/**
 * GET /statistics/{tenantId}/programs and /billing against counts the test computes itself from the
 * records it created (certifications by status and expiring, applications by status, per programme
 * and for the tenant; billing runs and actions by status and type), with another tenant's records
 * around that must not count.
 */
const TODAY = '2026-06-15';
const clock: Clock = { now: () => new Date(`${TODAY}T09:00:00Z`) };
let t: TestApp;
let otherToken: string;

const call = injectCall(() => t);
const otherCall = injectCall(
  () => t,
  () => otherToken,
);

type Counts = Record<string, number>;
const key = (s: string) => s.replace(/ /g, '_');
const CERT_STATUSES = ['active', 'inactive', 'suspended', 'retired'];
const APP_STATUSES = ['draft', 'missing requirements', 'pending approval', 'approved', 'rejected', 'activated', 'withdrawn', 'expired'];

/** The figures of a set of certification and application bodies, counted here without the server. */
function expectedFigures(certs: Record<string, any>[], apps: { program_id: string; status: string }[]) {
  const certifications: Counts = { total: 0, ...Object.fromEntries(CERT_STATUSES.map((s) => [s, 0])) };
  const expiring: Counts = { next_30_days: 0, next_60_days: 0, next_90_days: 0 };
  for (const c of certs) {
    certifications.total!++;
    certifications[c.status]!++;
    if (c.status !== 'active' || !c.expiration_date) continue;
    for (const d of [30, 60, 90]) if (c.expiration_date >= TODAY && c.expiration_date <= addDays(TODAY, d)) expiring[`next_${d}_days`]!++;
  }
  const applications: Counts = { total: 0, ...Object.fromEntries(APP_STATUSES.map((s) => [key(s), 0])) };
  for (const a of apps) {
    applications.total!++;
    applications[key(a.status)]!++;
  }
  return { certifications, expiring, applications };
}

let programs: Record<string, any>[] = [];
const certBodies: Record<string, any>[] = [];
const appRecords: { program_id: string; status: string }[] = [];

/** An application brought to `status` through the allowed transitions. */
async function application(programId: string, status: string, i: number) {
  const body = {
    owner_type: 'contact',
    contact_id: `a-${i}`,
    type: 'certification',
    program_id: programId,
    date: '2026-06-01',
    bucket_id: 'b1',
    name: `Applicant ${i}`,
  };
  const path: Record<string, string[]> = {
    draft: [],
    'missing requirements': ['missing requirements'],
    'pending approval': ['pending approval'],
    approved: ['pending approval', 'approved'],
    rejected: ['pending approval', 'rejected'],
    activated: ['pending approval', 'approved', 'activated'],
    withdrawn: ['withdrawn'],
    expired: ['expired'],
  };
  const [first, ...rest] = path[status]!;
  // a draft is sent either without a status (counts as draft) or with it
  const created = await call(
    'POST',
    '/applications/acme',
    first ? { ...body, status: first } : i % 2 ? body : { ...body, status: 'draft' },
    201,
  );
  for (const s of rest) await call('PATCH', `/applications/acme/${created.id}`, [{ op: 'replace', path: '/status', value: s }]);
  appRecords.push({ program_id: programId, status });
}

before(async () => {
  t = await startApp({ clock, env: { WORKER_POLL_MS: '50', SCHEDULER_POLL_MS: '0' } });
  otherToken = await t.token({ tenants: ['other'], scope: 'certifications:admin' });
  for (const name of ['Registered Nurse', 'Critical Care', 'Acupuncture'])
    programs.push(await call('POST', '/programs/acme', { name }, 201));
  programs = programs.sort((a, b) => a.name.localeCompare(b.name));
  const [p1, p2] = programs.filter((p) => p.name !== 'Acupuncture'); // Acupuncture stays empty

  // certifications around the 30 / 60 / 90-day edges, in every status, some without an expiration date
  const offsets = [-10, -1, 0, 1, 29, 30, 31, 59, 60, 61, 90, 91, 200];
  const statuses = ['active', 'active', 'inactive', 'suspended', 'retired', 'active'];
  for (let i = 0; i < 60; i++) {
    const body: Record<string, any> = {
      number: 5000 + i,
      contact_id: `c-${i}`,
      program_id: (i % 3 ? p1 : p2)!.id,
      status: statuses[i % statuses.length],
      name: `Holder ${i}`,
    };
    if (i % 11 !== 0) body.expiration_date = addDays(TODAY, offsets[i % offsets.length]!);
    await call('POST', '/certifications/acme', body, 201);
    certBodies.push(body);
  }
  let n = 0;
  for (const [k, status] of APP_STATUSES.entries()) {
    for (let j = 0; j <= k % 3; j++) await application((n % 2 ? p1 : p2)!.id, status, n++);
  }

  // another tenant's records must not count
  const op = await otherCall('POST', '/programs/other', { name: 'Other programme' }, 201);
  for (let i = 0; i < 5; i++) {
    await otherCall(
      'POST',
      '/certifications/other',
      { number: i + 1, contact_id: `o-${i}`, program_id: op.id, status: 'active', name: `Other ${i}`, expiration_date: addDays(TODAY, 10) },
      201,
    );
  }
  await otherCall(
    'POST',
    '/applications/other',
    { owner_type: 'contact', contact_id: 'o-1', type: 'certification', program_id: op.id, date: '2026-06-01', bucket_id: 'b1' },
    201,
  );
  await otherCall('POST', '/billingRuns/other', { name: 'Other run', status: 'draft' }, 201);
});
after(() => t.close());

describe('GET /statistics/{tenantId}/programs', () => {
  test('tenant totals and per-programme figures match the records created', async () => {
    const s = await call('GET', '/statistics/acme/programs');
    assert.equal(s.id, 'programs');
    assert.equal(s.as_of, clock.now().toISOString());
    const all = expectedFigures(certBodies, appRecords);
    assert.deepEqual(s.certifications, all.certifications);
    assert.deepEqual(s.expiring, all.expiring);
    assert.deepEqual(s.applications, all.applications);
    // sanity: the population really exercises the figures
    assert.ok(
      all.expiring.next_30_days! > 0 &&
        all.expiring.next_90_days! > all.expiring.next_60_days! &&
        all.expiring.next_60_days! > all.expiring.next_30_days!,
    );
    assert.ok(
      Object.values(all.applications).every((v) => v > 0),
      JSON.stringify(all.applications),
    );

    assert.deepEqual(
      s.programs.map((p: any) => p.name),
      programs.map((p) => p.name),
      "every programme of the tenant, by name (the other tenant's is absent)",
    );
    for (const p of programs) {
      const got = s.programs.find((x: any) => x.program_id === p.id);
      const want = expectedFigures(
        certBodies.filter((c) => c.program_id === p.id),
        appRecords.filter((a) => a.program_id === p.id),
      );
      assert.deepEqual({ certifications: got.certifications, expiring: got.expiring, applications: got.applications }, want, p.name);
    }
    const empty = s.programs.find((x: any) => x.name === 'Acupuncture');
    assert.equal(empty.certifications.total, 0);
    assert.equal(empty.applications.total, 0);
  });

  test('the figures follow changes at once (no snapshot)', async () => {
    const before = await call('GET', '/statistics/acme/programs');
    const active = certBodies.findIndex((c) => c.status === 'active' && c.expiration_date === addDays(TODAY, 29));
    const list = await call('POST', '/certifications/acme/search', { number: [certBodies[active]!.number] });
    await call('PATCH', `/certifications/acme/${list.Items[0].id}`, [{ op: 'replace', path: '/status', value: 'suspended' }]);
    certBodies[active]!.status = 'suspended';
    const after = await call('GET', '/statistics/acme/programs');
    assert.equal(after.certifications.active, before.certifications.active - 1);
    assert.equal(after.certifications.suspended, before.certifications.suspended + 1);
    assert.equal(after.expiring.next_30_days, before.expiring.next_30_days - 1);
    assert.deepEqual(after.certifications, expectedFigures(certBodies, appRecords).certifications);
  });

  test('another tenant sees its own figures only', async () => {
    const s = await otherCall('GET', '/statistics/other/programs');
    assert.deepEqual(s.certifications, { total: 5, active: 5, inactive: 0, suspended: 0, retired: 0 });
    assert.deepEqual(s.expiring, { next_30_days: 5, next_60_days: 5, next_90_days: 5 });
    assert.equal(s.applications.total, 1);
    assert.equal(s.applications.draft, 1);
    assert.deepEqual(
      s.programs.map((p: any) => p.name),
      ['Other programme'],
    );
    const forbidden = await t.call({ method: 'GET', url: '/statistics/other/programs' });
    assert.equal(forbidden.statusCode, 403);
  });

  test('the computed records lead the list, need a read token and take a projection', async () => {
    const list = await call('GET', '/statistics/acme');
    assert.deepEqual(
      list.Items.slice(0, 2).map((x: any) => x.id),
      ['programs', 'billing'],
    );
    const reader = await t.token({ scope: 'certifications:read' });
    assert.equal((await t.call({ method: 'GET', url: '/statistics/acme/billing', auth: reader })).statusCode, 200);
    assert.equal((await t.call({ method: 'GET', url: '/statistics/acme/programs', auth: false })).statusCode, 401);
    const projected = await call('GET', '/statistics/acme/programs?fields=certifications');
    assert.deepEqual(Object.keys(projected).sort(), ['certifications', 'id']);
  });

  // On SQLite the kit computes the built-in record inside the write's transaction, whose connection the
  // statistics queries then wait for: until the kit asks builtIn.has(id) instead, this hangs there.
  test('writes to the computed records are a 409', async () => {
    for (const [method, url, payload] of [
      ['PUT', '/statistics/acme/programs', { name: 'mine' }],
      ['PATCH', '/statistics/acme/billing', [{ op: 'replace', path: '/name', value: 'mine' }]],
      ['DELETE', '/statistics/acme/billing', undefined],
    ] as const) {
      const res = await t.call({ method, url, payload: payload as any, auth: t.admin });
      assert.equal(res.statusCode, 409, `${method} ${url}: ${res.body}`);
    }
  });
});

describe('GET /statistics/{tenantId}/billing', () => {
  /** Polls the execution until it ends, bounded. */
  async function finished(handle: { executionArn: string }) {
    for (let i = 0; i < 2000; i++) {
      const e = await call('GET', `/executions/acme/${handle.executionArn}`);
      if (e.status !== 'RUNNING') return e;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('execution did not end');
  }

  test('runs by status and actions by status and type match the records', async () => {
    const empty = await call('GET', '/statistics/acme/billing');
    assert.equal(empty.billing_runs.total, 0);
    assert.equal(empty.billing_run_actions.total, 0);
    assert.equal(empty.billing_run_actions.by_status.pending, 0);

    for (const status of ['draft', 'draft', 'scheduled', 'cancelled', 'completed'])
      await call('POST', '/billingRuns/acme', { name: `Run ${status}`, status }, 201);
    const run = await call(
      'POST',
      '/billingRuns/acme',
      {
        name: 'June cycle',
        status: 'draft',
        forecast_renewals: true,
        renewal_forecasting_options: { expiration_date_range_start: addDays(TODAY, 1), expiration_date_range_end: addDays(TODAY, 60) },
        perform_drops: true,
        drop_options: { expiration_date_range_start: addDays(TODAY, -365), expiration_date_range_end: TODAY },
      },
      201,
    );
    const e = await finished(await call('POST', `/billingRuns/acme/refresh/${run.id}`));
    assert.equal(e.status, 'SUCCEEDED', JSON.stringify(e));
    // some actions change status, as a reviewer would exclude candidates
    const pending = await listAll(call, `/billingRunActions/acme/billingRun/${run.id}`);
    for (const a of pending.slice(0, 3))
      await call('PATCH', `/billingRunActions/acme/${a.id}`, [{ op: 'replace', path: '/status', value: 'excluded' }]);

    const runs = await listAll(call, '/billingRuns/acme');
    const actions = await listAll(call, '/billingRunActions/acme');
    const tally = (xs: any[], f: string) =>
      xs.reduce<Counts>((m, x) => {
        m[key(x[f])] = (m[key(x[f])] ?? 0) + 1;
        return m;
      }, {});
    const nonZero = (c: Record<string, number>) => Object.fromEntries(Object.entries(c).filter(([, v]) => v > 0));

    const s = await call('GET', '/statistics/acme/billing');
    assert.equal(s.id, 'billing');
    assert.equal(s.billing_runs.total, runs.length);
    assert.deepEqual(nonZero(s.billing_runs.by_status), tally(runs, 'status'));
    assert.equal(s.billing_run_actions.total, actions.length);
    assert.deepEqual(nonZero(s.billing_run_actions.by_status), tally(actions, 'status'));
    assert.deepEqual(nonZero(s.billing_run_actions.by_type), tally(actions, 'type'));
    // the population gives both job types and two statuses; every enum value is a key
    assert.ok(
      s.billing_run_actions.by_type.forecast_renewal > 0 && s.billing_run_actions.by_type.drop_certification > 0,
      JSON.stringify(s.billing_run_actions),
    );
    assert.equal(s.billing_run_actions.by_status.excluded, 3);
    assert.equal(s.billing_runs.by_status.ready_for_execution, 1);
    assert.equal(s.billing_runs.by_status.timed_out, 0);
    assert.equal(s.billing_run_actions.by_status.no_longer_eligible, 0);
    // the other tenant's run is not counted, and it sees only its own
    const other = await otherCall('GET', '/statistics/other/billing');
    assert.equal(other.billing_runs.total, 1);
    assert.equal(other.billing_run_actions.total, 0);
  });
});
