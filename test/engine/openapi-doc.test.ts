import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { loadConfig, ConfigError } from '../../src/config.js';
import { startApp, type TestApp } from '../helpers.js';

/**
 * What client generators in other languages need of /openapi.json (Redocly's recommended rules, run on
 * the committed copy by `npm run lint:api`): an operationId on every operation, unique and formed as
 * docs/api.md says, servers, a licence, and a 2xx and a 4xx answer on every operation.
 */
type Operation = { operationId?: string; responses?: Record<string, unknown> };
type Doc = {
  info: { license?: { name?: string; identifier?: string } };
  servers?: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
};

let t: TestApp;
let doc: Doc;
before(async () => {
  t = await startApp();
  doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
});
after(() => t.close());

const operations = (d: Doc) =>
  Object.entries(d.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ at: `${method.toUpperCase()} ${path}`, op })),
  );

test('every operation has an operationId, unique across the document and safe in any language', () => {
  const ops = operations(doc);
  assert.ok(ops.length > 400, `${ops.length} operations`);
  const missing = ops.filter((o) => !o.op.operationId).map((o) => o.at);
  assert.deepEqual(missing, [], `operations without an operationId: ${missing.join(', ')}`);
  const seen = new Map<string, string>();
  for (const { at, op } of ops) {
    const id = op.operationId!;
    assert.match(id, /^[A-Za-z][A-Za-z0-9_]*$/, `${at}: ${id}`);
    assert.ok(!seen.has(id), `${id} names both ${seen.get(id)} and ${at}`);
    seen.set(id, at);
  }
});

test('operationIds are <slug>_<operation>: the standard set, lookups, history, the catalog names of actions, a singleton', () => {
  const idOf = new Map(operations(doc).map((o) => [o.at, o.op.operationId]));
  const expected: Record<string, string> = {
    'GET /certifications/{tenantId}': 'certifications_list',
    'POST /certifications/{tenantId}': 'certifications_create',
    'POST /certifications/{tenantId}/search': 'certifications_search',
    'POST /certifications/{tenantId}/batch': 'certifications_batch',
    'GET /certifications/{tenantId}/{id}': 'certifications_get',
    'PUT /certifications/{tenantId}/{id}': 'certifications_update',
    'PATCH /certifications/{tenantId}/{id}': 'certifications_patch',
    'DELETE /certifications/{tenantId}/{id}': 'certifications_delete',
    'GET /billingRuns/{tenantId}/recurringBillingRun/{value}': 'billingRuns_listByRecurringBillingRun',
    // the catalog's operation names
    'POST /billingRuns/{tenantId}/refresh/{id}': 'billingRuns_refresh',
    'GET /activities/{tenantId}/canEdit/{id}': 'activities_canEdit',
    'POST /applications/{tenantId}/generateApplication/{processId}/{ownerType}/{ownerId}': 'applications_generateApplication',
    'GET /examRegProcesses/{tenantId}/eligible/{contactId}/{examId}': 'examRegProcesses_eligible',
    // settings: one record per tenant, read and changed at the root as the catalog shows
    'GET /settings/{tenantId}': 'settings_get',
    'PUT /settings/{tenantId}': 'settings_update',
    'PATCH /settings/{tenantId}': 'settings_patch',
    'GET /settings/{tenantId}/{id}': 'settings_getById',
    // hand-written routes
    'GET /executions/{tenantId}/{executionArn}': 'executions_get',
    'GET /queries/{tenantId}/result/{id}': 'queries_result',
    'GET /public/verify/{tenantId}/{programId}/{number}': 'public_verify',
  };
  for (const [at, id] of Object.entries(expected)) assert.equal(idOf.get(at), id, at);
  const history = [...idOf].find(([at]) => /^GET \/\w+\/\{tenantId\}\/history\/\{id\}$/.test(at));
  assert.ok(history, 'a resource with history');
  assert.equal(history[1], `${history[0].split('/')[1]}_history`);
});

test('every operation declares a 2xx and a 4xx answer', () => {
  const lacking = operations(doc).flatMap(({ at, op }) => {
    const codes = Object.keys(op.responses ?? {});
    return [
      ...(codes.some((c) => c.startsWith('2')) ? [] : [`${at}: no 2xx`]),
      ...(codes.some((c) => c.startsWith('4')) ? [] : [`${at}: no 4xx`]),
    ];
  });
  assert.deepEqual(lacking, []);
});

test("the document names the project's licence and a relative server by default", () => {
  const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { license: string };
  assert.equal(doc.info.license?.identifier, pkg.license);
  assert.ok(doc.info.license?.name);
  assert.deepEqual(
    doc.servers?.map((s) => s.url),
    ['/'],
  );
});

test('PUBLIC_BASE_URL is the server (without its trailing slash), and a path in it is not cut from the routes', async () => {
  const a = await startApp({ env: { PUBLIC_BASE_URL: 'https://registry.example.org/public/' } });
  try {
    const d: Doc = (await a.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    assert.deepEqual(
      d.servers?.map((s) => s.url),
      ['https://registry.example.org/public'],
    );
    assert.ok(d.paths['/public/verify/{tenantId}/{programId}/{number}'], 'the public routes keep their /public prefix');
  } finally {
    await a.close();
  }
});

test('a PUBLIC_BASE_URL that is not an http(s) URL stops start-up naming the variable', () => {
  for (const bad of ['registry.example.org', 'ftp://registry.example.org']) {
    assert.throws(
      () => loadConfig({ PUBLIC_BASE_URL: bad }),
      (e: unknown) => e instanceof ConfigError && e.variable === 'PUBLIC_BASE_URL',
    );
  }
});
