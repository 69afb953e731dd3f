#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { loadConfig, ConfigError, type Config } from './config.js';
import { openStore } from './store/store.js';
import { migrate } from './store/migrate.js';
import { tableSpecs } from './resources/index.js';
import { createVerifier } from './http/auth.js';
import { buildApp } from './app.js';

/** The command line: `accredit serve | migrate | token`. Nothing else starts the app. */
const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

const HELP = `accredit ${VERSION} — certification-management server (Rhythm Certifications API)

Usage: accredit <command> [options]

Commands:
  serve                 migrate the database, then serve HTTP on HOST:PORT
  migrate               create or update the database schema, then exit
  token                 print a JWT signed with the configured secret
      --tenant <id>     tenant the token may access (repeat for several; "*" = all)   [default: demo]
      --sub <id>        subject (the user id recorded on changes)                       [default: admin]
      --scope <scope>   certifications:read | certifications:write | certifications:admin
      --expires <span>  lifetime, e.g. 1h, 30d                                          [default: 24h]

Configuration comes from the environment (see README): DATABASE_URL, DATA_DIR, PORT, HOST, JWT_SECRET, …
Exit codes: 0 ok, 1 failure, 2 bad usage or configuration.`;

function fail(message: string, code = 1): never {
  process.stderr.write(`accredit: ${message}\n`);
  process.exit(code);
}

async function serve(config: Config) {
  const store = openStore(config.databaseUrl, { pgPoolMax: config.pgPoolMax, statementTimeoutMs: config.statementTimeoutMs });
  await migrate(store, tableSpecs());
  const verifier = createVerifier(config);
  const app = await buildApp({ config, store, verifier, version: VERSION });
  if (verifier.mode === 'generated-secret' && verifier.sign) {
    const token = await verifier.sign({ sub: 'demo-admin', tenants: ['demo'], scope: 'certifications:admin', expiresIn: '30d' });
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
      await app.close(); // stops accepting, waits for in-flight requests
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
  app.log.info({ store: store.description }, 'accredit ready');
}

async function main(argv: string[]) {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP + '\n');
    return;
  }
  if (command === '--version') return void process.stdout.write(VERSION + '\n');
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message, 2);
    throw e;
  }
  switch (command) {
    case 'serve':
      if (rest.includes('--help')) return void process.stdout.write('accredit serve: migrate, then serve HTTP (see accredit --help)\n');
      return serve(config);
    case 'migrate': {
      if (rest.includes('--help')) return void process.stdout.write('accredit migrate: create or update the schema of DATABASE_URL, then exit\n');
      const store = openStore(config.databaseUrl);
      const applied = await migrate(store, tableSpecs());
      await store.close();
      process.stdout.write(`migrated ${store.description}${applied.length ? `: ${applied.join(', ')}` : ' (up to date)'}\n`);
      return;
    }
    case 'token': {
      let args;
      try {
        args = parseArgs({
          args: rest,
          options: {
            tenant: { type: 'string', multiple: true },
            sub: { type: 'string' },
            scope: { type: 'string' },
            expires: { type: 'string' },
            help: { type: 'boolean' },
          },
        }).values;
      } catch (e) {
        fail((e as Error).message, 2);
      }
      if (args.help) return void process.stdout.write(HELP + '\n');
      const verifier = createVerifier(config);
      if (!verifier.sign) fail('JWT_JWKS_URL is set: tokens come from your identity provider, not from accredit', 2);
      const tenants = args.tenant?.length ? args.tenant : ['demo'];
      const token = await verifier.sign({
        sub: args.sub ?? 'admin',
        tenants: tenants.includes('*') ? '*' : tenants,
        scope: args.scope,
        expiresIn: args.expires ?? '24h',
      });
      process.stdout.write(token + '\n');
      return;
    }
    default:
      fail(`unknown command "${command}" (try accredit --help)`, 2);
  }
}

main(process.argv.slice(2)).catch((e) => fail(e instanceof Error ? e.message : String(e)));
