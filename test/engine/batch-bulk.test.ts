import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, type TestApp } from '../helpers.js';
import { sql } from 'kysely';
import { asTenant } from '../../src/store/tenant-scope.js';

/**
 * Consecutive creates of a batch are checked one by one and written together (multi-row INSERTs of
 * records, reference-index rows and history). Whatever the path, each operation must get exactly the
 * result, and leave exactly the records, history and references, that the same create sent on its own
 * gets and leaves. Certifications have references, history and a domain rule: every part is used.
 */
let t: TestApp;
let program: string;
let otherProgram: string;
before(async () => {
  t = await startApp();
  program = (await t.call({ method: 'POST', url: '/programs/acme', payload: { name: 'Registered Nurse' } })).json().id;
  otherProgram = (await t.call({ method: 'POST', url: '/programs/acme', payload: { name: 'Critical Care' } })).json().id;
});
after(() => t.close());

const cert = (n: number, over: Record<string, unknown> = {}) => ({
  number: n,
  contact_id: `contact-${n % BATCH_BASE}`,
  program_id: n % 2 ? program : otherProgram,
  status: 'active',
  name: `Holder ${n % BATCH_BASE}`,
  expiration_date: '2027-06-30',
  ...over,
});

/** 40 creates: valid ones, and every kind of refusal, interleaved (numbers are unique per programme: batch ones are 1000 up). */
const BATCH_BASE = 1000;
function bodies(tag: string): unknown[] {
  return Array.from({ length: 40 }, (_, i) => {
    const n = i + 1 + (tag === 'batch' ? BATCH_BASE : 0);
    if (i % 10 === 3) return cert(n, { certificate_name: tag, program_id: 'no-such-program' }); // reference
    if (i % 10 === 5) return cert(n, { certificate_name: tag, status: 'dormant' }); // enum
    if (i % 10 === 7) return { certificate_name: tag, name: 'no number' }; // required fields
    if (i % 10 === 9) return cert(n, { certificate_name: tag, owner_type: 'organization' }); // conditional required
    return cert(n, { certificate_name: tag });
  });
}

/** A result without what differs between two runs by construction (ids, times). */
const shape = (status: number, error: any, record: any) => ({
  status,
  code: error?.code,
  message: error?.message?.replace(/operations\.\d+\.object\./g, ''),
  fields: (error?.errors ?? []).map((e: any) => `${String(e.field).replace(/^operations\.\d+\.object\./, '')}: ${e.reason}`),
  number: record ? record.number % BATCH_BASE : undefined,
});

test('a run of creates in a batch gives each operation the result, records, history and references of a single create', async () => {
  const singles = [];
  for (const body of bodies('single')) {
    const res = await t.call({ method: 'POST', url: '/certifications/acme', payload: body as object });
    singles.push(res.statusCode < 300 ? shape(res.statusCode, undefined, res.json()) : shape(res.statusCode, res.json(), undefined));
  }
  const res = await t.call({
    method: 'POST',
    url: '/certifications/acme/batch',
    payload: { operations: bodies('batch').map((object) => ({ operation: 'create', object })) },
  });
  assert.equal(res.statusCode, 200, res.body);
  const out = res.json();
  assert.equal(out.results.length, 40);
  assert.deepEqual(
    out.results.map((r: any) => r.index),
    [...Array(40).keys()],
    'results in operation order',
  );
  assert.deepEqual(
    out.results.map((r: any) => shape(r.status, r.error, r.object)),
    singles,
  );
  assert.equal(out.success_count, 24);
  assert.equal(out.error_count, 16);
  for (const r of out.results.filter((x: any) => !x.success)) {
    assert.match(r.error.errors[0].field, new RegExp(`^operations\\.${r.index}\\.`), 'errors name the operation');
  }

  // the stored records are those a single create stores (ids and times aside)
  const strip = ({ id, sys_created_at, sys_last_modified_at, sys_last_security_context, certificate_name, number, ...rest }: any) => ({
    ...rest,
    number: number % BATCH_BASE,
  });
  const page = async (name: string) =>
    (await t.call({ method: 'POST', url: '/certifications/acme/search?limit=1000', payload: {} }))
      .json()
      .Items.filter((c: any) => c.certificate_name === name)
      .sort((a: any, b: any) => a.number - b.number);
  const single = await page('single');
  const batched = await page('batch');
  assert.equal(batched.length, 24);
  assert.deepEqual(batched.map(strip), single.map(strip));
  for (const r of out.results.filter((x: any) => x.success)) {
    const got = (await t.call({ method: 'GET', url: `/certifications/acme/${r.id}` })).json();
    assert.deepEqual(got, r.object, 'the answered object is the stored one');
  }

  // history: one creation entry each, like a single create's
  const history = async (id: string) => (await t.call({ method: 'GET', url: `/certifications/acme/history/${id}` })).json().Items;
  const hs = await history(single[0].id);
  const hb = await history(batched[0].id);
  assert.equal(hb.length, 1);
  const changes = (h: any) => [h.via, { ...h.changes, number: [null, h.changes.number[1] % BATCH_BASE] }];
  assert.deepEqual(hb.map(changes), hs.map(changes));

  // references: the program cannot be deleted, and the refusal names the batched certifications too
  const del = await t.call({ method: 'DELETE', url: `/programs/acme/${otherProgram}` });
  assert.equal(del.statusCode, 409);
  assert.ok(del.json().referenced_by.length >= 1);
  // (in the tenant's scope: on PostgreSQL row-level security shows no rows outside it)
  const referrers = await asTenant('acme', () =>
    t.store.db
      .selectFrom('refs')
      .select(['source_id', 'field'])
      .where('tenant_id', '=', 'acme')
      .where('target_id', 'in', [program, otherProgram])
      .execute(),
  );
  const ids = new Set(referrers.map((r) => r.source_id));
  for (const c of [...single, ...batched]) assert.ok(ids.has(c.id), `refs row for ${c.number}`);
});

