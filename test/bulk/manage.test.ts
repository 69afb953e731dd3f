import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, type TestApp } from '../helpers.js';
import { finished, listAll, load } from './util.js';

/**
 * Managing bulk loads: the path shapes of the OpenAPI document (and the older form of starting a
 * load, still served for one release).
 */
let t: TestApp;

before(async () => {
  t = await startApp({ env: { WORKER_POLL_MS: '50', SCHEDULER_POLL_MS: '0' } });
});
after(() => t.close());

describe('path shapes', () => {
  test('no two paths of the OpenAPI document have the same shape; a load starts with POST /bulkLoads/{tenantId}?resource=', async () => {
    const doc = (await t.call({ method: 'GET', url: '/openapi.json' })).json();
    const shapes = new Map<string, string>();
    for (const p of Object.keys(doc.paths)) {
      const shape = p.replace(/\{[^}]+\}/g, '{}');
      assert.equal(shapes.get(shape), undefined, `${p} has the shape of ${shapes.get(shape)}`);
      shapes.set(shape, p);
    }
    const start = doc.paths['/bulkLoads/{tenantId}']?.post;
    assert.ok(start, 'POST /bulkLoads/{tenantId}');
    assert.ok(
      start.parameters.some((p: any) => p.in === 'query' && p.name === 'resource' && p.required),
      'resource is a required query parameter',
    );
    assert.equal(doc.paths['/bulkLoads/{tenantId}/{resource}'], undefined, 'the older form is hidden');
  });

  test('the older form POST /bulkLoads/{tenantId}/{resource} still loads; the new one without resource is a 400 naming it', async () => {
    const res = await t.call({
      method: 'POST',
      url: '/bulkLoads/acme/examSites',
      payload: 'name\nOld form hall\n',
      headers: { 'content-type': 'text/csv' },
    });
    assert.equal(res.statusCode, 202, res.body);
    const done = await finished(t, 'acme', res.json().id);
    assert.equal(done.rows_written, 1);
    assert.ok((await listAll(t, 'acme', 'examSites')).some((r) => r.name === 'Old form hall'));
    const none = await t.call({ method: 'POST', url: '/bulkLoads/acme', payload: 'name\nx\n', headers: { 'content-type': 'text/csv' } });
    assert.equal(none.statusCode, 400, none.body);
    assert.equal(none.json().errors[0].field, 'resource');
    const viaNew = await load(t, 'acme', 'examSites', 'name\nNew form hall\n');
    assert.equal(viaNew.rows_written, 1);
  });
});
