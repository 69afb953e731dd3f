import fs from 'node:fs';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { once } from 'node:events';
import cliProgress from 'cli-progress';
import type { Config } from '../config.js';
import { openMigrated } from '../store/store.js';
import { migrate } from '../store/migrate.js';
import { tableSpecs } from '../resources/index.js';
import { createVerifier } from '../http/auth.js';
import { buildApp } from '../app.js';

/**
 * `accredit import` and `accredit export`: the bulk-load and export endpoints driven from the shell.
 * Against a running server (--url, --token), or directly on DATABASE_URL: the command then starts the
 * app in this process on a loopback port and talks to it the same way, so both modes share one path
 * (and the same validation, stamping and background execution).
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, rejected: 3 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly code: number = EXIT.failure,
  ) {
    super(message);
  }
}

export type Target = { kind: 'remote'; url: string; token?: string; tenant: string } | { kind: 'direct'; config: Config; tenant: string };

interface Connection {
  url: string;
  token?: string;
  tenant: string;
  close(): Promise<void>;
}

async function connect(t: Target): Promise<Connection> {
  if (t.kind === 'remote') return { url: t.url, token: t.token, tenant: t.tenant, close: async () => {} };
  // this process only serves the command: no scheduler, quiet logs, a loopback port
  const config: Config = { ...t.config, schedulerPollMs: 0, logLevel: 'warn', rateLimitPerMinute: 0, workerPollMs: 200 };
  const store = await openMigrated(config, (s) => migrate(s, tableSpecs()));
  const verifier = createVerifier(config);
  if (!verifier.sign) {
    await store.close();
    throw new CliError(
      'JWT_JWKS_URL is set, so this process cannot sign its own token: use --url and --token with a running server',
      EXIT.usage,
    );
  }
  const app = await buildApp({ config, store, verifier, logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address() as { port: number };
  const token = await verifier.sign({ sub: 'cli', tenants: [t.tenant], scope: 'certifications:admin' }); // 24h, or JWT_MAX_AGE if shorter
  return {
    url: `http://127.0.0.1:${address.port}`,
    token,
    tenant: t.tenant,
    async close() {
      await app.close();
      await store.close();
    },
  };
}

const headers = (c: Connection, extra: Record<string, string> = {}) => ({
  ...(c.token ? { authorization: `Bearer ${c.token}` } : {}),
  ...extra,
});

async function answer(res: Response, what: string) {
  const text = await res.text();
  let body: any;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  if (!res.ok) {
    const message = body?.message ?? (typeof body === 'string' ? body : res.statusText);
    // the request itself was wrong (unknown resource, bad file, bad field): the caller's usage
    const code = res.status === 400 || res.status === 404 || res.status === 413 || res.status === 422 ? EXIT.usage : EXIT.failure;
    throw new CliError(
      `${what}: ${res.status} ${message}${body?.errors ? ` (${body.errors.map((e: any) => `${e.field}: ${e.reason}`).join('; ')})` : ''}`,
      code,
    );
  }
  return body;
}

async function countLines(file: string): Promise<number> {
  let n = 0;
  let last = 10;
  for await (const chunk of fs.createReadStream(file)) {
    for (const b of chunk as Buffer) if (b === 10) n++;
    last = (chunk as Buffer)[(chunk as Buffer).length - 1] ?? last;
  }
  return last === 10 ? n : n + 1;
}

function bar(enabled: boolean, label: string, total?: number) {
  if (!enabled || !process.stderr.isTTY) return undefined;
  const b = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: total ? `${label} [{bar}] {percentage}% | {value}/{total} rows | {extra}` : `${label} {value} records`,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  b.start(total ?? 0, 0, { extra: '' });
  return b;
}

/**
 * Progress as lines on stderr (rows read of the file's, written, rejected, rows per second since the
 * start), at most one per `everyMs`, and one when the load ends.
 */
function progressLines(label: string, total: number, everyMs: number) {
  const start = Date.now();
  let last = start;
  return (load: { rows_read?: number; rows_written?: number; rows_rejected?: number; status?: string }, ended: boolean) => {
    const now = Date.now();
    if (!ended && now - last < everyMs) return;
    last = now;
    const read = Number(load.rows_read ?? 0);
    const rate = Math.round(read / Math.max(0.001, (now - start) / 1000));
    const pct = total ? ` (${Math.min(100, Math.floor((read / total) * 100))}%)` : '';
    process.stderr.write(
      `${label}: ${read}/${total} rows read${pct}, ${load.rows_written ?? 0} written, ${load.rows_rejected ?? 0} rejected, ${rate} rows/s, ${load.status}\n`,
    );
  };
}