test('creates around other operations keep their order: an update between two runs sees the first run', async () => {
  const first = await t.call({
    method: 'POST',
    url: '/certifications/acme/batch',
    payload: {
      operations: [
        { operation: 'create', object: cert(901) },
        { operation: 'create', object: cert(902) },
      ],
    },
  });
  const [a] = first.json().results;
  const res = await t.call({
    method: 'POST',
    url: '/certifications/acme/batch',
    payload: {
      operations: [
        { operation: 'create', object: cert(903) },
        { operation: 'create', object: cert(904, { program_id: 'gone' }) },
        { operation: 'patch', id: a.id, patch_directives: [{ op: 'replace', path: '/status', value: 'suspended' }] },
        { operation: 'delete', id: a.id },
        { operation: 'create', object: cert(905) },
        { operation: 'create', object: cert(906) },
      ],
    },
  });
  const out = res.json();
  assert.deepEqual(
    out.results.map((r: any) => [r.index, r.operation, r.status]),
    [
      [0, 'create', 201],
      [1, 'create', 400],
      [2, 'patch', 200],
      [3, 'delete', 200],
      [4, 'create', 201],
      [5, 'create', 201],
    ],
  );
  assert.equal(out.results[1].error.errors[0].field, 'operations.1.object.program_id');
  assert.equal((await t.call({ method: 'GET', url: `/certifications/acme/${a.id}` })).statusCode, 404);
  for (const i of [0, 4, 5])
    assert.equal((await t.call({ method: 'GET', url: `/certifications/acme/${out.results[i].id}` })).statusCode, 200);
});

