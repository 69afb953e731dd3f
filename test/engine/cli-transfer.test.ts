import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import { freshDatabase, TEST_SECRET } from '../helpers.js';
import { killServer, startServer, type ServerProcess } from '../process.js';

/**
 * `accredit import` and `accredit export` end to end, as scripts use them: directly on the database
 * and against a running server, with the exit codes scripts rely on (0, 2, 3).
 */
const MAIN = path.resolve('src/main.ts');
function run(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: { ...process.env, LOG_LEVEL: 'warn', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

test('import and export from the command line: direct on the database, then against a server', { timeout: 300_000 }, async () => {
  const db = await freshDatabase();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'accredit-cli-transfer-'));
  const env = { DATABASE_URL: db.url, DATA_DIR: dir, JWT_SECRET: TEST_SECRET };
  let server: ServerProcess | undefined;
  try {
    // direct: five good rows and one without its required name -> exit 3, the row listed
    const csv = path.join(dir, 'types.csv');
    fs.writeFileSync(
      csv,
      'name,unit,is_active\nCE hours,hour,true\nContact hours,hour,true\nCEU,unit,false\nPoints,point,true\n,hour,true\nCredits,credit,true\n',
    );
    // a dry run first: counted, nothing written (the export below has each name once)
    const dry = await run(['import', 'creditTypes', csv, '--tenant', 'acme', '--no-progress', '--dry-run'], env);
    assert.equal(dry.status, 3, dry.stderr);
    const drySummary = JSON.parse(dry.stdout.trim().split('\n').pop()!);
    assert.deepEqual([drySummary.dry_run, drySummary.rows_written, drySummary.rows_rejected], [true, 5, 1]);
    const rejects = path.join(dir, 'types-rejects.csv');
    const imported = await run(['import', 'creditTypes', csv, '--tenant', 'acme', '--no-progress', '--rejects', rejects], env);
    assert.equal(fs.readFileSync(rejects, 'utf8'), 'name,unit,is_active,error\n,hour,true,name: is required\n');
    assert.equal(imported.status, 3, imported.stderr);
    const summary = JSON.parse(imported.stdout.trim().split('\n').pop()!);
    assert.deepEqual([summary.status, summary.rows_read, summary.rows_written, summary.rows_rejected], ['completed', 6, 5, 1]);
    assert.match(imported.stderr, /^row 5: name: /m);

    const out = path.join(dir, 'types.jsonl');
    const exported = await run(['export', 'creditTypes', '--tenant', 'acme', '--format', 'jsonl', '--out', out, '--no-progress'], env);
    assert.equal(exported.status, 0, exported.stderr);
    const rows = fs
      .readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(rows.map((r) => r.name).sort(), ['CE hours', 'CEU', 'Contact hours', 'Credits', 'Points']);
    assert.equal(rows.find((r) => r.name === 'CEU').is_active, false);

    // usage errors: exit 2
    assert.equal((await run(['import', 'creditTypes', path.join(dir, 'missing.csv'), '--tenant', 'acme'], env)).status, 2);
    assert.equal((await run(['import', 'noSuchResource', csv, '--tenant', 'acme', '--no-progress'], env)).status, 2);
    assert.equal((await run(['export'], env)).status, 2);

    // against a running server: the export re-imported into another tenant, all written (exit 0)
    server = await startServer({ databaseUrl: db.url, dataDir: dir });
    const token = await new SignJWT({ tenants: ['globex'], scope: 'certifications:write' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('cli')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(TEST_SECRET));
    const remote = { ...env, ACCREDIT_URL: `http://127.0.0.1:${server.port}`, ACCREDIT_TOKEN: token };
    const again = await run(['import', 'creditTypes', out, '--tenant', 'globex', '--no-progress'], remote);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout.trim().split('\n').pop()!).rows_written, 5);
    const csvOut = await run(['export', 'creditTypes', '--tenant', 'globex', '--fields', 'name,unit', '--no-progress'], remote);
    assert.equal(csvOut.status, 0, csvOut.stderr);
    const lines = csvOut.stdout.trim().split('\n');
    assert.equal(lines[0], 'name,unit');
    assert.deepEqual(lines.slice(1).sort(), ['CE hours,hour', 'CEU,unit', 'Contact hours,hour', 'Credits,credit', 'Points,point']);
    // a token for another tenant: refused (exit 1 or 2 with the server's message)
    const refused = await run(['export', 'creditTypes', '--tenant', 'acme', '--no-progress'], remote);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /403/);
  } finally {
    await killServer(server);
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('import on a pipe (no terminal) prints progress lines: rows, rate, rejects, and the end', { timeout: 300_000 }, async () => {
  const db = await freshDatabase();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'accredit-cli-progress-'));
  try {
    const N = 2000;
    const csv = path.join(dir, 'types.csv');
    const rows = Array.from({ length: N }, (_, i) => (i % 100 === 99 ? ',hour,true' : `Type ${i},hour,true`));
    fs.writeFileSync(csv, `name,unit,is_active\n${rows.join('\n')}\n`);
    const r = await run(['import', 'creditTypes', csv, '--tenant', 'acme', '--progress-interval', '0.05'], {
      DATABASE_URL: db.url,
      DATA_DIR: dir,
      JWT_SECRET: TEST_SECRET,
    });
    assert.equal(r.status, 3, r.stderr);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('import creditTypes: '));
    assert.ok(lines.length >= 1, r.stderr);
    for (const l of lines)
      assert.match(l, new RegExp(`^import creditTypes: \\d+/${N} rows read \\(\\d+%\\), \\d+ written, \\d+ rejected, \\d+ rows/s, \\w+$`));
    assert.match(
      lines.at(-1)!,
      new RegExp(`^import creditTypes: ${N}/${N} rows read \\(100%\\), ${N - 20} written, 20 rejected, \\d+ rows/s, completed$`),
    );
    // --no-progress: none
    const quiet = await run(['import', 'creditTypes', csv, '--tenant', 'quiet', '--no-progress'], {
      DATABASE_URL: db.url,
      DATA_DIR: dir,
      JWT_SECRET: TEST_SECRET,
    });
    assert.equal(quiet.status, 3, quiet.stderr);
    assert.ok(!quiet.stderr.includes('import creditTypes: '), quiet.stderr);
  } finally {
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
