import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';
import type { Clock } from '../../src/core/clock.js';

/**
 * CE requirements as boards write them: "24 contact hours in the cycle, of which 2 h medical errors,
 * 2 h laws and rules, 1 h HIV/AIDS" (applicationProcesses.credit_totals), through HTTP.
 */
let t: TestApp;
let f: Factory;
const clock: Clock = { now: () => new Date('2026-01-15T10:00:00Z') };

type R = Record<string, any>;
const call = async (method: string, url: string, payload?: unknown, status = 200): Promise<R> => {
  const res = await t.call({ method: method as any, url, payload: payload as any, auth: t.admin });
  assert.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
  return res.json();
};

let program: R;
/** Nursing CE with its topics as sub-types. */
const type: Record<string, string> = {};
let board: R;

before(async () => {
  t = await startApp({ clock });
  f = new Factory(t, t.admin);
  program = await f.create('programs', { name: 'Registered Nurse', next_certification_number: 1 });
  type.GEN = (await call('POST', '/creditTypes/acme', { name: 'Nursing CE', unit: 'hour' }, 201)).id;
  for (const [k, name] of [
    ['MED', 'Medical errors'],
    ['LAW', 'Laws and rules'],
    ['HIV', 'HIV/AIDS'],
  ] as const) {
    type[k] = (await call('POST', '/creditTypes/acme', { name, unit: 'hour', parent_credit_type_id: type.GEN }, 201)).id;
  }
  board = await call(
    'POST',
    '/applicationProcesses/acme',
    {
      name: 'RN renewal',
      type: 'certification',
      program_id: program.id,
      credit_totals: [
        {
          name: 'Contact hours',
          credit_type_ids: [type.GEN],
          quantity: 24,
          minimums: [
            { credit_type_id: type.MED, quantity: 2 },
            { credit_type_id: type.LAW, quantity: 2 },
            { credit_type_id: type.HIV, quantity: 1 },
          ],
        },
      ],
    },
    201,
  );
});
after(() => t.close());

const credit = async (owner: string, k: string, quantity: number, date = '2025-12-01') =>
  (await call(
    'POST',
    '/credits/acme',
    { contact_id: owner, type_id: type[k], origin: 'legacy system', quantity, status: 'verified', date },
    201,
  )) as R;
const generate = (owner: string, processId = board.id) =>
  call('POST', `/applications/acme/generateApplication/${processId}/contact/${owner}`, { name: owner }, 201);
const used = async (id: string) => (await call('GET', `/credits/acme/${id}`)).quantity_used as number;
const totalOf = (reqs: R) => reqs.requirements.find((r: R) => r.kind === 'credit_total');

