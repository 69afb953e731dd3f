import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { startApp, minimalRun, BACKEND, type TestApp } from '../helpers.js';
import { asSystem, asTenant } from '../../src/store/tenant-scope.js';

/**
 * PostgreSQL row-level security, the second wall behind the tenant_id condition of every query:
 * even SQL that forgets the tenant sees and changes only the rows of the request's tenant.
 * (SQLite has no row-level security; the first wall is tested on both in isolation.test.ts.)
 */
if (BACKEND === 'postgres') {
  let t: TestApp;
  before(async () => {
    t = await startApp();
    for (const tenant of ['acme', 'beta']) {
      const tok = await t.token({ tenants: [tenant] });
      for (let i = 0; i < 3; i++) {
        const res = await t.call({
          method: 'POST',
          url: `/billingRuns/${tenant}`,
          payload: minimalRun({ name: `${tenant}-${i}` }),
          auth: tok,
        });
        assert.equal(res.statusCode, 201, res.body);
      }
    }
  });
  after(() => t.close());

  const countAll = () => sql<{ n: number }>`select count(*)::int as n from billing_runs`.execute(t.store.db).then((r) => r.rows[0]!.n);

  test('the server runs as an ordinary role, so the policies apply to it', async () => {
    const { rows } = await sql<{ su: boolean }>`select rolsuper as su from pg_roles where rolname = current_user`.execute(t.store.db);
    assert.equal(rows[0]!.su, false);
  });

  test('a query without a tenant condition sees only the scope tenant; outside any scope, nothing', async () => {
    assert.equal(await asTenant('acme', countAll), 3);
    assert.equal(await asTenant('beta', countAll), 3);
    assert.equal(await asTenant('nobody', countAll), 0);
    assert.equal(await countAll(), 0);
    assert.equal(await asSystem(countAll), 6, 'control: the rows are there');
  });

  test("a write into another tenant's rows is refused or touches nothing", async () => {
    const updated = await asTenant('acme', () =>
      sql`update billing_runs set sys_version = sys_version + 100 where tenant_id = 'beta'`.execute(t.store.db),
    );
    assert.equal(Number(updated.numAffectedRows ?? 0), 0);
    await assert.rejects(
      asTenant('acme', () =>
        sql`insert into billing_runs (tenant_id, id, sys_version, data) values ('beta', 'forged', 1, '{}')`.execute(t.store.db),
      ),
      /row-level security/,
    );
    const deleted = await asTenant('acme', () => sql`delete from refs where tenant_id = 'beta'`.execute(t.store.db));
    assert.equal(Number(deleted.numAffectedRows ?? 0), 0);
    assert.equal(await asTenant('beta', countAll), 3);
  });
}
