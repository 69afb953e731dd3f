import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { startApp, type TestApp } from '../helpers.js';
import { Factory } from '../factory.js';
import { load, allErrors, listAll } from '../bulk/util.js';
import type { Clock } from '../../src/core/clock.js';
import { migrate, MigrationRefused } from '../../src/store/migrate.js';
import { tableSpecs } from '../../src/resources/index.js';
import { asSystem, asTenant } from '../../src/store/tenant-scope.js';

/**
 * Certificate numbers are unique within a programme (per tenant): every write path refuses a second
 * holder of a number with a 409 naming `number` and the programme (never the other holder), the
 * counter of activations and transfers skips numbers already taken, and a migration over a database
 * that holds duplicates stops with their list and changes nothing.
 */
let t: TestApp;
let f: Factory;
const now = new Date('2026-01-15T10:00:00Z');
const clock: Clock = { now: () => now };
type R = Record<string, any>;

let program: R, program2: R, ruleSet: R;
const processes: Record<string, R> = {};

const call = async (method: string, url: string, payload?: unknown, status = 200): Promise<R> => {
  const res = await t.call({ method: method as any, url, payload: payload as any, auth: t.admin });
  assert.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
  return res.json();
};
const cert = (number: number, over: R = {}) => ({
  number,
  contact_id: `holder-of-${number}`,
  program_id: program.id,
  status: 'active',
  name: `Secret Holder ${number}`,
  email_address: `holder${number}@example.org`,
  ...over,
});
const create = (number: number, over: R = {}) => call('POST', '/certifications/acme', cert(number, over), 201);

/** The 409 of a clash: names the field and the programme, and nothing of the other holder. */
function assertClash(body: R, number: number, programId: string, field = 'number', holder?: R) {
  assert.equal(body.code, 'conflict', JSON.stringify(body));
  assert.equal(body.errors?.[0]?.field, field, JSON.stringify(body));
  const text = JSON.stringify(body);
  assert.match(body.message, new RegExp(`^number ${number} is already taken for program_id ${programId}`));
  assert.match(body.errors[0].reason, new RegExp(`program_id ${programId}`));
  if (holder) {
    for (const secret of [holder.id, holder.name, holder.contact_id, holder.email_address])
      assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
  }
}

before(async () => {
  t = await startApp({ clock });
  f = new Factory(t, t.admin);
  ruleSet = await f.oneYearRuleSet();
  program = await f.create('programs', { name: 'Registered Nurse', expiration_rule_set_id: ruleSet.id, next_certification_number: 1000 });
  program2 = await f.create('programs', {
    name: 'Nurse Practitioner',
    expiration_rule_set_id: ruleSet.id,
    next_certification_number: 5000,
  });
  for (const type of ['certification', 'transfer']) {
    processes[type] = await f.create('applicationProcesses', { name: type, type, program_id: program.id, auto_approve: true });
  }
});
after(() => t.close());