test('should the multi-row write itself fail, the run is redone one by one; an internal failure there fails the whole batch and leaves nothing', async () => {
  // a failure no check foresees, made by the database itself: a trigger refusing one record. The
  // multi-row INSERT fails, the run is rolled back to its savepoint and redone one create at a time;
  // the first succeeds, the second fails with an error that is nobody's input (a 500), which undoes
  // the whole batch: no record, history or reference of any of the three is left.
  const pg = t.store.dialect === 'postgres';
  const create = pg
    ? [
        `create function refuse_boom() returns trigger language plpgsql as $$ begin if new.data->>'certificate_name' = 'boom' then raise exception 'refused by a trigger'; end if; return new; end $$`,
        `create trigger refuse_boom before insert on certifications for each row execute function refuse_boom()`,
      ]
    : [
        `create trigger refuse_boom before insert on certifications when new.data like '%"certificate_name":"boom"%' begin select raise(abort, 'refused by a trigger'); end`,
      ];
  const drop = pg ? ['drop trigger refuse_boom on certifications', 'drop function refuse_boom()'] : ['drop trigger refuse_boom'];
  const rowCounts = () =>
    asTenant('acme', async () => ({
      history: (
        await t.store.db
          .selectFrom('history')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('tenant_id', '=', 'acme')
          .executeTakeFirstOrThrow()
      ).n,
      refs: (
        await t.store.db
          .selectFrom('refs')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('tenant_id', '=', 'acme')
          .executeTakeFirstOrThrow()
      ).n,
    }));
  const before = await rowCounts();
  for (const s of create) await sql.raw(s).execute(t.store.db);
  let res: any;
  try {
    res = await t.call({
      method: 'POST',
      url: '/certifications/acme/batch',
      payload: {
        operations: [
          cert(951, { certificate_name: 'fallback' }),
          cert(952, { certificate_name: 'boom' }),
          cert(953, { certificate_name: 'fallback' }),
        ].map((object) => ({ operation: 'create', object })),
      },
    });
  } finally {
    for (const s of drop) await sql.raw(s).execute(t.store.db);
  }
  assert.equal(res.statusCode, 500, res.body);
  assert.equal(res.json().code, 'internal');
  assert.doesNotMatch(res.body, /trigger/, "the database's message is not shown to the client");
  const found = (await t.call({ method: 'POST', url: '/certifications/acme/search?limit=1000', payload: {} })).json().Items;
  assert.deepEqual(
    found.filter((c: any) => c.number >= 951 && c.number <= 953),
    [],
  );
  assert.deepEqual(await rowCounts(), before, 'no history or reference row was left');

  // and without the trigger, the same batch goes through whole
  const again = await t.call({
    method: 'POST',
    url: '/certifications/acme/batch',
    payload: {
      operations: [cert(951), cert(952, { certificate_name: 'boom' }), cert(953)].map((object) => ({ operation: 'create', object })),
    },
  });
  assert.equal(again.json().success_count, 3);
});

test('should the multi-row write hit a conflict only the database sees, the run is redone one by one and only that create fails', async () => {
  // a unique index the definitions do not know: a second certificate_name "dup" is refused by the database
  const pg = t.store.dialect === 'postgres';
  await sql
    .raw(
      pg
        ? `create unique index dup_unique on certifications (tenant_id, (data->>'certificate_name')) where data->>'certificate_name' = 'dup'`
        : `create unique index dup_unique on certifications (tenant_id, json_extract(data, '$.certificate_name')) where json_extract(data, '$.certificate_name') = 'dup'`,
    )
    .execute(t.store.db);
  let out: any;
  try {
    assert.equal(
      (await t.call({ method: 'POST', url: '/certifications/acme', payload: cert(960, { certificate_name: 'dup' }) })).statusCode,
      201,
    );
    const res = await t.call({
      method: 'POST',
      url: '/certifications/acme/batch',
      payload: {
        operations: [
          cert(961, { certificate_name: 'one by one' }),
          cert(962, { certificate_name: 'dup' }),
          cert(963, { certificate_name: 'one by one' }),
        ].map((object) => ({ operation: 'create', object })),
      },
    });
    assert.equal(res.statusCode, 200, res.body);
    out = res.json();
  } finally {
    await sql.raw('drop index dup_unique').execute(t.store.db);
  }
  assert.deepEqual(
    out.results.map((r: any) => [r.index, r.status]),
    [
      [0, 201],
      [1, 409],
      [2, 201],
    ],
  );
  assert.equal(out.results[1].error.code, 'conflict');
  for (const i of [0, 2]) {
    const id = out.results[i].id;
    assert.deepEqual((await t.call({ method: 'GET', url: `/certifications/acme/${id}` })).json(), out.results[i].object);
    assert.equal(
      (await t.call({ method: 'GET', url: `/certifications/acme/history/${id}` })).json().Items.length,
      1,
      'one history entry, not one per attempt',
    );
    const refs = await asTenant('acme', () =>
      t.store.db.selectFrom('refs').select('field').where('tenant_id', '=', 'acme').where('source_id', '=', id).execute(),
    );
    assert.deepEqual(
      refs.map((r) => r.field),
      ['program_id'],
    );
  }
  const found = (await t.call({ method: 'POST', url: '/certifications/acme/search?limit=1000', payload: {} })).json().Items;
  assert.deepEqual(
    found
      .filter((c: any) => c.number >= 961 && c.number <= 963)
      .map((c: any) => c.number)
      .sort(),
    [961, 963],
  );
});
