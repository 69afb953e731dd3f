import assert from 'node:assert/strict';
import type { TestApp } from '../helpers.js';

/** Helpers of the bulk load and export suites: upload a file, wait for its load, read every page. */
export type { LoadView } from '../../src/bulk/loader.js';
import type { LoadView } from '../../src/bulk/loader.js';

export async function upload(
  t: TestApp,
  tenant: string,
  resource: string,
  body: string,
  opts: { type?: string; query?: string; auth?: string; status?: number } = {},
): Promise<any> {
  const res = await t.call({
    method: 'POST',
    url: `/bulkLoads/${tenant}?resource=${resource}${opts.query ? `&${opts.query}` : ''}`,
    payload: body,
    headers: { 'content-type': opts.type ?? 'text/csv' },
    auth: opts.auth,
  });
  assert.equal(res.statusCode, opts.status ?? 202, res.body);
  return res.json();
}

export async function finished(
  t: TestApp,
  tenant: string,
  id: string,
  opts: { auth?: string; timeoutMs?: number } = {},
): Promise<LoadView> {
  const until = Date.now() + (opts.timeoutMs ?? 180_000);
  for (;;) {
    const res = await t.call({ method: 'GET', url: `/bulkLoads/${tenant}/${id}`, auth: opts.auth });
    assert.equal(res.statusCode, 200, res.body);
    const v = res.json() as LoadView;
    if (v.status === 'completed' || v.status === 'failed' || v.status === 'cancelled') return v;
    if (Date.now() > until) throw new Error(`load ${id} did not end: ${res.body}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A load from upload to its end. */
export async function load(
  t: TestApp,
  tenant: string,
  resource: string,
  body: string,
  opts: { type?: string; query?: string; auth?: string } = {},
) {
  const accepted = await upload(t, tenant, resource, body, opts);
  return finished(t, tenant, accepted.id, opts);
}

export async function allErrors(t: TestApp, tenant: string, id: string, limit = 1000, auth?: string) {
  const out: { row: number; errors: { field: string; reason: string }[] }[] = [];
  let key: string | undefined;
  do {
    const res = await t.call({
      method: 'GET',
      url: `/bulkLoads/${tenant}/${id}/errors?limit=${limit}${key ? `&exclusiveStartKey=${key}` : ''}`,
      auth,
    });
    assert.equal(res.statusCode, 200, res.body);
    const page = res.json();
    out.push(...page.Items);
    key = page.LastEvaluatedKey;
  } while (key);
  return out;
}

export async function listAll(t: TestApp, tenant: string, resource: string, auth?: string): Promise<Record<string, any>[]> {
  const out: Record<string, any>[] = [];
  let key: string | undefined;
  do {
    const res = await t.call({ method: 'GET', url: `/${resource}/${tenant}?limit=1000${key ? `&exclusiveStartKey=${key}` : ''}`, auth });
    assert.equal(res.statusCode, 200, res.body);
    const page = res.json();
    out.push(...page.Items);
    key = page.LastEvaluatedKey;
  } while (key);
  return out;
}

/** A record's client-owned part: what survives an export and a load. */
export const fieldsOf = (r: Record<string, any>) =>
  Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'id' && !k.startsWith('sys_')));

/** A CSV cell, quoted when it needs to be. */
export const cell = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
