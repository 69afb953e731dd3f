#!/usr/bin/env node
import cluster from 'node:cluster';
import { existsSync } from 'node:fs';
import { RELEASE } from './release.js';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { loadConfig, ConfigError, SCOPES, type Config } from './config.js';
import { openMigrated, openStore } from './store/store.js';
import { migrate, migrationStatus, SCHEMA_VERSION, SchemaTooNew, type AppliedStep, type MigrationStatus } from './store/migrate.js';
import { logCheckpointerTo } from './store/checkpointer.js';
import { RESOURCES, tableSpecs } from './resources/index.js';
import { checkCommand, checkRecords } from './cli/check.js';
import { createVerifier, TokenLifetimeError } from './http/auth.js';
import { buildApp } from './app.js';
import { isSupervisor, supervise } from './supervisor.js';
import { CliError, EXIT, exportCommand, importCommand, type Target } from './cli/transfer.js';

/**
 * The command line: `accredit serve | migrate | check | backup | token | import | export`. Nothing else starts the app.
 * Exit codes scripts can rely on: 0 ok, 1 failure, 2 bad usage or configuration, 3 check found refused records or an import finished
 * with rejected rows (the valid rows were written).
 */
const VERSION = RELEASE;

function fail(message: string, code: number = EXIT.failure): never {
  process.stderr.write(`accredit: ${message}\n`);
  process.exit(code);
}

function config(): Config {
  try {
    return loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message, EXIT.usage);
    throw e;
  }
}

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };
/** A log line before the app (and its pino logger) exists, in pino's shape so log readers take it alike. */
function logLine(config: Config, level: 'info' | 'warn', obj: Record<string, unknown>, msg: string) {
  if (LEVELS[level]! < (LEVELS[config.logLevel] ?? 30)) return;
  process.stdout.write(`${JSON.stringify({ level: LEVELS[level], time: Date.now(), pid: process.pid, ...obj, msg })}\n`);
}

/** serve logs each migration as it commits (the sync of the resource tables counts its changes). */
const logMigrations = (config: Config) => ({
  onApplied: (step: AppliedStep) =>
    logLine(
      config,
      'info',
      { migration: step.id ?? step.name, name: step.name, ms: step.ms, ...(step.changes !== undefined ? { changes: step.changes } : {}) },
      step.id === undefined ? 'resource tables synced with the definitions' : 'migration applied',
    ),
});

async function serve(config: Config) {
  if (isSupervisor(config)) {
    // migrate and create the development secret once, before the workers start together
    const store = await openMigrated({ ...config, pgPoolMax: 1 }, (s) => migrate(s, tableSpecs(), logMigrations(config)));
    await store.close();
    createVerifier(config);
    supervise(config, (msg) => process.stderr.write(`accredit: ${msg}\n`));
    return;
  }
  const store = await openMigrated(config, (s) => migrate(s, tableSpecs(), logMigrations(config)));
  const verifier = createVerifier(config);
  const app = await buildApp({ config, store, verifier, version: VERSION });
  logCheckpointerTo((level, obj, msg) => app.log[level](obj, msg));
  if (verifier.mode === 'generated-secret' && verifier.sign && !process.env.ACCREDIT_WORKER_INDEX?.match(/^[1-9]/)) {
    // as long as JWT_MAX_AGE allows (24h by default): the log prints a new one at every start
    const token = await verifier.sign({ sub: 'demo-admin', tenants: ['demo'], scope: 'certifications:admin' });
    app.log.warn(
      { token },
      `No JWT_SECRET or JWT_JWKS_URL: using the secret in ${config.dataDir}/jwt-secret (development mode). ` +
        'Ready token for tenant "demo": curl -H "Authorization: Bearer <token>" …',
    );
  }
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'draining in-flight requests');
    try {
      await app.close(); // stops accepting, waits for in-flight requests, hands background work back
      await store.close();
      process.exit(0);
    } catch (err) {
      app.log.error({ err }, 'error while closing');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  await app.listen({ port: config.port, host: config.host });
  app.log.info(
    {
      store: store.description,
      release: VERSION,
      schema_version: SCHEMA_VERSION,
      role: config.role,
      worker: process.env.ACCREDIT_WORKER_INDEX,
    },
    'accredit ready',
  );
}

