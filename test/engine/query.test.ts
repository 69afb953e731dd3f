import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, minimalRun, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';

let t: TestApp;
before(async () => {
  t = await startApp();
});
after(() => t.close());

const createIn = async (tenant: string, body: Record<string, unknown>, token?: string) => {
  const res = await t.call({ method: 'POST', url: `/billingRuns/${tenant}`, payload: body, auth: token });
  assert.equal(res.statusCode, 201, res.body);
  return res.json();
};
const search = (body: unknown, qs = '', tenant = 'search') =>
  t.call({ method: 'POST', url: `/billingRuns/${tenant}/search${qs}`, payload: body as object, auth: searchToken });
let searchToken: string;

/** Follows LastEvaluatedKey to the end; returns every page. */
async function pages(first: (key?: string) => Promise<{ statusCode: number; json(): any; body: string }>) {
  const out: any[][] = [];
  let key: string | undefined;
  for (let i = 0; i < 1000; i++) {
    const res = await first(key);
    assert.equal(res.statusCode, 200, res.body);
    const page = res.json();
    out.push(page.Items);
    if (!page.LastEvaluatedKey) return out;
    key = page.LastEvaluatedKey;
  }
  throw new Error('paging did not end');
}

describe('list', () => {
  test('pages with an opaque LastEvaluatedKey that is absent on the last page', async () => {
    const tok = await t.token({ tenants: ['lister'] });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await createIn('lister', minimalRun({ name: `run ${i}` }), tok)).id);
    const all = await pages((k) =>
      t.call({ method: 'GET', url: `/billingRuns/lister?limit=3${k ? `&exclusiveStartKey=${k}` : ''}`, auth: tok }),
    );
    assert.deepEqual(
      all.map((p) => p.length),
      [3, 3, 1],
    );
    assert.deepEqual(
      all.flat().map((r) => r.id),
      ids,
    );
    const exact = await pages((k) =>
      t.call({ method: 'GET', url: `/billingRuns/lister?limit=7${k ? `&exclusiveStartKey=${k}` : ''}`, auth: tok }),
    );
    assert.equal(exact.length, 1, 'a page that holds the rest carries no key');
    const res = await t.call({ method: 'GET', url: '/billingRuns/lister?limit=2&fields=name', auth: tok });
    assert.equal(res.json().Count, 2);
    assert.deepEqual(res.json().Items[0], { id: ids[0], name: 'run 0' });
  });

  test('concurrent inserts never make a page repeat or skip an existing record', async () => {
    const tok = await t.token({ tenants: ['paging'] });
    const existing: string[] = [];
    for (let i = 0; i < 20; i++) existing.push((await createIn('paging', minimalRun({ name: `e${i}` }), tok)).id);
    const seen: string[] = [];
    let key: string | undefined;
    let inserted = 0;
    do {
      const res = await t.call({ method: 'GET', url: `/billingRuns/paging?limit=4${key ? `&exclusiveStartKey=${key}` : ''}`, auth: tok });
      const page = res.json();
      seen.push(...page.Items.map((r: any) => r.id));
      key = page.LastEvaluatedKey;
      // Writers keep inserting while the reader pages.
      await Promise.all([0, 1, 2].map(() => createIn('paging', minimalRun({ name: `new${inserted++}` }), tok)));
    } while (key);
    assert.equal(new Set(seen).size, seen.length, 'no record repeats');
    for (const id of existing) assert.ok(seen.includes(id), `existing record ${id} not skipped`);
  });

  test('a bad paging key or limit is a 400 naming it', async () => {
    for (const [qs, field] of [
      ['exclusiveStartKey=garbage!!', 'exclusiveStartKey'],
      [`exclusiveStartKey=${Buffer.from('{"id":"a b"}').toString('base64url')}`, 'exclusiveStartKey'],
      [`exclusiveStartKey=${Buffer.from('not json').toString('base64url')}`, 'exclusiveStartKey'],
      ['limit=0', 'limit'],
      ['limit=abc', 'limit'],
      ['limit=1000000', 'limit'],
    ]) {
      const res = await t.call({ method: 'GET', url: `/billingRuns/acme?${qs}` });
      assert.equal(res.statusCode, 400, qs);
      assert.equal(res.json().errors[0].field, field, qs);
    }
  });
});

