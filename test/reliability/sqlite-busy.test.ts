import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { BACKEND, startApp, type TestApp } from '../helpers.js';

/**
 * SQLite takes one writer at a time. With `serve --workers N` (or the CLI beside a server) another
 * process may hold the write lock; a write waits for it up to SQLITE_BUSY_TIMEOUT_MS and then answers
 * 429 with Retry-After and nothing written — never a 500. Reads go on meanwhile (WAL). Here the
 * other process is a second connection that holds the lock with BEGIN IMMEDIATE.
 */
const onSqlite = BACKEND === 'sqlite';

describe(`a write lock held by another process (${onSqlite ? 'sqlite' : 'SQLite only: PostgreSQL locks rows, not the database'})`, () => {
  let t: TestApp;
  let other: Database.Database | undefined;
  before(async () => {
    t = await startApp({ env: { SQLITE_BUSY_TIMEOUT_MS: '150' } });
  });
  after(async () => {
    other?.close();
    await t.close();
  });

  test('writes answer 429 with Retry-After while it is held, reads go on, and nothing is half-written', async () => {
    if (!onSqlite) return;
    const existing = await t.call({ method: 'POST', url: '/programGroups/acme', payload: { name: 'Before' } });
    assert.equal(existing.statusCode, 201);
    other = new Database(t.config.databaseUrl.slice('sqlite:'.length));
    other.prepare('begin immediate').run();
    try {
      const create = await t.call({ method: 'POST', url: '/programGroups/acme', payload: { name: 'While locked' } });
      assert.equal(create.statusCode, 429, create.body);
      assert.equal(create.headers['retry-after'], '1');
      assert.equal(create.json().code, 'too_many_requests');
      assert.match(create.json().message, /busy with other writes.*retry/);

      const batch = await t.call({
        method: 'POST',
        url: '/programGroups/acme/batch',
        payload: {
          operations: [
            { operation: 'create', object: { name: 'B1' } },
            { operation: 'create', object: { name: 'B2' } },
          ],
        },
      });
      assert.equal(batch.statusCode, 429, `a batch is one transaction: refused whole (${batch.body})`);

      const read = await t.call({ method: 'GET', url: `/programGroups/acme/${existing.json().id}` });
      assert.equal(read.statusCode, 200, 'reads are not blocked by a writer');
    } finally {
      other.prepare('rollback').run();
    }
    const list = await t.call({ method: 'GET', url: '/programGroups/acme' });
    assert.deepEqual(
      list.json().Items.map((g: { name: string }) => g.name),
      ['Before'],
      'nothing written while the lock was held',
    );
    const again = await t.call({ method: 'POST', url: '/programGroups/acme', payload: { name: 'After' } });
    assert.equal(again.statusCode, 201, 'once released, the same write succeeds');
  });
});