describe('a total of 24 hours of which 2 medical errors, 2 laws and rules, 1 HIV/AIDS', () => {
  test('18 general + 3 medical errors + 2 laws + 1 HIV: met, and submit consumes exactly the 24 hours, each once', async () => {
    const g = await credit('n-1', 'GEN', 18, '2025-03-01');
    const m = await credit('n-1', 'MED', 3, '2025-04-01');
    const l = await credit('n-1', 'LAW', 2, '2025-05-01');
    const h = await credit('n-1', 'HIV', 1, '2025-06-01');
    const app = await generate('n-1');

    const reqs = await call('GET', `/applications/acme/requirements/${app.id}`);
    assert.equal(reqs.met, true);
    const total = totalOf(reqs);
    assert.deepEqual(
      { ...total, minimums: undefined },
      {
        kind: 'credit_total',
        index: 0,
        name: 'Contact hours',
        credit_type_ids: [type.GEN],
        required: 24,
        earned: 24,
        met: true,
        progress: 1,
        missing: 0,
        minimums: undefined,
      },
    );
    assert.deepEqual(total.minimums, [
      { credit_type_id: type.MED, required: 2, earned: 3, met: true, progress: 1, missing: 0 },
      { credit_type_id: type.LAW, required: 2, earned: 2, met: true, progress: 1, missing: 0 },
      { credit_type_id: type.HIV, required: 1, earned: 1, met: true, progress: 1, missing: 0 },
    ]);

    const submitted = await call('POST', `/applications/acme/submit/${app.id}`);
    assert.equal(submitted.status, 'pending approval');
    assert.deepEqual([await used(g.id), await used(m.id), await used(l.id), await used(h.id)], [18, 3, 2, 1]);
    const byCredit = new Map(submitted.credits.map((c: R) => [c.credit_id, c]));
    assert.equal(
      submitted.credits.reduce((s: number, c: R) => s + c.quantity, 0),
      24,
    );
    assert.deepEqual((byCredit.get(m.id) as R).counts_toward, [
      { requirement: '/credit_totals/0/minimums/0', quantity: 2 },
      { requirement: '/credit_totals/0', quantity: 1 },
    ]);
    assert.deepEqual((byCredit.get(h.id) as R).counts_toward, [{ requirement: '/credit_totals/0/minimums/2', quantity: 1 }]);
    assert.deepEqual((byCredit.get(g.id) as R).counts_toward, [{ requirement: '/credit_totals/0', quantity: 18 }]);

    // After submit the progress still shows it met: what it holds counts for it, not twice.
    const again = await call('GET', `/applications/acme/requirements/${app.id}`);
    assert.equal(again.met, true);
    assert.equal(totalOf(again).earned, 24);
  });

  test('22 general + 2 medical errors: 24 hours but not met; progress says 3 hours are missing (2 laws, 1 HIV) and nothing is consumed', async () => {
    const g = await credit('n-2', 'GEN', 22);
    const m = await credit('n-2', 'MED', 2);
    const app = await generate('n-2');
    const reqs = await call('GET', `/applications/acme/requirements/${app.id}`);
    assert.equal(reqs.met, false);
    const total = totalOf(reqs);
    assert.equal(total.met, false);
    assert.equal(total.earned, 24);
    assert.equal(total.missing, 3);
    assert.equal(total.progress, 0.875);
    assert.deepEqual(
      total.minimums.map((x: R) => [x.credit_type_id, x.earned, x.met, x.missing]),
      [
        [type.MED, 2, true, 0],
        [type.LAW, 0, false, 2],
        [type.HIV, 0, false, 1],
      ],
    );

    const submitted = await call('POST', `/applications/acme/submit/${app.id}`);
    assert.equal(submitted.status, 'missing requirements');
    assert.deepEqual([await used(g.id), await used(m.id)], [0, 0]);

    // The missing topics arrive: the resubmission takes 2 + 2 + 1 from the topics and 19 of the 22 general hours.
    const l = await credit('n-2', 'LAW', 2);
    const h = await credit('n-2', 'HIV', 1);
    assert.equal((await call('POST', `/applications/acme/submit/${app.id}`)).status, 'pending approval');
    assert.deepEqual([await used(g.id), await used(m.id), await used(l.id), await used(h.id)], [19, 2, 2, 1]);
    assert.equal((await call('GET', `/credits/acme/${g.id}`)).quantity_available, 3);
  });

  test('general hours never stand in for a topic; topic hours beyond their minimum count toward the total', async () => {
    await credit('n-3', 'GEN', 100);
    await credit('n-3', 'LAW', 2);
    await credit('n-3', 'HIV', 1);
    const short = await generate('n-3');
    assert.deepEqual(totalOf(await call('GET', `/applications/acme/requirements/${short.id}`)).minimums[0], {
      credit_type_id: type.MED,
      required: 2,
      earned: 0,
      met: false,
      progress: 0,
      missing: 2,
    });

    await credit('n-4', 'MED', 21);
    await credit('n-4', 'LAW', 2);
    await credit('n-4', 'HIV', 1);
    const topics = await generate('n-4');
    assert.equal((await call('POST', `/applications/acme/submit/${topics.id}`)).status, 'pending approval');
  });

  test('credits outside the cycle, unverified, or of another type do not count', async () => {
    await credit('n-5', 'GEN', 18);
    await credit('n-5', 'MED', 3);
    await credit('n-5', 'LAW', 2);
    await call(
      'POST',
      '/credits/acme',
      { contact_id: 'n-5', type_id: type.HIV, origin: 'legacy system', quantity: 1, status: 'submitted', date: '2025-12-01' },
      201,
    );
    await credit('n-5', 'HIV', 1, '2026-02-01'); // after the application's date
    const other = (await call('POST', '/creditTypes/acme', { name: 'Unrelated' }, 201)).id;
    await call(
      'POST',
      '/credits/acme',
      { contact_id: 'n-5', type_id: other, origin: 'legacy system', quantity: 50, status: 'verified', date: '2025-12-01' },
      201,
    );
    const app = await generate('n-5');
    const total = totalOf(await call('GET', `/applications/acme/requirements/${app.id}`));
    assert.equal(total.earned, 23);
    assert.equal(total.minimums[2].missing, 1);
    assert.equal((await call('POST', `/applications/acme/submit/${app.id}`)).status, 'missing requirements');
  });

  test('topics that are not sub-types count toward the total when they are its minimums', async () => {
    const flat = (await call('POST', '/creditTypes/acme', { name: 'Ethics (no parent)' }, 201)).id;
    const p = await call(
      'POST',
      '/applicationProcesses/acme',
      {
        name: 'Flat',
        type: 'certification',
        program_id: program.id,
        credit_totals: [{ credit_type_ids: [type.GEN], quantity: 4, minimums: [{ credit_type_id: flat, quantity: 1 }] }],
      },
      201,
    );
    await credit('n-6', 'GEN', 3);
    const e = await call(
      'POST',
      '/credits/acme',
      { contact_id: 'n-6', type_id: flat, origin: 'legacy system', quantity: 1, status: 'verified', date: '2025-12-01' },
      201,
    );
    const app = await generate('n-6', p.id);
    assert.equal((await call('POST', `/applications/acme/submit/${app.id}`)).status, 'pending approval');
    assert.equal(await used(e.id), 1);
  });

  test('withdrawing gives every hour back', async () => {
    const g = await credit('n-7', 'GEN', 19);
    const m = await credit('n-7', 'MED', 2);
    const l = await credit('n-7', 'LAW', 2);
    const h = await credit('n-7', 'HIV', 1);
    const app = await generate('n-7');
    assert.equal((await call('POST', `/applications/acme/submit/${app.id}`)).status, 'pending approval');
    await call('POST', `/applications/acme/withdraw/${app.id}`);
    assert.deepEqual([await used(g.id), await used(m.id), await used(l.id), await used(h.id)], [0, 0, 0, 0]);
  });
});