describe('every write path refuses a number already held in the programme', () => {
  test('create: 409 naming number and the programme; the same number in another programme or tenant is fine', async () => {
    const holder = await create(100);
    const res = await t.call({ method: 'POST', url: '/certifications/acme', payload: cert(100, { name: 'Other' }) });
    assert.equal(res.statusCode, 409, res.body);
    assertClash(res.json(), 100, program.id, 'number', holder);
    await create(100, { program_id: program2.id });
    const otherTenant = await t.token({ tenants: ['globex'] });
    const p = (await t.call({ method: 'POST', url: '/programs/globex', payload: { name: 'RN' }, auth: otherTenant })).json();
    const res2 = await t.call({
      method: 'POST',
      url: '/certifications/globex',
      payload: cert(100, { program_id: p.id }),
      auth: otherTenant,
    });
    assert.equal(res2.statusCode, 201, res2.body);
    const found = await call('POST', '/certifications/acme/search', { program_id: [program.id], number: [100] });
    assert.deepEqual(
      found.Items.map((c: R) => c.id),
      [holder.id],
      'one holder of the number',
    );
  });

  test('PUT: to a held number, or moving to a programme where the number is held, is a 409 and changes nothing', async () => {
    const holder = await create(110);
    const mine = await create(111);
    const res = await t.call({
      method: 'PUT',
      url: `/certifications/acme/${mine.id}`,
      payload: cert(110, { contact_id: mine.contact_id, name: mine.name }),
      auth: t.admin,
    });
    assert.equal(res.statusCode, 409, res.body);
    assertClash(res.json(), 110, program.id, 'number', holder);
    await create(111, { program_id: program2.id });
    const move = await t.call({
      method: 'PUT',
      url: `/certifications/acme/${mine.id}`,
      payload: cert(111, { program_id: program2.id }),
      auth: t.admin,
    });
    assert.equal(move.statusCode, 409, move.body);
    assertClash(move.json(), 111, program2.id);
    const now = await call('GET', `/certifications/acme/${mine.id}`);
    assert.deepEqual([now.number, now.program_id, now.sys_version], [111, program.id, 1]);
    // its own number, unchanged, is no clash
    await call('PUT', `/certifications/acme/${mine.id}`, cert(111, { status: 'suspended' }));
  });

  test('PATCH: replacing the number by a held one is a 409 and changes nothing', async () => {
    const holder = await create(120);
    const mine = await create(121);
    const res = await t.call({
      method: 'PATCH',
      url: `/certifications/acme/${mine.id}`,
      payload: [{ op: 'replace', path: '/number', value: 120 }],
      auth: t.admin,
    });
    assert.equal(res.statusCode, 409, res.body);
    assertClash(res.json(), 120, program.id, 'number', holder);
    assert.equal((await call('GET', `/certifications/acme/${mine.id}`)).number, 121);
    const free = await call('PATCH', `/certifications/acme/${mine.id}`, [{ op: 'replace', path: '/number', value: 122 }]);
    assert.equal(free.number, 122);
  });

  test('batch: the clashing operations fail (409 naming operations.N.object.number), the others are written', async () => {
    const holder = await create(130);
    const mine = await create(131);
    const res = await call('POST', '/certifications/acme/batch', {
      operations: [
        { operation: 'create', object: cert(132) },
        { operation: 'create', object: cert(130) }, // held before the batch
        { operation: 'create', object: cert(133) },
        { operation: 'create', object: cert(133) }, // held by an earlier operation of the batch
        { operation: 'update', id: mine.id, object: cert(130) },
        { operation: 'patch', id: mine.id, patch_directives: [{ op: 'replace', path: '/number', value: 132 }] },
        { operation: 'create', object: cert(134) },
      ],
    });
    assert.deepEqual(
      res.results.map((r: R) => r.status),
      [201, 409, 201, 409, 409, 409, 201],
    );
    assert.deepEqual([res.success_count, res.error_count], [3, 4]);
    assertClash(res.results[1].error, 130, program.id, 'operations.1.object.number', holder);
    assertClash(res.results[3].error, 133, program.id, 'operations.3.object.number');
    assertClash(res.results[4].error, 130, program.id, 'operations.4.object.number', holder);
    assert.match(res.results[5].error.errors[0].field, /number$/);
    const held = await call('POST', '/certifications/acme/search', { program_id: [program.id], number: [130, 131, 132, 133, 134] });
    assert.deepEqual(held.Items.map((c: R) => c.number).sort(), [130, 131, 132, 133, 134]);
  });

  test('bulk load: a row that repeats a held number, or one of an earlier row, is rejected with the reason; the rest is written', async () => {
    const holder = await create(140);
    const row = (ext: string, number: number) =>
      JSON.stringify({ sys_external_id: ext, ...cert(number, { contact_id: `loaded-${ext}`, name: `Loaded ${ext}` }) });
    const done = await load(
      t,
      'acme',
      'certifications',
      [row('L1', 141), row('L2', 140), row('L3', 142), row('L4', 141), row('L5', 143)].join('\n'),
      { type: 'application/x-ndjson' },
    );
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.deepEqual([done.rows_read, done.rows_written, done.rows_rejected], [5, 3, 2]);
    const errors = await allErrors(t, 'acme', done.id);
    assert.deepEqual(
      errors.map((e) => [e.row, e.errors[0]!.field]),
      [
        [2, 'number'],
        [4, 'number'],
      ],
    );
    assert.equal(
      errors[0]!.errors[0]!.reason,
      `is already taken for program_id ${program.id} (certificate numbers are unique within a program)`,
    );
    assert.ok(!JSON.stringify(errors).includes(holder.id));
    const loaded = (await listAll(t, 'acme', 'certifications')).filter((c) => c.sys_bulk_load_id === done.id);
    assert.deepEqual(
      loaded.map((c) => [c.sys_external_id, c.number]),
      [
        ['L1', 141],
        ['L3', 142],
        ['L5', 143],
      ],
    );
  });
});

