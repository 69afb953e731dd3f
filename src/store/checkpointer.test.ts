import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openStore } from './store.js';
import { logCheckpointerTo, startCheckpointer } from './checkpointer.js';

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

test('a checkpoint that fails is logged with its file and error, not swallowed; so is a thread that cannot start', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'accredit-checkpoint-fail-'));
  const seen: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  logCheckpointerTo((level, obj, msg) => seen.push({ level, obj, msg }));
  const notADb = path.join(dir, 'not-a-db');
  fs.writeFileSync(notADb, 'plain text, not a SQLite database '.repeat(10));
  const failing = startCheckpointer(notADb, 20, 0);
  try {
    for (let waited = 0; !seen.length && waited < 20_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    assert.equal(seen.length >= 1, true, 'a failure is reported');
    assert.equal(seen[0]!.level, 'error');
    assert.equal(seen[0]!.obj.file, notADb);
    assert.equal(seen[0]!.obj.code, 'SQLITE_NOTADB');
    assert.equal(seen[0]!.obj.failures, 1);
    assert.match(seen[0]!.msg, /WAL checkpoint of .*not-a-db failed \(1 in a row\); the writer checkpoints itself/);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(seen.length, 1, 'failures in a row are reported once (then once a minute)');
  } finally {
    await failing.stop();
  }
  seen.length = 0;
  const unopenable = startCheckpointer(path.join(dir, 'no', 'such', 'dir', 'x.db'), 20, 0);
  try {
    for (let waited = 0; !seen.length && waited < 20_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    assert.equal(seen[0]?.level, 'error');
    assert.match(seen[0]!.msg, /checkpointer thread of .*x\.db stopped/);
    assert.ok(seen[0]!.obj.err, 'the error is named');
  } finally {
    await unopenable.stop();
    logCheckpointerTo(undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
