import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, minimalRun, type TestApp } from '../helpers.js';

let t: TestApp;
before(async () => {
  t = await startApp({ env: { BODY_LIMIT: '4kb' } });
});
after(() => t.close());

test('GET /health answers 200 without a token', async () => {
  const res = await t.app.inject({ method: 'GET', url: '/health' });
  assert.equal(res.statusCode, 200);
  assert.equal(res.json().status, 'ok');
});

test('/openapi.json is OpenAPI 3.1 with every Billing Runs operation and its schemas', async () => {
  const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
  assert.equal(res.statusCode, 200);
  const doc = res.json();
  assert.equal(doc.openapi, '3.1.0');
  const ops = Object.entries(doc.paths).flatMap(([p, m]: [string, any]) => Object.keys(m).map((k) => `${k.toUpperCase()} ${p}`));
  for (const op of [
    'GET /billingRuns/{tenantId}',
    'POST /billingRuns/{tenantId}',
    'POST /billingRuns/{tenantId}/search',
    'POST /billingRuns/{tenantId}/batch',
    'GET /billingRuns/{tenantId}/{id}',
    'PUT /billingRuns/{tenantId}/{id}',
    'PATCH /billingRuns/{tenantId}/{id}',
    'DELETE /billingRuns/{tenantId}/{id}',
    'GET /billingRuns/{tenantId}/recurringBillingRun/{value}',
    'POST /billingRuns/{tenantId}/refresh/{id}',
  ]) {
    assert.ok(ops.includes(op), `${op} in ${ops.join(', ')}`);
  }
  const br = doc.components.schemas.BillingRun;
  assert.ok(br.properties.application_activation_options.properties.program_ids);
  assert.equal(br.properties.drop_options.properties.program_ids.items['x-ref'], 'programs');
  const input = doc.components.schemas.BillingRunInput;
  assert.deepEqual(input.required.sort(), ['name', 'status']);
  assert.ok(input.allOf.some((c: any) => c.then.required.includes('drop_options')));
  assert.ok(doc.components.securitySchemes.bearerAuth);
  assert.ok(doc.components.schemas.BillingRunSearch.properties.run_date);
});

test('/docs serves the interactive reference', async () => {
  const res = await t.app.inject({ method: 'GET', url: '/docs/' });
  assert.equal(res.statusCode, 200);
  assert.match(res.body, /swagger-ui/i);
  assert.match(String(res.headers['content-type']), /text\/html/);
  // the page is built by an instance of its own on first use: its headers and files come through
  assert.match(String(res.headers['content-security-policy']), /default-src 'self'/);
  assert.ok(res.headers['x-request-id'], "the main app's own headers are added too");
  const css = await t.app.inject({ method: 'GET', url: '/docs/static/swagger-ui.css' });
  assert.equal(css.statusCode, 200);
  assert.match(String(css.headers['content-type']), /text\/css/);
  assert.ok(css.rawPayload.length > 10_000);
  const missing = await t.app.inject({ method: 'GET', url: '/docs/static/no-such-file.js' });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json().code, 'not_found', "the API's own error body");
  assert.match(missing.json().message, /no route GET \/docs\/static\/no-such-file\.js/);
  const json = await t.app.inject({ method: 'GET', url: '/docs/json' });
  assert.equal(json.statusCode, 200);
  assert.deepEqual(json.json(), (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json());
});

test('CORS: preflight and responses carry the headers a browser client needs', async () => {
  const pre = await t.app.inject({
    method: 'OPTIONS',
    url: '/billingRuns/acme',
    headers: {
      origin: 'https://app.example.org',
      'access-control-request-method': 'PATCH',
      'access-control-request-headers': 'authorization,content-type,if-match',
    },
  });
  assert.equal(pre.statusCode, 204);
  assert.equal(pre.headers['access-control-allow-origin'], '*');
  assert.match(String(pre.headers['access-control-allow-methods']), /PATCH/);
  assert.match(String(pre.headers['access-control-allow-headers']), /If-Match/i);
  const res = await t.call({ method: 'GET', url: '/billingRuns/acme', headers: { origin: 'https://app.example.org' } });
  assert.equal(res.headers['access-control-allow-origin'], '*');
  assert.match(String(res.headers['access-control-expose-headers']), /ETag/);
});

test('a body over the configured limit is a 413 with a JSON error', async () => {
  const res = await t.call({ method: 'POST', url: '/billingRuns/acme', payload: minimalRun({ error: 'x'.repeat(8000) }) });
  assert.equal(res.statusCode, 413);
  assert.equal(res.json().statusCode, 413);
});

test('unknown routes are a JSON 404; every response has a request id', async () => {
  const res = await t.call({ method: 'GET', url: '/nope/acme' });
  assert.equal(res.statusCode, 404);
  assert.equal(res.json().statusCode, 404);
  assert.ok(res.headers['x-request-id']);
  const given = await t.call({ method: 'GET', url: '/billingRuns/acme', headers: { 'x-request-id': 'trace-123' } });
  assert.equal(given.headers['x-request-id'], 'trace-123');
});
