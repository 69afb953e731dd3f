import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SignJWT } from 'jose';
import { freshDatabase, TEST_SECRET } from '../helpers.js';
import { call, killServer, startServer, type ServerProcess } from '../process.js';

/**
 * The bundled production entry (scripts/bundle.mjs, what `npm start` runs): built afresh here, then
 * served as a process and exercised where bundling could break things: the modules left outside the
 * bundle (the SQLite driver, the Swagger UI files, math.js loaded on first use, pdfkit's font metrics
 * for a PDF certificate), the template engine,
 * the CLI, and the package version it reads.
 */
const OUT = path.resolve('.bundle-test/accredit.mjs');

test('the bundled server starts and serves what bundling could break', { timeout: 180_000 }, async () => {
  const built = spawnSync(process.execPath, ['scripts/bundle.mjs', OUT], { encoding: 'utf8' });
  assert.equal(built.status, 0, built.stderr);
  const version = JSON.parse(fs.readFileSync('package.json', 'utf8')).version;
  const cli = spawnSync(process.execPath, [OUT, '--version'], { encoding: 'utf8' });
  // the release, then the schema version it brings (test/engine/upgrades.test.ts checks the number)
  assert.match(cli.stdout.trim(), new RegExp(`^accredit ${version.replace(/\./g, '\\.')} \\(schema version \\d+\\)$`));
  const db = await freshDatabase();
  let server: ServerProcess | undefined;
  try {
    server = await startServer({ databaseUrl: db.url, script: OUT });
    const token = await new SignJWT({ tenants: ['acme'], scope: 'certifications:admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('bundle')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(TEST_SECRET));
    const auth = { authorization: `Bearer ${token}` };
    const port = server.port;
    assert.equal((await call(port, 'GET', '/docs/static/swagger-ui.css')).status, 200, 'Swagger UI files');
    const doc = await call(port, 'GET', '/openapi.json');
    assert.equal(doc.body.info.version, version);
    // math.js, loaded on first use: an activity type's calculator and an activity's credits
    const ce = await call(port, 'POST', '/creditTypes/acme', { name: 'CE' }, auth);
    assert.equal(ce.status, 201, JSON.stringify(ce.body));
    const type = await call(
      port,
      'POST',
      '/activityTypes/acme',
      {
        name: 'Course',
        credit_calculator_options: {
          variables: [{ label: 'Hours', name: 'hours' }],
          formulas: [{ credit_type_id: ce.body.id, formula: 'hours * 15' }],
        },
      },
      auth,
    );
    assert.equal(type.status, 201, JSON.stringify(type.body));
    const act = await call(
      port,
      'POST',
      '/activities/acme',
      { name: 'Pharm', contact_id: 'c', date: '2026-03-01', type_id: type.body.id, credit_calculator_variables: { hours: 2 } },
      auth,
    );
    assert.equal(act.status, 201, JSON.stringify(act.body));
    assert.equal(act.body.total_number_of_credits, 30);
    // Handlebars: a template that does not compile is refused
    const bad = await call(port, 'POST', '/notices/acme', { name: 'x', email: { subject: 'Hi', body: '{{#if}}' } }, auth);
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
    // pdfkit (outside the bundle: it reads its fonts' metrics from its folder) and qrcode: a PDF certificate
    const program = await call(port, 'POST', '/programs/acme', { name: 'Nursing' }, auth);
    const cert = await call(
      port,
      'POST',
      '/certifications/acme',
      { number: 7, contact_id: 'c', program_id: program.body.id, status: 'active', name: 'Ada Lovelace' },
      auth,
    );
    assert.equal(cert.status, 201, JSON.stringify(cert.body));
    const pdf = await call(port, 'GET', `/certifications/acme/certificate/${cert.body.id}`, undefined, auth);
    assert.equal(pdf.status, 200, String(pdf.body).slice(0, 300));
    assert.ok(String(pdf.body).startsWith('%PDF-'));
    // the registry's HTML pages (Handlebars templates compiled at load)
    const verify = await call(port, 'GET', `/registry/acme/verify/${program.body.id}/7`);
    assert.equal(verify.status, 200);
    assert.match(String(verify.body), /Ada Lovelace/);
  } finally {
    await killServer(server);
    await db.drop();
  }
});
