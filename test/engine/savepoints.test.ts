import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openStore } from '../../src/store/store.js';
import { asTenant } from '../../src/store/tenant-scope.js';
import { inSavepoint, Savepoint } from '../../src/store/savepoints.js';
import { freshDatabase } from '../helpers.js';

/**
 * store/savepoints.ts, on the test back end: work undone to a savepoint goes, the rest of the
 * transaction commits; a kept savepoint released lazily (the billing chunk's way) keeps its work.
 */
test('savepoints: kept work commits, undone work goes, and the transaction goes on', async () => {
  const db = await freshDatabase();
  const store = await openStore(db.url);
  try {
    await sql`create table sp_rows (n integer not null)`.execute(store.db);
    const insert = (trx: typeof store.db, n: number) => sql`insert into sp_rows (n) values (${n})`.execute(trx);
    const out = await asTenant('*', () =>
      store.transaction(async (trx) => {
        const kept = await inSavepoint(trx, store.dialect, 'sp_test', () => insert(trx, 1).then(() => 'kept'));
        await assert.rejects(
          inSavepoint(trx, store.dialect, 'sp_test', async () => {
            await insert(trx, 2);
            throw new Error('refused after the insert');
          }),
          /refused after the insert/,
        );
        const refused = await inSavepoint(
          trx,
          store.dialect,
          'sp_test',
          () => insert(trx, 3).then(() => ({ success: false })),
          (r) => r.success,
        );
        // one savepoint name reopened for every item, every seventh undone (more than 64 on PostgreSQL)
        const chain = new Savepoint(trx, store.dialect, 'sp_chain');
        for (let n = 100; n < 170; n++) {
          await chain.open();
          await insert(trx, n);
          if (n % 7 === 0) await chain.undo();
          else chain.keep();
        }
        await insert(trx, 4);
        return { kept, refused };
      }),
    );
    assert.deepEqual(out, { kept: 'kept', refused: { success: false } });
    const { rows } = await sql<{ n: number }>`select n from sp_rows order by n`.execute(store.db);
    const expected = [1, 4];
    for (let n = 100; n < 170; n++) if (n % 7 !== 0) expected.push(n);
    assert.deepEqual(
      rows.map((r) => Number(r.n)),
      expected,
    );
  } finally {
    await store.close();
    await db.drop();
  }
});

test('a savepoint name must be a plain identifier (it is written into the SQL)', async () => {
  assert.throws(() => new Savepoint(undefined as never, 'sqlite', 'x; drop table y'), /not a plain identifier/);
});
