import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, type TestApp } from '../helpers.js';

/**
 * Every route of the catalog beyond the standard set is served (the standard set of every resource:
 * contract.test.ts), and the composite lookup GET /applications/{t}/programApplicant/{programId}/
 * {ownerType}/{ownerId} lists one applicant's applications to one programme, paged, and the portal's
 * GET /examOfferings/{t}/portal/{contact_id}/describeForExam/{exam_id} an exam's offerings as a
 * contact may register for them.
 */
let t: TestApp;
let otherToken: string;
type S = Record<string, any>;

/** The catalog's lookups and actions (copied from its resource files: kind by_field or action). */
const CATALOG_ROUTES = [
  'GET /activities/{tenantId}/canEdit/{id}',
  'GET /applicationProcesses/{tenantId}/program/{program_id}',
  'GET /applications/{tenantId}/programApplicant/{programId}/{ownerType}/{ownerId}',
  'POST /applications/{tenantId}/generateApplication/{processId}/{ownerType}/{ownerId}',
  'POST /applications/{tenantId}/generateOrder',
  'GET /billingRuns/{tenantId}/recurringBillingRun/{recurring_billing_run_id}',
  'POST /billingRuns/{tenantId}/refresh/{id}',
  'GET /courseOfferings/{tenantId}/instructor/{instructor_id}',
  'GET /courseOfferings/{tenantId}/public/event/{event_id}',
  'POST /examFees/{tenantId}/public/onlineStore',
  'GET /examOfferings/{tenantId}/portal/{contact_id}/describeForExam/{exam_id}',
  'GET /examRegProcesses/{tenantId}/eligible/{contactId}/{examId}',
  'GET /examRegistrations/{tenantId}/courseRegistration/{course_registration_id}',
  'GET /trainingLocations/{tenantId}/trainingProvider/{training_provider_id}',
  'GET /trainingProvPrograms/{tenantId}/program/{program_id}',
  'GET /trainingProvPrograms/{tenantId}/trainingProvider/{training_provider_id}',
];

before(async () => {
  t = await startApp();
  otherToken = await t.token({ tenants: ['other'] });
});
after(() => t.close());

test('/openapi.json serves every lookup and action of the catalog', async () => {
  const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
  // path parameters are matched by position: their names are ours where the catalog's are inferred
  const shape = (p: string) => p.replace(/\{[^}]+\}/g, '{}');
  const served = new Set(
    Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops as S).map((m) => `${m.toUpperCase()} ${shape(p)}`)),
  );
  const missing = CATALOG_ROUTES.filter((r) => {
    const [m, p] = r.split(' ');
    return !served.has(`${m} ${shape(p!)}`);
  });
  assert.deepEqual(missing, []);
});

describe('GET /applications/{tenantId}/programApplicant/{programId}/{ownerType}/{ownerId}', () => {
  const apps: Record<string, S> = {};
  let p1: S;
  let p2: S;
  before(async () => {
    const create = async (slug: string, body: S, auth = t.admin, tenant = 'acme') => {
      const res = await t.call({ method: 'POST', url: `/${slug}/${tenant}`, payload: body, auth });
      assert.equal(res.statusCode, 201, res.body);
      return res.json();
    };
    p1 = await create('programs', { name: 'P1' });
    p2 = await create('programs', { name: 'P2' });
    const base = { type: 'certification', date: '2026-01-10', bucket_id: 'b1', name: 'Applicant' };
    const app = async (key: string, over: S, auth?: string, tenant?: string) =>
      (apps[key] = await create(
        'applications',
        { ...base, owner_type: 'contact', contact_id: 'c-1', program_id: p1.id, ...over },
        auth,
        tenant,
      ));
    await app('mine1', {});
    await app('mine2', {});
    await app('mine3', {});
    await app('otherProgram', { program_id: p2.id });
    await app('otherContact', { contact_id: 'c-2' });
    // an organization's application submitted by c-1: the organization's, not c-1's
    await app('org', { owner_type: 'organization', organization_id: 'org-1' });
    const theirProgram = await create('programs', { name: 'Theirs' }, otherToken, 'other');
    await app('theirs', { program_id: theirProgram.id }, otherToken, 'other');
    apps.theirProgram = theirProgram;
  });
  const list = async (url: string, auth = t.admin, status = 200) => {
    const res = await t.call({ method: 'GET', url, auth });
    assert.equal(res.statusCode, status, `${url}: ${res.body}`);
    return res.json();
  };
  const ids = (xs: S[]) => xs.map((x) => x.id);

  test("a contact's applications to a programme, in id order, paged", async () => {
    const all = await list(`/applications/acme/programApplicant/${p1.id}/contact/c-1`);
    assert.deepEqual(ids(all.Items), [apps.mine1!.id, apps.mine2!.id, apps.mine3!.id].sort());
    assert.equal(all.Count, 3);
    assert.equal(all.LastEvaluatedKey, undefined);
    assert.equal(all.Items[0].program_id, p1.id);
    const first = await list(`/applications/acme/programApplicant/${p1.id}/contact/c-1?limit=2`);
    assert.equal(first.Count, 2);
    const second = await list(
      `/applications/acme/programApplicant/${p1.id}/contact/c-1?limit=2&exclusiveStartKey=${first.LastEvaluatedKey}`,
    );
    assert.deepEqual([...ids(first.Items), ...ids(second.Items)], ids(all.Items));
    assert.equal(second.LastEvaluatedKey, undefined);
    const projected = await list(`/applications/acme/programApplicant/${p1.id}/contact/c-1?fields=program_id`);
    for (const a of projected.Items) assert.deepEqual(Object.keys(a).sort(), ['id', 'program_id']);
  });

  test("an organization's applications by organization_id; another programme's, contact's or tenant's are not listed", async () => {
    assert.deepEqual(ids((await list(`/applications/acme/programApplicant/${p1.id}/organization/org-1`)).Items), [apps.org!.id]);
    assert.deepEqual(ids((await list(`/applications/acme/programApplicant/${p2.id}/contact/c-1`)).Items), [apps.otherProgram!.id]);
    assert.deepEqual(ids((await list(`/applications/acme/programApplicant/${p1.id}/contact/c-2`)).Items), [apps.otherContact!.id]);
    assert.equal((await list(`/applications/acme/programApplicant/${p1.id}/organization/c-1`)).Count, 0);
    assert.equal((await list(`/applications/acme/programApplicant/${apps.theirProgram!.id}/contact/c-1`)).Count, 0);
    assert.deepEqual(ids((await list(`/applications/other/programApplicant/${apps.theirProgram!.id}/contact/c-1`, otherToken)).Items), [
      apps.theirs!.id,
    ]);
    await list(`/applications/other/programApplicant/${p1.id}/contact/c-1`, t.admin, 403);
  });

  test('bad input is a 400 naming the parameter; no token is a 401', async () => {
    for (const [url, field] of [
      [`/applications/acme/programApplicant/${p1.id}/person/c-1`, 'ownerType'],
      [`/applications/acme/programApplicant/${p1.id}/contact/c-1?limit=0`, 'limit'],
      [`/applications/acme/programApplicant/${p1.id}/contact/c-1?exclusiveStartKey=zzz`, 'exclusiveStartKey'],
      [`/applications/acme/programApplicant/${p1.id}/contact/c-1?fields=nope`, 'fields'],
    ] as const) {
      const body = await list(url, t.admin, 400);
      assert.ok(JSON.stringify(body).includes(field), `${url}: ${JSON.stringify(body)}`);
    }
    await list(`/applications/acme/programApplicant/${p1.id}/contact/c-1`, false as unknown as string, 401);
  });
});