/** `migrate --status` / `--dry-run` as text. */
function describeStatus(db: string, s: MigrationStatus, dryRun: boolean): string {
  const out = [
    `${db}: schema version ${s.databaseVersion || 'none (a new database)'}; this release (accredit ${VERSION}) has schema version ${s.releaseVersion}`,
  ];
  if (s.databaseVersion > s.releaseVersion)
    out.push(`the database was migrated by a newer release: this one refuses to run on it (see docs/upgrading.md)`);
  out.push(s.applied.length ? 'applied:' : 'applied: none');
  for (const a of s.applied)
    out.push(`  ${String(a.id).padStart(3)} ${a.name.padEnd(28)} ${a.applied_at}${a.known ? '' : '  (unknown to this release)'}`);
  out.push(s.pending.length ? 'pending:' : 'pending: none');
  for (const m of s.pending) out.push(`  ${String(m.id).padStart(3)} ${m.name}`);
  out.push(`resource tables: ${s.resourceTablesInSync ? 'in sync with the definitions' : 'to be synced with the definitions'}`);
  if (dryRun) {
    if (s.databaseVersion > s.releaseVersion) out.push('a migration would stop here, changing nothing');
    else if (!s.pending.length && s.resourceTablesInSync) out.push('nothing would run');
    else {
      out.push('a migration would run (nothing was changed):');
      for (const m of s.pending) out.push(`  migration ${m.id} ${m.name}`);
      for (const t of s.syncSteps ?? []) out.push(`  ${t}`);
      if (!s.pending.length && !s.syncSteps?.length) out.push('  record that the resource tables match the definitions');
      if (s.clashes?.length)
        out.push(
          `and would stop before changing anything: ${s.clashes.length} group(s) of records share values that must be unique (accredit migrate lists them)`,
        );
    }
  }
  return `${out.join('\n')}\n`;
}

/** Where import / export talk to: a running server (--url, --token), or this database directly. */
const targetOptions = (c: Command) =>
  c
    .addOption(new Option('--url <url>', 'a running server (default: work directly on DATABASE_URL)').env('ACCREDIT_URL'))
    .addOption(new Option('--token <jwt>', 'bearer token for --url (a token with write scope for the tenant)').env('ACCREDIT_TOKEN'))
    .option('--tenant <id>', 'the tenant', 'demo')
    .option('--no-progress', 'no progress on stderr (a bar on a terminal, else a line now and then)');

const target = (o: { url?: string; token?: string; tenant: string }): Target =>
  o.url
    ? { kind: 'remote', url: o.url.replace(/\/$/, ''), token: o.token, tenant: o.tenant }
    : { kind: 'direct', config: config(), tenant: o.tenant };