describe('search', () => {
  let runs: Record<string, any>;
  before(async () => {
    searchToken = await t.token({ tenants: ['search'] });
    const mk = (over: Record<string, unknown>) => createIn('search', minimalRun(over), searchToken);
    runs = {
      jan: await mk({ name: 'January Renewals', status: 'completed', run_date: '2025-01-15T10:00:00Z', perform_drops: false }),
      feb: await mk({
        name: 'february renewals',
        status: 'scheduled',
        scheduled_run_date: '2025-02-15T23:30:00-05:00',
        send_renewal_reminders: false,
      }),
      mar: await mk({
        name: 'March drops',
        status: 'draft',
        run_date: '2025-03-01T00:00:00Z',
        perform_drops: true,
        drop_options: { expiration_date_range_start: '2025-01-01', expiration_date_range_end: '2025-02-01' },
        expire_applications: true,
        application_expiration_options: { expiration_date_range_start: '2025-01-01', expiration_date_range_end: '2025-02-01' },
      }),
      percent: await mk({ name: '100% done_ok', status: 'error' }),
    };
  });
  const names = (res: { json(): any }) =>
    res
      .json()
      .Items.map((r: any) => r.name)
      .sort();

  test('name is a case-insensitive contains; LIKE wildcards are literal', async () => {
    assert.deepEqual(names(await search({ name: 'RENEWALS' })), ['January Renewals', 'february renewals']);
    assert.deepEqual(names(await search({ name: '%' })), ['100% done_ok']);
    assert.deepEqual(names(await search({ name: '_' })), ['100% done_ok']);
    assert.deepEqual(names(await search({ name: '' })).length, 4);
  });

  test('arrays match any of their values; ids; booleans', async () => {
    assert.deepEqual(names(await search({ status: ['draft', 'scheduled'] })), ['March drops', 'february renewals']);
    assert.deepEqual(names(await search({ ids: [runs.jan.id, runs.percent.id] })), ['100% done_ok', 'January Renewals']);
    assert.deepEqual(names(await search({ perform_drops: [true] })), ['March drops']);
    assert.deepEqual(names(await search({ perform_drops: [false] })), ['January Renewals']);
    assert.deepEqual(names(await search({ application_expiration_options: [true] })), ['March drops']);
    assert.deepEqual(names(await search({ status: ['completed'], name: 'jan' })), ['January Renewals']);
    assert.equal(names(await search({ status: ['completed'], name: 'feb' })).length, 0);
  });

  test('[from, to] ranges are inclusive, either end may be empty, dates cover whole days', async () => {
    assert.deepEqual(names(await search({ run_date: ['2025-01-15', '2025-03-01'] })), ['January Renewals', 'March drops']);
    assert.deepEqual(names(await search({ run_date: ['2025-01-16', ''] })), ['March drops']);
    assert.deepEqual(names(await search({ run_date: [null, '2025-02-28'] })), ['January Renewals']);
    assert.deepEqual(names(await search({ run_date: ['2025-01-15T10:00:00Z', '2025-01-15T10:00:00Z'] })), ['January Renewals']);
    // 23:30 at -05:00 is 04:30 UTC the next day.
    assert.deepEqual(names(await search({ scheduled_run_date: ['2025-02-16', '2025-02-16'] })), ['february renewals']);
    assert.equal(names(await search({ scheduled_run_date: ['2025-02-15', '2025-02-15'] })).length, 0);
  });

  test('fieldsToReturn projects; paging works with filters', async () => {
    const res = await search({ name: 'e' }, '?fieldsToReturn=name,status&limit=2');
    assert.equal(res.statusCode, 200);
    const page = res.json();
    assert.equal(page.Items.length, 2);
    assert.deepEqual(Object.keys(page.Items[0]).sort(), ['id', 'name', 'status']);
    assert.ok(page.LastEvaluatedKey);
    assert.equal(page.Count, undefined, 'search answers Items and LastEvaluatedKey only');
    const all = await pages((k) => search({}, `?limit=2${k ? `&exclusiveStartKey=${k}` : ''}`));
    assert.equal(all.flat().length, 4);
  });

  test('one field equal to one value (read straight from its index) pages exactly like the general filter', async () => {
    const tok = await t.token({ tenants: ['onevalue'] });
    for (let i = 0; i < 7; i++) await createIn('onevalue', minimalRun({ name: `o${i}`, status: i % 2 ? 'draft' : 'completed' }), tok);
    const paged = (status: string[]) =>
      pages((k) =>
        t.call({
          method: 'POST',
          url: `/billingRuns/onevalue/search?limit=2${k ? `&exclusiveStartKey=${k}` : ''}`,
          payload: { status },
          auth: tok,
        }),
      );
    const one = await paged(['completed']);
    // a second value no record has takes the general path (ids chosen in a subquery) to the same records
    const general = await paged(['completed', 'error']);
    assert.deepEqual(
      one.map((p) => p.map((r: any) => r.id)),
      general.map((p) => p.map((r: any) => r.id)),
    );
    assert.deepEqual(
      one.flat().map((r: any) => r.name),
      ['o0', 'o2', 'o4', 'o6'],
    );
    assert.deepEqual(
      one.map((p) => p.length),
      [2, 2],
    );
  });

  test('bad search bodies are 400 naming the field', async () => {
    for (const [body, field] of [
      [{ colour: 'red' }, 'colour'],
      [{ status: 'draft' }, 'status'],
      [{ status: ['sleeping'] }, 'status.0'],
      [{ run_date: ['2025-01-01'] }, 'run_date'],
      [{ run_date: ['yesterday', ''] }, 'run_date.0'],
      [{ perform_drops: ['yes'] }, 'perform_drops.0'],
      [{ ids: ['a b'] }, 'ids.0'],
    ] as [unknown, string][]) {
      const res = await search(body);
      assert.equal(res.statusCode, 400, JSON.stringify(body));
      assert.equal(res.json().errors[0].field, field, JSON.stringify(body));
    }
    const noBody = await t.call({ method: 'POST', url: '/billingRuns/search/search', auth: searchToken });
    assert.equal(noBody.statusCode, 200, 'no body searches everything');
  });
});