describe('GET /examOfferings/{tenantId}/portal/{contact_id}/describeForExam/{exam_id}', () => {
  let exam: S;
  let otherExam: S;
  const sittings: Record<string, S> = {};
  const call = async (method: string, url: string, payload?: unknown, status = 200, auth = t.admin) => {
    const res = await t.call({ method: method as 'GET', url, auth, ...(payload !== undefined ? { payload: payload as S } : {}) });
    assert.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
    return res.json();
  };
  const url = (contact: string, examId = exam.id) => `/examOfferings/acme/portal/${contact}/describeForExam/${examId}`;
  const ids = (page: S) => page.Items.map((o: S) => o.id);
  before(async () => {
    exam = await call('POST', '/exams/acme', { name: 'Board exam', passing_score: 70 }, 201);
    otherExam = await call('POST', '/exams/acme', { name: 'Other exam' }, 201);
    const sitting = (name: string, over: S = {}) =>
      call('POST', '/examOfferings/acme', { name, type: 'live', exam_id: exam.id, location: 'none', date: '2026-04-01', ...over }, 201);
    sittings.a = await sitting('A');
    sittings.b = await sitting('B', { is_active: true });
    sittings.c = await sitting('C');
    sittings.inactive = await sitting('Inactive', { is_active: false });
    sittings.otherExam = await sitting('Other', { exam_id: otherExam.id });
    await call('POST', '/examRegProcesses/acme', { name: 'First sitting', type: 'register' }, 201);
    // cand-open has a registration open for the exam: not eligible until it ends
    await call(
      'POST',
      '/examRegistrations/acme',
      {
        name: 'Open',
        student_id: 'cand-open',
        exam_id: exam.id,
        exam_offering_id: sittings.a!.id,
        date: '2026-03-10',
        status: 'registered',
      },
      201,
    );
  });

  test("an eligible contact sees the exam's active offerings, paged", async () => {
    const all = await call('GET', url('cand-new'));
    assert.deepEqual(ids(all), [sittings.a!.id, sittings.b!.id, sittings.c!.id].sort());
    assert.equal(all.Count, 3);
    const first = await call('GET', `${url('cand-new')}?limit=2`);
    assert.equal(first.Count, 2);
    const second = await call('GET', `${url('cand-new')}?limit=2&exclusiveStartKey=${first.LastEvaluatedKey}`);
    assert.deepEqual([...ids(first), ...ids(second)], ids(all));
    assert.equal(second.LastEvaluatedKey, undefined);
    assert.deepEqual(ids(await call('GET', url('cand-new', otherExam.id))), [sittings.otherExam!.id]);
  });

  test('a contact who may not register now sees none; bad input and unknown exams are refused', async () => {
    assert.deepEqual(await call('GET', url('cand-open')), { Count: 0, Items: [] });
    await call('GET', url('cand-new', 'no-such-exam'), undefined, 404);
    await call('GET', `${url('cand-new')}?limit=0`, undefined, 400);
    const other = await t.token({ tenants: ['other'] });
    assert.equal(
      (await call('GET', `/examOfferings/other/portal/cand-new/describeForExam/${exam.id}`, undefined, 404, other)).code,
      'not_found',
    );
  });
});
