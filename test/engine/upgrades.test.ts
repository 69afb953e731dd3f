import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { BACKEND, freshDatabase, TEST_SECRET, type TestDb } from '../helpers.js';
import { openMigrated, openStore } from '../../src/store/store.js';
import { migrate, SCHEMA_VERSION } from '../../src/store/migrate.js';
import { tableSpecs } from '../../src/resources/index.js';

/**
 * Upgrades an operator can trust (docs/upgrading.md): the schema version, the migrate / check / backup
 * commands and what the server says about its release. The commands run as real processes.
 */
const MAIN = path.resolve('src/main.ts');
const PACKAGE_VERSION: string = JSON.parse(fs.readFileSync('package.json', 'utf8')).version;

function cli(args: string[], env: Record<string, string>, timeout = 60_000) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'accredit-upg-'));
  try {
    return spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      env: { ...process.env, DATA_DIR: dataDir, JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1', ...env },
      encoding: 'utf8',
      timeout,
    });
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function migrated(url: string) {
  return openMigrated(
    { databaseUrl: url, databasePoolMode: 'session', pgPoolMax: 2, statementTimeoutMs: 0 },
    (s) => migrate(s, tableSpecs()),
  );
}

describe(`schema version (${BACKEND})`, () => {
  let db: TestDb;
  before(async () => {
    db = await freshDatabase();
  });
  after(async () => db.drop());

  test('an older release refuses to start on a newer schema, naming both versions, and changes nothing', async () => {
    const store = await migrated(db.url);
    // what a newer release would leave behind: a migration this one does not know
    const future = SCHEMA_VERSION + 5;
    await store.db.insertInto('accredit_migrations').values({ id: future, name: 'from_the_future', applied_at: new Date().toISOString() }).execute();
    const before = await store.db.selectFrom('accredit_migrations').selectAll().orderBy('id').execute();
    await store.close();

    const r = cli(['serve'], { DATABASE_URL: db.url });
    assert.notEqual(r.status, 0, `serve must not start: ${r.stdout}${r.stderr}`);
    assert.equal(r.error, undefined, 'it stops by itself (no timeout)');
    assert.match(r.stderr, new RegExp(`schema is version ${future}, newer than version ${SCHEMA_VERSION}`));

    const m = cli(['migrate'], { DATABASE_URL: db.url });
    assert.notEqual(m.status, 0);
    assert.match(m.stderr, new RegExp(`version ${future}.*version ${SCHEMA_VERSION}`));

    const again = await openStore(db.url, { pgPoolMax: 1 });
    try {
      assert.deepEqual(await again.db.selectFrom('accredit_migrations').selectAll().orderBy('id').execute(), before, 'nothing was changed');
    } finally {
      await again.close();
    }
  });
});

// keep `sql` in use for the tests below
void sql;