describe('lookup', () => {
  test('/recurringBillingRun/{id} lists the runs of one schedule, paged like list', async () => {
    const tok = await t.token({ tenants: ['lookup'] });
    const f = new Factory(t, tok, 'lookup');
    const [one, two] = [await f.create('recurringBillingRuns'), await f.create('recurringBillingRuns')];
    for (let i = 0; i < 3; i++) await createIn('lookup', minimalRun({ name: `r${i}`, recurring_billing_run_id: one!.id }), tok);
    await createIn('lookup', minimalRun({ name: 'other', recurring_billing_run_id: two!.id }), tok);
    await createIn('lookup', minimalRun({ name: 'none' }), tok);
    const res = await t.call({ method: 'GET', url: `/billingRuns/lookup/recurringBillingRun/${one!.id}?limit=2&fields=name`, auth: tok });
    assert.equal(res.statusCode, 200);
    const page = res.json();
    assert.equal(page.Count, 2);
    assert.deepEqual(
      page.Items.map((r: any) => r.name),
      ['r0', 'r1'],
    );
    const next = await t.call({
      method: 'GET',
      url: `/billingRuns/lookup/recurringBillingRun/${one!.id}?limit=2&exclusiveStartKey=${page.LastEvaluatedKey}`,
      auth: tok,
    });
    assert.deepEqual(
      next.json().Items.map((r: any) => r.name),
      ['r2'],
    );
    assert.equal(next.json().LastEvaluatedKey, undefined);
    const none = await t.call({ method: 'GET', url: '/billingRuns/lookup/recurringBillingRun/rbr-9', auth: tok });
    assert.deepEqual(none.json(), { Count: 0, Items: [] });
  });
});

describe('tenants', () => {
  test('records of one tenant are invisible to another', async () => {
    const a = await t.token({ tenants: ['ten-a'] });
    const b = await t.token({ tenants: ['ten-b'] });
    const rec = await createIn('ten-a', minimalRun({ name: 'secret' }), a);
    assert.equal((await t.call({ method: 'GET', url: `/billingRuns/ten-b/${rec.id}`, auth: b })).statusCode, 404);
    assert.equal((await t.call({ method: 'GET', url: `/billingRuns/ten-a/${rec.id}`, auth: b })).statusCode, 403);
    assert.equal((await t.call({ method: 'GET', url: '/billingRuns/ten-b', auth: b })).json().Count, 0);
    assert.equal(
      (await t.call({ method: 'POST', url: '/billingRuns/ten-b/search', payload: { ids: [rec.id] }, auth: b })).json().Items.length,
      0,
    );
    assert.equal((await t.call({ method: 'DELETE', url: `/billingRuns/ten-b/${rec.id}`, auth: b })).statusCode, 404);
    assert.equal(
      (
        await t.call({
          method: 'PATCH',
          url: `/billingRuns/ten-b/${rec.id}`,
          payload: [{ op: 'replace', path: '/name', value: 'x' }],
          auth: b,
        })
      ).statusCode,
      404,
    );
    assert.equal((await t.call({ method: 'GET', url: `/billingRuns/ten-a/${rec.id}`, auth: a })).json().name, 'secret');
  });
});
