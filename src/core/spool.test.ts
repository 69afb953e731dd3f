import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Spool } from './spool.js';

/** The spool between a query's read and its download: follows the fill, aborts it, leaves nothing. */
const tick = () => new Promise((r) => setTimeout(r, 1));
const collect = async (r: Readable) => {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
};

test('the reader follows the fill from the start and ends with it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-test-'));
  const spool = await Spool.open(dir);
  if (process.platform !== 'win32') assert.deepEqual(fs.readdirSync(dir), [], 'the file is unlinked at once');
  const parts = Array.from({ length: 200 }, (_, i) => `${i}:${'é'.repeat(i % 50)}|`);
  void spool.fill(
    (async function* () {
      for (const p of parts) {
        yield p.repeat(200); // enough to cross the write threshold several times
        if (Number(p.split(':')[0]) % 20 === 0) await tick();
      }
    })(),
  );
  await spool.ready();
  const text = await collect(spool.reader());
  assert.equal(text, parts.map((p) => p.repeat(200)).join(''));
  assert.equal(spool.size, Buffer.byteLength(text));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('destroying the reader stops the fill (the source is returned)', async () => {
  const spool = await Spool.open();
  let produced = 0;
  let returned = false;
  const done = spool.fill(
    (async function* () {
      try {
        for (;;) {
          produced++;
          yield 'x'.repeat(64 * 1024);
          await tick();
        }
      } finally {
        returned = true;
      }
    })(),
  );
  await spool.ready();
  const r = spool.reader();
  await new Promise<void>((resolve) => r.once('data', () => resolve()));
  r.destroy();
  await done;
  assert.ok(returned, 'the source was returned');
  const at = produced;
  await tick();
  assert.equal(produced, at, 'nothing more is produced');
  assert.ok(spool.error instanceof Error, 'an aborted fill is not complete');
});

test('a failure before any output rejects ready(); after some, it errors the reader', async () => {
  const early = await Spool.open();
  void early.fill(
    // biome-ignore lint/correctness/useYield: a query that fails before its first row
    (async function* (): AsyncGenerator<string> {
      throw new Error('no such column');
    })(),
  );
  await assert.rejects(early.ready(), /no such column/);
  await early.close();

  const late = await Spool.open();
  void late.fill(
    (async function* () {
      yield 'a'.repeat(300 * 1024);
      await tick();
      throw new Error('connection lost');
    })(),
  );
  await late.ready();
  await assert.rejects(collect(late.reader()), /connection lost/);
});