function program(): Command {
  const p = new Command('accredit')
    .description(`accredit ${VERSION}: certification-management server (Rhythm Certifications API)`)
    .version(`accredit ${VERSION} (schema version ${SCHEMA_VERSION})`)
    .showHelpAfterError()
    .addHelpText(
      'after',
      '\nConfiguration comes from the environment (see docs/configuration.md): DATABASE_URL, DATA_DIR, PORT, HOST, JWT_SECRET, …\nExit codes: 0 ok, 1 failure, 2 bad usage or configuration, 3 import finished with rejected rows, or check found records the definitions refuse.',
    );

  p.command('serve')
    .description('migrate the database, then serve HTTP on HOST:PORT (and run the background work)')
    .addOption(
      new Option('--role <role>', 'api: HTTP only; worker: background work only; all: both')
        .choices(['all', 'api', 'worker'])
        .env('ACCREDIT_ROLE'),
    )
    .addOption(
      new Option('--workers <n>', 'HTTP worker processes sharing the port (a number, or auto = available cores)').env('WEB_CONCURRENCY'),
    )
    .action((o: { role?: string; workers?: string }) => {
      // the options override the environment (loadConfig validates both the same way); a cluster
      // worker takes its role from the supervisor's environment, not from the repeated arguments
      if (cluster.isPrimary) {
        if (o.role) process.env.ACCREDIT_ROLE = o.role;
        if (o.workers) process.env.WEB_CONCURRENCY = o.workers;
      }
      return serve(config());
    });

  p.command('migrate')
    .description('create or update the schema of DATABASE_URL, then exit')
    .option('--status', 'list the applied and pending migrations; change nothing')
    .option('--dry-run', 'show what a migration would do (migrations, columns, indexes); change nothing')
    .option('--no-check', 'after a migration that changed the resource tables, do not count the stored records the definitions refuse')
    .action(async (o: { status?: boolean; dryRun?: boolean; check?: boolean }) => {
      const c = config();
      if (o.status || o.dryRun) {
        // reads only, on the direct URL when a transaction pooler is in front (as migrations do)
        const url = c.databasePoolMode === 'transaction' && c.databaseDirectUrl ? c.databaseDirectUrl : c.databaseUrl;
        // a SQLite file that does not exist yet is not created: a new in-memory database stands for it
        const absent = url.startsWith('sqlite:') && url !== 'sqlite::memory:' && !existsSync(url.slice('sqlite:'.length));
        const store = await openStore(absent ? 'sqlite::memory:' : url, { pgPoolMax: 1 });
        try {
          process.stdout.write(
            describeStatus(
              absent ? `${url} (no file yet)` : store.description,
              await migrationStatus(store, tableSpecs(), Boolean(o.dryRun)),
              Boolean(o.dryRun),
            ),
          );
        } finally {
          await store.close();
        }
        return;
      }
      let applied: string[] = [];
      const store = await openMigrated({ ...c, pgPoolMax: 1 }, async (s) => (applied = await migrate(s, tableSpecs())));
      try {
        process.stdout.write(`migrated ${store.description}${applied.length ? `: ${applied.join(', ')}` : ' (up to date)'}\n`);
        // new definitions may refuse what older ones accepted: say how many stored records (accredit check lists them)
        if (applied.includes('resource tables') && o.check !== false) {
          const { refused } = await checkRecords(store, RESOURCES, () => {});
          if (refused.size)
            process.stdout.write(
              `stored records this release's definitions refuse: ${[...refused].map(([r, n]) => `${r} ${n}`).join(', ')} (accredit check lists them; see docs/upgrading.md)\n`,
            );
        }
      } finally {
        await store.close();
      }
    });

  p.command('check')
    .description(
      'list the stored records the current definitions refuse (accepted by an older release), per resource, with the reason; change nothing',
    )
    .action(async () => {
      const c = config();
      // no migration: run a new release's check against the database before upgrading it
      const store = await openStore(c.databasePoolMode === 'transaction' && c.databaseDirectUrl ? c.databaseDirectUrl : c.databaseUrl, {
        pgPoolMax: 1,
      });
      try {
        const refused = await checkCommand(store, RESOURCES, (s) => process.stdout.write(s));
        process.exitCode = refused ? EXIT.rejected : EXIT.ok;
      } finally {
        await store.close();
      }
    });

  p.command('backup')
    .description(
      'SQLite: copy the database to <file> while the server may keep running (take one before upgrading); PostgreSQL: use pg_dump',
    )
    .argument('<file>', 'the copy to write (must not exist)')
    .action(async (file: string) => {
      const c = config();
      if (!c.databaseUrl.startsWith('sqlite:'))
        fail(
          // the server's role is subject to the tables' row-level security: the system scope lets it read every tenant
          `backup copies SQLite databases; on PostgreSQL use pg_dump: PGOPTIONS='-c accredit.tenant_id=*' pg_dump --enable-row-security --format=custom --file=${file} "$DATABASE_URL" ` +
            `(restore with pg_restore the same way; see docs/upgrading.md)`,
          EXIT.usage,
        );
      if (existsSync(file)) fail(`${file} already exists: name a new file (a backup never overwrites one)`, EXIT.usage);
      const source = c.databaseUrl.slice('sqlite:'.length);
      if (source === ':memory:' || !existsSync(source)) fail(`no database at ${source}`, EXIT.failure);
      const store = await openStore(c.databaseUrl, { sqliteBusyTimeoutMs: c.sqliteBusyTimeoutMs });
      try {
        const { pages } = await store.backup!(file);
        process.stdout.write(`backed up ${store.description} to ${file} (${pages} pages)\n`);
      } finally {
        await store.close();
      }
    });

  p.command('token')
    .description("print a JWT signed with the server's secret (JWT_SECRET, or the one serve created in DATA_DIR)")
    .option('--tenant <id...>', 'tenant(s) the token may access ("*" = all)', ['demo'])
    .option('--sub <id>', 'subject (the user id recorded on changes)', 'admin')
    .addOption(new Option('--scope <scope>', 'the scope (default: JWT_DEFAULT_SCOPE)').choices([...SCOPES]))
    .option('--expires <span>', 'lifetime, e.g. 30m, 1h, 7d (default 24h, or JWT_MAX_AGE if shorter; never beyond it)')
    .action(async (o: { tenant: string[]; sub: string; scope?: string; expires?: string }) => {
      const c = config();
      let verifier: ReturnType<typeof createVerifier>;
      try {
        verifier = createVerifier(c, { createSecret: false });
      } catch (e) {
        if (e instanceof ConfigError) fail(e.message, EXIT.usage);
        throw e;
      }
      if (!verifier.sign) fail('JWT_JWKS_URL is set: tokens come from your identity provider, not from accredit', EXIT.usage);
      let token: string;
      try {
        token = await verifier.sign({ sub: o.sub, tenants: o.tenant.includes('*') ? '*' : o.tenant, scope: o.scope, expiresIn: o.expires });
      } catch (e) {
        if (e instanceof TokenLifetimeError) fail(e.message, EXIT.usage);
        throw e;
      }
      process.stdout.write(`${token}\n`);
    });

  targetOptions(
    p
      .command('import')
      .description('load a CSV or JSON Lines file into a resource (valid rows are written, rejected rows listed)')
      .argument('<resource>', 'resource path, e.g. certifications')
      .argument('<file>', 'a .csv, .jsonl or .ndjson file')
      .addOption(new Option('--format <format>', 'file format (default: from the file name)').choices(['csv', 'jsonl']))
      .addOption(
        new Option('--progress-interval <seconds>', 'when stderr is not a terminal: seconds between progress lines')
          .default(10)
          .argParser((v) => {
            const n = Number(v);
            if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number of seconds above 0');
            return n;
          }),
      )
      .option('--dry-run', 'validate and count every row, write nothing')
      .option('--rejects <file>', 'write the rejected rows there, with their errors, to fix and load again'),
  ).action(async (resource: string, file: string, o) => {
    const code = await importCommand(target(o), resource, file, {
      format: o.format,
      progress: o.progress,
      progressIntervalS: o.progressInterval,
      dryRun: Boolean(o.dryRun),
      rejects: o.rejects,
    });
    process.exitCode = code;
  });

  targetOptions(
    p
      .command('export')
      .description('write every record of a resource as CSV or JSON Lines (to --out or standard output)')
      .argument('<resource>', 'resource path, e.g. certifications')
      .addOption(new Option('--format <format>', 'output format').choices(['csv', 'jsonl']).default('csv'))
      .option('--fields <list>', 'comma-separated fields (dotted paths allowed)')
      .option('--out <file>', 'write to this file instead of standard output'),
  ).action(async (resource: string, o) => {
    await exportCommand(target(o), resource, { format: o.format, fields: o.fields, out: o.out, progress: o.progress });
  });

  // usage errors (unknown command or option, missing argument) exit 2; --help and --version exit 0
  p.exitOverride();
  for (const c of p.commands) c.exitOverride();
  return p;
}

program()
  .parseAsync(process.argv)
  .catch((e) => {
    if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : EXIT.usage);
    if (e instanceof CliError) fail(e.message, e.code);
    if (e instanceof SchemaTooNew) fail(`this is accredit ${VERSION}: ${e.message}`);
    fail(e instanceof Error ? e.message : String(e));
  });