describe('activation and transfer take the next free number', () => {
  const approved = async (type: string, owner: string, body: R = {}) => {
    const app = await call(
      'POST',
      `/applications/acme/generateApplication/${processes[type]!.id}/contact/${owner}`,
      { name: `Applicant ${owner}`, ...body },
      201,
    );
    assert.equal((await call('POST', `/applications/acme/submit/${app.id}`)).status, 'approved');
    return app;
  };
  const activateApp = async (app: R) => (await call('POST', `/applications/acme/activate/${app.id}`)).certification as R;
  const activate = async (type: string, owner: string, body: R = {}) => activateApp(await approved(type, owner, body));

  test('numbers set by hand are skipped: 1000, 1001 and 1003 held, activations issue 1002 then 1004', async () => {
    for (const n of [1000, 1001, 1003]) await create(n);
    assert.equal((await activate('certification', 'a-1')).number, 1002);
    assert.equal((await activate('certification', 'a-2')).number, 1004);
    await create(1005);
    assert.equal((await activate('certification', 'a-3')).number, 1006);
    const numbers = (
      await call('POST', '/certifications/acme/search', { program_id: [program.id], number: [1000, 1001, 1002, 1003, 1004, 1005, 1006] })
    ).Items;
    assert.equal(numbers.length, 7, 'each number once');
  });

  test('a transfer into a programme whose next number is held takes the one after', async () => {
    await create(5000, { program_id: program2.id });
    await create(5001, { program_id: program2.id });
    const from = await activate('certification', 't-1');
    const moved = await activate('transfer', 't-1', { certification_id: from.id, target_program_id: program2.id });
    assert.equal(moved.program_id, program2.id);
    assert.equal(moved.number, 5002);
  });

  test('a number given by a concurrent write while an activation runs is not issued twice', async () => {
    // the counter's next number (the highest held + 1, all others being held); a transaction gives it to a record and holds, uncommitted,
    // while an activation takes the counter's next number: on PostgreSQL the activation's insert
    // waits on the unique index and, once the other commits, takes the next free number; on SQLite
    // the writers are serialized and the activation sees the record.
    const app = await approved('certification', 'race-1');
    const inProgram = (await call('POST', '/certifications/acme/search?limit=1000', { program_id: [program.id] })).Items.map(
      (c: R) => c.number as number,
    ).filter((n: number) => n >= 1000);
    const next = Math.max(...inProgram) + 1;
    const certs = t.app.services.resource('certifications');
    const ctx = {
      tenantId: 'acme',
      actor: { sub: 'tester', tenants: ['acme'], scopes: new Set(['certifications:admin']) },
      requestId: 'r',
    } as any;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let inserted!: () => void;
    const insertedP = new Promise<void>((r) => (inserted = r));
    const holder = asTenant('acme', () =>
      t.store.transaction(async (trx) => {
        await certs.create(ctx, cert(next), trx);
        inserted();
        await gate;
      }),
    );
    await insertedP;
    const activation = activateApp(app);
    await new Promise((r) => setTimeout(r, 500));
    release();
    await holder;
    const got = await activation;
    assert.equal(got.number, next + 1);
    const held = (await call('POST', '/certifications/acme/search', { program_id: [program.id], number: [next, next + 1] })).Items;
    assert.equal(held.length, 2);
  });
});

describe('a database that already holds duplicates', () => {
  test('the migration stops with the list (tenant, programme, number, ids) and changes nothing; once resolved it runs', async () => {
    const spec = tableSpecs().find((s) => s.name === 'certifications')!;
    const index = spec.unique![0]!.name;
    const a = await create(200);
    const b = await create(201);
    const c = await create(202);
    const pg = t.store.dialect === 'postgres';
    const indexExists = async () =>
      (pg
        ? await sql`select 1 from pg_indexes where indexname = ${index}`.execute(t.store.db)
        : await sql`select 1 from sqlite_master where type = 'index' and name = ${index}`.execute(t.store.db)
      ).rows.length > 0;
    const migrations = () => asSystem(() => t.store.db.selectFrom('accredit_migrations').selectAll().orderBy('id').execute());
    // the schema of the release before: no unique index, resource tables last synced from other specs
    await asSystem(async () => {
      await sql`drop index ${sql.ref(index)}`.execute(t.store.db);
      await t.store.db.updateTable('accredit_migrations').set({ name: 'specs of the previous release' }).where('id', '=', 0).execute();
      // b and c take a's number, as the previous release allowed
      for (const id of [b.id, c.id]) {
        const data = pg ? sql`jsonb_set(data, '{number}', '200')` : sql`json_set(data, '$.number', 200)`;
        await sql`update certifications set f_number = 200, data = ${data} where tenant_id = 'acme' and id = ${id}`.execute(t.store.db);
      }
    });
    const before = await migrations();
    await assert.rejects(migrate(t.store, tableSpecs()), (e: unknown) => {
      assert.ok(e instanceof MigrationRefused, String(e));
      assert.deepEqual(e.clashes, [
        { table: 'certifications', tenant_id: 'acme', values: { program_id: program.id, number: 200 }, ids: [a.id, b.id, c.id].sort() },
      ]);
      assert.match(e.message, /nothing was changed/);
      assert.ok(
        e.message.includes(`tenant acme, program_id ${program.id}, number 200: ids ${[a.id, b.id, c.id].sort().join(', ')}`),
        e.message,
      );
      assert.match(e.message, /docs\/programmes\.md/);
      return true;
    });
    assert.deepEqual(await migrations(), before, 'no migration recorded');
    assert.equal(await indexExists(), false, 'no index created');

    // resolved as the documentation says: renumber all but one, then migrate again
    await call('PATCH', `/certifications/acme/${b.id}`, [{ op: 'replace', path: '/number', value: 201 }]);
    await call('PATCH', `/certifications/acme/${c.id}`, [{ op: 'replace', path: '/number', value: 202 }]);
    await migrate(t.store, tableSpecs());
    assert.equal(await indexExists(), true);
    const res = await t.call({ method: 'POST', url: '/certifications/acme', payload: cert(200), auth: t.admin });
    assert.equal(res.statusCode, 409, res.body);
  });
});