describe('bad definitions are refused, naming the field', () => {
  test('minimums that add up to more than the total: 400, nothing written', async () => {
    const res = await t.call({
      method: 'POST',
      url: '/applicationProcesses/acme',
      auth: t.admin,
      payload: {
        name: 'Too much',
        type: 'certification',
        program_id: program.id,
        credit_totals: [
          {
            credit_type_ids: [type.GEN],
            quantity: 4,
            minimums: [
              { credit_type_id: type.MED, quantity: 3 },
              { credit_type_id: type.LAW, quantity: 2 },
            ],
          },
        ],
      },
    });
    assert.equal(res.statusCode, 400, res.body);
    assert.deepEqual(
      res.json().errors.map((e: R) => e.field),
      ['credit_totals.0.minimums'],
    );
    assert.match(res.json().errors[0].reason, /add up to 5, more than the total's quantity 4/);
    const found = await call('POST', '/applicationProcesses/acme/search', { name: 'Too much' });
    assert.equal(found.Items.length, 0);
    const patched = await t.call({
      method: 'PATCH',
      url: `/applicationProcesses/acme/${board.id}`,
      auth: t.admin,
      payload: [{ op: 'replace', path: '/credit_totals/0/quantity', value: 4 }] as any,
    });
    assert.equal(patched.statusCode, 400, patched.body);
    assert.equal((await call('GET', `/applicationProcesses/acme/${board.id}`)).credit_totals[0].quantity, 24);
  });

  test('a total without credit types, or naming an unknown credit type: 400', async () => {
    for (const credit_totals of [
      [{ credit_type_ids: [], quantity: 4 }],
      [{ quantity: 4 }],
      [{ credit_type_ids: ['no-such-type'], quantity: 4 }],
      [{ credit_type_ids: [type.GEN], quantity: 4, minimums: [{ credit_type_id: 'no-such-type', quantity: 1 }] }],
    ]) {
      const res = await t.call({
        method: 'POST',
        url: '/applicationProcesses/acme',
        auth: t.admin,
        payload: { name: 'Bad', type: 'certification', program_id: program.id, credit_totals },
      });
      assert.equal(res.statusCode, 400, res.body);
      assert.match(JSON.stringify(res.json().errors), /credit_totals/);
    }
  });

  test('a credit type cannot be its own ancestor; a parent with sub-types cannot be deleted', async () => {
    const a = (await call('POST', '/creditTypes/acme', { name: 'A' }, 201)).id;
    const b = (await call('POST', '/creditTypes/acme', { name: 'B', parent_credit_type_id: a }, 201)).id;
    const c = (await call('POST', '/creditTypes/acme', { name: 'C', parent_credit_type_id: b }, 201)).id;
    for (const parent of [c, a]) {
      const res = await t.call({
        method: 'PATCH',
        url: `/creditTypes/acme/${a}`,
        auth: t.admin,
        payload: [{ op: 'add', path: '/parent_credit_type_id', value: parent }] as any,
      });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().errors[0].field, 'parent_credit_type_id');
      assert.match(res.json().errors[0].reason, /its own ancestor/);
    }
    assert.equal((await call('GET', `/creditTypes/acme/${a}`)).parent_credit_type_id, undefined);
    const del = await t.call({ method: 'DELETE', url: `/creditTypes/acme/${a}`, auth: t.admin });
    assert.equal(del.statusCode, 409, del.body);
  });
});

