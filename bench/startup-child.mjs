// The start-up probe of bench/startup.ts, in plain JavaScript so that it runs under plain node (a
// TypeScript loader hook would slow every module import it is meant to measure).
// node bench/startup-child.mjs <compiled dist folder>; environment as for `accredit serve`.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const distDir = process.argv[2];
const t0 = performance.now();
const marks = [];
const mark = (label) => marks.push([label, performance.now()]);
const imp = (f) => import(pathToFileURL(path.join(distDir, f)).href);
const { loadConfig } = await imp('config.js');
const { openStore } = await imp('store/store.js');
const { migrate } = await imp('store/migrate.js');
const { createVerifier } = await imp('http/auth.js');
mark('import config, store, migrate, auth');
const { tableSpecs } = await imp('resources/index.js');
mark('import the resource definitions');
const { buildApp } = await imp('app.js');
mark('import app (fastify, plugins, kit)');
const config = loadConfig();
const store = await openStore(config.databaseUrl, { pgPoolMax: config.pgPoolMax, statementTimeoutMs: config.statementTimeoutMs });
mark('open the store');
await migrate(store, tableSpecs());
mark('migrate (existing database)');
const verifier = createVerifier(config);
const app = await buildApp({ config, store, verifier, version: 'bench' });
mark('buildApp (routes, schemas, plugins)');
await app.ready();
mark('app.ready() (avvio: onReady, swagger)');
await app.listen({ port: 0, host: '127.0.0.1' });
mark('listen');
await app.close();
await store.close();
let prev = t0;
const rows = marks.map(([label, t]) => {
  const r = { label, ms: t - prev };
  prev = t;
  return r;
});
process.stdout.write(`${JSON.stringify({ processUptimeAtStartMs: t0, rows, totalMs: prev - t0 })}\n`);