/** accredit import <resource> <file>: exit 0 (all written), 3 (some rows rejected), 1 / 2 (failed). */
export async function importCommand(
  t: Target,
  resource: string,
  file: string,
  o: { format?: 'csv' | 'jsonl'; progress: boolean; progressIntervalS?: number; dryRun?: boolean; rejects?: string },
): Promise<number> {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new CliError(`no such file: ${file}`, EXIT.usage);
  const format = o.format ?? (/\.(jsonl|ndjson)$/i.test(file) ? 'jsonl' : /\.csv$/i.test(file) ? 'csv' : undefined);
  if (!format) throw new CliError('cannot tell the format from the file name: pass --format csv or --format jsonl', EXIT.usage);
  const lines = await countLines(file);
  const total = Math.max(0, format === 'csv' ? lines - 1 : lines);
  const c = await connect(t);
  try {
    const q = new URLSearchParams({ resource, format, source_file: path.basename(file), ...(o.dryRun ? { dryRun: 'true' } : {}) });
    const started = await answer(
      await fetch(`${c.url}/bulkLoads/${encodeURIComponent(c.tenant)}?${q}`, {
        method: 'POST',
        headers: headers(c, { 'content-type': format === 'csv' ? 'text/csv' : 'application/x-ndjson' }),
        body: Readable.toWeb(fs.createReadStream(file)) as ReadableStream,
        duplex: 'half',
      } as RequestInit),
      'upload',
    );
    const progress = bar(o.progress, `import ${resource}`, total);
    // not on a terminal (CI, a pipe, a log file): a line now and then instead of a bar, so the run shows life
    const lines = o.progress && !progress ? progressLines(`import ${resource}`, total, (o.progressIntervalS ?? 10) * 1000) : undefined;
    let load = started;
    for (;;) {
      load = await answer(
        await fetch(`${c.url}/bulkLoads/${encodeURIComponent(c.tenant)}/${started.id}`, { headers: headers(c) }),
        'progress',
      );
      progress?.update(Math.min(total, Number(load.rows_read ?? 0)), {
        extra: `${load.rows_written ?? 0} written, ${load.rows_rejected ?? 0} rejected`,
      });
      const ended = load.status === 'completed' || load.status === 'failed' || load.status === 'cancelled';
      lines?.(load, ended);
      if (ended) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    progress?.stop();
    process.stdout.write(`${JSON.stringify(load)}\n`);
    if (load.status === 'failed') throw new CliError(`load ${load.id} failed: ${load.error ?? 'unknown error'}`);
    if (load.status === 'cancelled') throw new CliError(`load ${load.id} was cancelled after ${load.rows_read} rows`);
    if (Number(load.rows_rejected) > 0) {
      if (o.rejects) {
        const res = await fetch(`${c.url}/bulkLoads/${encodeURIComponent(c.tenant)}/${started.id}/rejects`, { headers: headers(c) });
        if (!res.ok || !res.body) await answer(res, 'rejects');
        await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), fs.createWriteStream(o.rejects));
        process.stderr.write(`rejected rows written to ${o.rejects}\n`);
      }
      const errors = await answer(
        await fetch(`${c.url}/bulkLoads/${encodeURIComponent(c.tenant)}/${started.id}/errors?limit=20`, { headers: headers(c) }),
        'errors',
      );
      for (const e of errors.Items ?? [])
        process.stderr.write(`row ${e.row}: ${(e.errors ?? []).map((x: any) => `${x.field}: ${x.reason}`).join('; ')}\n`);
      if (load.rows_rejected > (errors.Items ?? []).length)
        process.stderr.write(`… ${load.rows_rejected} rejected rows in all: GET /bulkLoads/${c.tenant}/${load.id}/errors\n`);
      return EXIT.rejected;
    }
    return EXIT.ok;
  } finally {
    await c.close();
  }
}

/** accredit export <resource>: streams the export to a file or standard output. */
export async function exportCommand(
  t: Target,
  resource: string,
  o: { format: 'csv' | 'jsonl'; fields?: string; out?: string; progress: boolean },
) {
  const c = await connect(t);
  try {
    const q = new URLSearchParams({ format: o.format, ...(o.fields ? { fields: o.fields } : {}) });
    const res = await fetch(`${c.url}/exports/${encodeURIComponent(c.tenant)}/${encodeURIComponent(resource)}?${q}`, {
      headers: headers(c),
    });
    if (!res.ok || !res.body) await answer(res, 'export');
    const progress = bar(o.progress, `export ${resource}`);
    let records = o.format === 'csv' ? -1 : 0; // the CSV header is not a record
    const count = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const b of chunk) if (b === 10) records++;
        progress?.update(Math.max(0, records));
        cb();
      },
    });
    const source = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
    source.on('data', (chunk: Buffer) => count.write(chunk));
    if (o.out) await pipeline(source, fs.createWriteStream(o.out));
    else {
      // standard output is never ended (a pipeline would end it): write with back-pressure
      for await (const chunk of source) if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
    }
    progress?.stop();
    if (o.out) process.stderr.write(`exported ${Math.max(0, records)} records to ${o.out}\n`);
  } finally {
    await c.close();
  }
}