describe('under races', () => {
  test("concurrent submits of one person's applications never consume the same hour", async () => {
    const credits = [
      await credit('race', 'GEN', 18),
      await credit('race', 'MED', 3),
      await credit('race', 'LAW', 2),
      await credit('race', 'HIV', 1),
      await credit('race', 'GEN', 10, '2025-01-01'),
    ];
    const apps = [];
    for (let i = 0; i < 4; i++) apps.push(await generate('race'));
    const out = await Promise.all(apps.map((a) => call('POST', `/applications/acme/submit/${a.id}`)));
    assert.deepEqual(out.map((a) => a.status).sort(), [
      'missing requirements',
      'missing requirements',
      'missing requirements',
      'pending approval',
    ]);
    let total = 0;
    for (const c of credits) {
      const now = await call('GET', `/credits/acme/${c.id}`);
      assert.ok(now.quantity_used <= now.quantity, `${c.id} used ${now.quantity_used} of ${now.quantity}`);
      assert.equal(now.usages?.length ?? 0, now.quantity_used > 0 ? 1 : 0, 'one application holds it');
      total += now.quantity_used;
    }
    assert.equal(total, 24);
    const winner = out.find((a) => a.status === 'pending approval')!;
    assert.equal(
      winner.credits.reduce((s: number, c: R) => s + c.quantity, 0),
      24,
    );
  });

  test('two applications that could both be met by the general hours still compete for the topics', async () => {
    // 48 general hours but topics for one application only: exactly one wins, the other is told what is missing.
    const topics = [await credit('race-2', 'MED', 2), await credit('race-2', 'LAW', 2), await credit('race-2', 'HIV', 1)];
    await credit('race-2', 'GEN', 48);
    const [a, b] = [await generate('race-2'), await generate('race-2')];
    const out = await Promise.all([a, b].map((x) => call('POST', `/applications/acme/submit/${x.id}`)));
    assert.deepEqual(out.map((x) => x.status).sort(), ['missing requirements', 'pending approval']);
    for (const c of topics) assert.equal(await used(c.id), c.quantity);
    const loser = out.find((x) => x.status === 'missing requirements')!;
    const total = totalOf(await call('GET', `/applications/acme/requirements/${loser.id}`));
    assert.equal(total.missing, 5);
    assert.equal(total.earned, 29);
  });
});
