import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { BACKEND, freshDatabase, startApp, TEST_SECRET, type TestDb } from '../helpers.js';
import { openMigrated, openStore, type Store } from '../../src/store/store.js';
import Database from 'better-sqlite3';
import { call, killServer, startServer, tokenFor } from '../process.js';
import { RecordTable } from '../../src/store/records.js';
import { asTenant } from '../../src/store/tenant-scope.js';
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
  return openMigrated({ databaseUrl: url, databasePoolMode: 'session', pgPoolMax: 2, statementTimeoutMs: 0 }, (s) =>
    migrate(s, tableSpecs()),
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
    await store.db
      .insertInto('accredit_migrations')
      .values({ id: future, name: 'from_the_future', applied_at: new Date().toISOString() })
      .execute();
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

describe(`the release (${BACKEND})`, () => {
  test('accredit --version names the release (package.json, semver) and the schema version', () => {
    assert.match(PACKAGE_VERSION, /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    const r = cli(['--version'], {});
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), `accredit ${PACKAGE_VERSION} (schema version ${SCHEMA_VERSION})`);
  });

  test('/health/ready answers the release and the database schema version', async () => {
    const t = await startApp();
    try {
      const body = (await t.call({ method: 'GET', url: '/health/ready', auth: false })).json();
      assert.equal(body.release, PACKAGE_VERSION);
      assert.equal(body.schema_version, SCHEMA_VERSION);
      assert.equal((await t.call({ method: 'GET', url: '/openapi.json', auth: false })).json().info.version, PACKAGE_VERSION);
    } finally {
      await t.close();
    }
  });

  test('CHANGELOG.md has a section for this release, with its behaviour changes on existing data', () => {
    const log = fs.readFileSync('CHANGELOG.md', 'utf8');
    const section = log.split(/^## /m).find((s) => s.startsWith(`${PACKAGE_VERSION} `));
    assert.ok(section, `a "## ${PACKAGE_VERSION}" section`);
    assert.match(section, /### Behaviour changes on existing data/);
  });
});

describe(`accredit check (${BACKEND})`, () => {
  let db: TestDb;
  before(async () => {
    db = await freshDatabase();
  });
  after(async () => db.drop());

  test('lists the records an older release accepted and this one refuses, per resource with the reason; exit 3, 0 when none', async () => {
    const store = await migrated(db.url);
    try {
      const clean = cli(['check'], { DATABASE_URL: db.url });
      assert.equal(clean.status, 0, clean.stderr);
      assert.match(clean.stdout, /all 0 stored records pass the current definitions/);
      // as an older release stored it: a free-text schedule, straight into the table
      const table = new RecordTable(tableSpecs().find((s) => s.name === 'recurring_billing_runs')!, store.dialect);
      const record = {
        id: 'rbr-old',
        name: 'Quarterly',
        schedule: 'quarterly, first business day',
        pre_processing_lead_time: 1,
        sys_version: 1,
      };
      await asTenant('acme', () => store.transaction((trx) => table.insert(trx, 'acme', record)));
    } finally {
      await store.close();
    }
    const r = cli(['check'], { DATABASE_URL: db.url });
    assert.equal(r.status, 3, r.stderr);
    // a migration that changes the resource tables (new definitions) counts them too
    const again = await openStore(db.url, { pgPoolMax: 1 });
    await again.db.updateTable('accredit_migrations').set({ name: 'specs of an older release' }).where('id', '=', 0).execute();
    await again.close();
    const m = cli(['migrate'], { DATABASE_URL: db.url });
    assert.equal(m.status, 0, m.stderr);
    assert.match(m.stdout, /stored records this release's definitions refuse: recurringBillingRuns 1 \(accredit check lists them/);
    assert.match(r.stdout, /^recurringBillingRuns:\n {2}tenant acme, id rbr-old: schedule .+\n/m);
    assert.match(r.stdout, /1 of 1 stored records \(recurringBillingRuns 1\) are refused by the current definitions/);
  });
});

describe(`accredit backup (${BACKEND})`, () => {
  let db: TestDb;
  before(async () => {
    db = await freshDatabase();
  });
  after(async () => db.drop());

  if (BACKEND === 'sqlite')
    test('copies the SQLite database while the server serves it; never overwrites a file', async () => {
      const server = await startServer({ databaseUrl: db.url });
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'accredit-backup-'));
      try {
        const token = await tokenFor('acme');
        const created = await call(
          server.port,
          'POST',
          '/billingRuns/acme',
          { name: 'Kept in the backup', status: 'draft' },
          { authorization: `Bearer ${token}` },
        );
        assert.equal(created.status, 201);
        const file = path.join(dir, 'before-upgrade.db');
        const r = cli(['backup', file], { DATABASE_URL: db.url });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /backed up sqlite:.* to .*before-upgrade\.db \(\d+ pages\)/);
        const copy = new Database(file, { readonly: true });
        try {
          const row = copy.prepare('select data from billing_runs where tenant_id = ? and id = ?').get('acme', created.body.id) as {
            data: string;
          };
          assert.equal(JSON.parse(row.data).name, 'Kept in the backup');
          assert.equal((copy.prepare('select max(id) as v from accredit_migrations').get() as { v: number }).v, SCHEMA_VERSION);
          assert.equal(copy.pragma('integrity_check', { simple: true }) as string, 'ok');
        } finally {
          copy.close();
        }
        const again = cli(['backup', file], { DATABASE_URL: db.url });
        assert.equal(again.status, 2);
        assert.match(again.stderr, /already exists/);
        // a server started on the copy serves the record (the restore of docs/upgrading.md)
        const restored = await startServer({ databaseUrl: `sqlite:${file}` });
        try {
          const got = await call(restored.port, 'GET', `/billingRuns/acme/${created.body.id}`, undefined, {
            authorization: `Bearer ${token}`,
          });
          assert.equal(got.status, 200);
        } finally {
          await killServer(restored);
        }
      } finally {
        await killServer(server);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

  if (BACKEND === 'postgres')
    test('on PostgreSQL it says to use pg_dump, with the command, and exits non-zero', () => {
      const r = cli(['backup', '/tmp/accredit-never-written.db'], { DATABASE_URL: db.url });
      assert.equal(r.status, 2, r.stderr);
      assert.ok(
        r.stderr.includes(
          `on PostgreSQL use pg_dump: PGOPTIONS='-c accredit.tenant_id=*' pg_dump --enable-row-security --format=custom --file=/tmp/accredit-never-written.db "$DATABASE_URL"`,
        ),
        r.stderr,
      );
      assert.ok(!fs.existsSync('/tmp/accredit-never-written.db'));
    });
});

/** The names of a table's indexes (both back ends). */
async function indexNames(store: Store, table: string): Promise<string[]> {
  const { rows } =
    store.dialect === 'sqlite'
      ? await sql<{
          name: string;
        }>`select name from sqlite_master where type = 'index' and tbl_name = ${table} and sql is not null`.execute(store.db)
      : await sql<{
          name: string;
        }>`select indexname as name from pg_indexes where schemaname = current_schema() and tablename = ${table}`.execute(store.db);
  return rows.map((r) => r.name).sort();
}

describe(`migrate --status, --dry-run, and serve logging each migration (${BACKEND})`, () => {
  let db: TestDb;
  before(async () => {
    db = await freshDatabase();
  });
  after(async () => db.drop());

  test('an older schema: status lists applied and pending, dry-run what would run without running it, serve logs each one applied', async () => {
    // a database as an older release left it: the last migrations not applied (each undone here: a new
    // migration adds its undo to UNDONE), one resource index missing, the resource tables synced with
    // other definitions
    let store = await migrated(db.url);
    const cidx = (await indexNames(store, 'certifications')).find((n) => n.endsWith('_cidx'));
    assert.ok(cidx, 'certifications has a composite index');
    const UNDONE: [number, string, () => Promise<unknown>][] = [
      [9, 'executions_kind_idx', () => store.db.schema.dropIndex('executions_kind_idx').execute()],
      [
        10,
        'bulk_load_management',
        async () => {
          for (const c of ['dry_run', 'cancel_requested_at', 'header'])
            await store.db.schema.alterTable('bulk_loads').dropColumn(c).execute();
          await store.db.schema.alterTable('bulk_load_errors').dropColumn('source').execute();
        },
      ],
      [
        11,
        'credentials',
        async () => {
          for (const table of ['issuer_keys', 'credentials', 'status_lists']) await store.db.schema.dropTable(table).execute();
        },
      ],
    ];
    assert.equal(UNDONE.at(-1)![0], SCHEMA_VERSION, 'the test undoes the last migration');
    const first = UNDONE[0]![0];
    for (const [, , undo] of UNDONE) await undo();
    await store.db.schema.dropIndex(cidx).execute();
    await store.db.deleteFrom('accredit_migrations').where('id', '>=', first).execute();
    await store.db.updateTable('accredit_migrations').set({ name: 'specs of an older release' }).where('id', '=', 0).execute();
    await store.close();

    const status = cli(['migrate', '--status'], { DATABASE_URL: db.url });
    assert.equal(status.status, 0, status.stderr);
    assert.match(
      status.stdout,
      new RegExp(`schema version ${first - 1}; this release \\(accredit ${PACKAGE_VERSION}\\) has schema version ${SCHEMA_VERSION}`),
    );
    assert.match(status.stdout, /applied:\n\s+1 executions\s+\d{4}-/);
    assert.match(status.stdout, new RegExp(`pending:\n${UNDONE.map(([id, name]) => `\\s+${id} ${name}\n`).join('')}`));
    assert.match(status.stdout, /resource tables: to be synced/);

    const dry = cli(['migrate', '--dry-run'], { DATABASE_URL: db.url });
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(
      dry.stdout,
      new RegExp(`migrations? would run \\(nothing was changed\\):\n${UNDONE.map(([id, name]) => `  migration ${id} ${name}\n`).join('')}`),
    );
    assert.match(dry.stdout, new RegExp(`  create index ${cidx}\n`));
    assert.doesNotMatch(dry.stdout, /create table/, 'only what is missing is listed');

    store = await openStore(db.url, { pgPoolMax: 1 });
    try {
      assert.ok(!(await indexNames(store, 'certifications')).includes(cidx), 'the dry run created nothing');
      assert.ok(!(await indexNames(store, 'executions')).includes('executions_kind_idx'));
      assert.equal((await store.db.selectFrom('accredit_migrations').select('id').where('id', '>=', first).execute()).length, 0);
    } finally {
      await store.close();
    }

    const lines: string[] = [];
    const server = await startServer({ databaseUrl: db.url, logLevel: 'info', onLine: (l) => lines.push(l) });
    try {
      const logged = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
      const applied = logged.filter((l) => l.msg === 'migration applied');
      assert.deepEqual(
        applied.map((l) => [l.migration, l.name]),
        UNDONE.map(([id, name]) => [id, name]),
        `serve logs each migration it applies: ${lines.join('\n').slice(0, 2000)}`,
      );
      const sync = logged.find((l) => l.msg === 'resource tables synced with the definitions');
      assert.ok(sync, 'and the sync of the resource tables');
      assert.ok(Number(sync.changes) >= 1, JSON.stringify(sync));
      const health = (await (await fetch(`http://127.0.0.1:${server.port}/health/ready`)).json()) as Record<string, unknown>;
      assert.equal(health.release, PACKAGE_VERSION);
      assert.equal(health.schema_version, SCHEMA_VERSION);
      const ready = logged.find((l) => l.msg === 'accredit ready');
      assert.equal(ready?.release, PACKAGE_VERSION);
      assert.equal(ready?.schema_version, SCHEMA_VERSION);
    } finally {
      await killServer(server);
    }

    const now = cli(['migrate', '--status'], { DATABASE_URL: db.url });
    assert.match(now.stdout, /pending: none/);
    assert.match(now.stdout, /resource tables: in sync/);
    assert.match(cli(['migrate', '--dry-run'], { DATABASE_URL: db.url }).stdout, /nothing would run/);
    store = await openStore(db.url, { pgPoolMax: 1 });
    try {
      assert.ok((await indexNames(store, 'certifications')).includes(cidx), 'serve created the missing index');
    } finally {
      await store.close();
    }
  });

  // (a PostgreSQL database exists before anything connects to it)
  if (BACKEND === 'sqlite')
    test('--status of a SQLite file that does not exist creates nothing', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'accredit-upg-none-'));
      try {
        const file = path.join(dir, 'nothing.db');
        const r = cli(['migrate', '--status'], { DATABASE_URL: `sqlite:${file}` });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /no file yet.*schema version none/);
        assert.ok(!fs.existsSync(file));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
});
