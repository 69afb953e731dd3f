import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openStore } from './store.js';

/**
 * The WAL is copied into the database file by the checkpointer thread, not by commits: after ~8 MB of
 * writes (well under the writer's own 64 MB backstop) the database file grows within seconds (the thread starts 2 s after the store opens), while
 * the writer never checkpointed. Runs on a SQLite file whatever the test back end.
 */
test('a worker thread checkpoints the WAL into the database file; close() waits for it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'accredit-checkpoint-'));
  const file = path.join(dir, 'c.db');
  const store = await openStore(`sqlite:${file}`);
  try {
    await sql`create table blobs (id integer primary key, body text not null)`.execute(store.db);
    const before = fs.statSync(file).size;
    const body = 'x'.repeat(4000);
    for (let chunk = 0; chunk < 20; chunk++) {
      await store.transaction(async (trx) => {
        for (let i = 0; i < 100; i++) await sql`insert into blobs (body) values (${body})`.execute(trx);
      });
    }
    assert.ok(fs.statSync(`${file}-wal`).size > 7_000_000, 'the writes are in the WAL');
    let size = fs.statSync(file).size;
    for (let waited = 0; size < before + 7_000_000 && waited < 8000; waited += 50) {
      await new Promise((r) => setTimeout(r, 50));
      size = fs.statSync(file).size;
    }
    assert.ok(size >= before + 7_000_000, `the database file holds the pages (${before} -> ${size} bytes)`);
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
