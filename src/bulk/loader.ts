import { fieldsOf } from '../resources/kit/service.js';
import { valueAt } from '../core/values.js';
import { yieldToIo } from '../core/yield.js';
import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { AppError, isAppError, notFound, type FieldError } from '../core/errors.js';
import type { RequestContext } from '../core/context.js';
import { newId } from '../core/ids.js';
import type { JobContext } from '../jobs/executions.js';
import { EXECUTION_KINDS } from '../jobs/kinds.js';
import { RESOURCES } from '../resources/index.js';
import type { Resource } from '../resources/kit/define.js';
import type { ResourceService, SysStamp } from '../resources/kit/service.js';
import type { AppServices } from '../resources/kit/context.js';
import type { StoredRecord } from '../store/records.js';
import type { Db } from '../store/store.js';
import { EXTERNAL_ID, EXTERNAL_ID_MAX, importPlan } from './columns.js';
import { rejectsWriter } from './rejects.js';
import { asTenant } from '../store/tenant-scope.js';
import { readCsvHeader, readFirstJsonLine, readRows, type Format, type Row } from './reader.js';
import { byExternalId, byNaturalKey, loadStore, lockExternalIds, type Counts, type LoadRow } from '../store/bulkLoads.js';

/**
 * Bulk loads: an uploaded CSV or JSON Lines file becomes records of one resource, in the background.
 *
 * - Each row goes through the resource's real create (or update) path: the same validation, reference
 *   checks, domain rules, hooks and history as a POST, inside the chunk's transaction; the loader only
 *   adds the sys_bulk_load_* stamps and sys_external_id.
 * - Rows are committed in chunks (CHUNK rows, one transaction each) together with the chunk's
 *   rejected rows and the load's counters, whose rows_read is the last row committed: a load resumed
 *   after a crash (the execution's lease lapsed) starts after it and writes no row twice. A chunk
 *   whose transaction fails as a whole is done again row by row, so that one bad row costs only itself.
 * - A row with a sys_external_id that names an existing record of the resource is compared with it:
 *   identical -> unchanged, different -> the record is replaced (like PUT). A row without one creates.
 *   The first row of a file that is written (or found unchanged) with an external id claims it; a
 *   later row with the same one is rejected.
 * - A row without one, of a resource with a natural key (`naturalKey` of its definition: a
 *   certification's program_id + number), that has every field of the key is matched on it the same
 *   way; a later row of the file with the same key is rejected.
 * - A dry run does every row's work inside the chunk's transaction and rolls it back; the counters and
 *   rejected rows are then committed on their own: everything validated and counted, nothing written.
 * - Between chunks the loader yields to the event loop (SQLite runs queries synchronously: a long
 *   load must not starve requests) and looks whether a cancel was asked for: the rows committed stay,
 *   the load ends `cancelled` with its counters.
 */
export const CHUNK = 500;
/** Rejected rows read per query when writing a rejects file. */
const REJECTS_PAGE = 1000;
export const UPLOADS = 'uploads';

export type LoadStatus = LoadRow['status'];

export interface LoadView {
  id: string;
  resource: string;
  status: LoadStatus;
  source_file: string;
  rows_read: number;
  rows_written: number;
  rows_rejected: number;
  rows_unchanged: number;
  dry_run: boolean;
  started_at: string;
  finished_at?: string;
  cancel_requested_at?: string;
  error?: string;
}

/** An uploaded file waiting to be accepted as a load. */
export interface Upload {
  /** File name under <dataDir>/uploads. */
  fileName: string;
  bytes: number;
}

/** External ids claimed by rows: those of committed chunks, and those of the chunk being written. */
class Claims {
  readonly added = new Map<string, number>();
  constructor(private readonly base: Map<string, number>) {}
  has(ext: string) {
    return this.added.has(ext) || this.base.has(ext);
  }
  get(ext: string) {
    return this.added.get(ext) ?? this.base.get(ext);
  }
  set(ext: string, row: number) {
    this.added.set(ext, row);
  }
  commit() {
    for (const [k, v] of this.added) this.base.set(k, v);
  }
}

/** Thrown inside a chunk's transaction when the chunk was already committed by another worker. */
class Superseded extends Error {}

/** Thrown at the end of a dry run's chunk to roll its writes back, carrying what it counted. */
class DryRunRollback extends Error {
  constructor(
    readonly counts: Counts,
    readonly rejected: Rejected[],
  ) {
    super('dry run: rolled back');
  }
}

type Rejected = { no: number; errors: FieldError[]; source?: string };

interface Prepared {
  no: number;
  fields?: Record<string, unknown>;
  ext?: string;
  /** The natural key's values (JSON) of a row without ext, when the resource has one and the row all its fields. */
  nk?: string;
  errors?: FieldError[];
  source?: string;
}

/** The claim of a natural key (kept apart from external ids, which have no control characters). */
const nkClaim = (nk: string) => `\u0000${nk}`;

type Outcome = 'written' | 'unchanged' | { errors: FieldError[] };

const BY_SLUG = new Map(RESOURCES.map((r) => [r.def.slug, r]));

function checkExternalId(v: unknown): string | FieldError {
  if (typeof v !== 'string') return { field: EXTERNAL_ID, reason: 'must be a string' };
  if (v.length > EXTERNAL_ID_MAX) return { field: EXTERNAL_ID, reason: `must be at most ${EXTERNAL_ID_MAX} characters` };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(v)) return { field: EXTERNAL_ID, reason: 'must not contain control characters' };
  if (v.trim() === '') return { field: EXTERNAL_ID, reason: 'must not be blank' };
  return v;
}

export interface LoaderLog {
  error(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
}

export class BulkLoads {
  readonly dir: string;
  constructor(
    private readonly s: AppServices,
    opts: { dataDir: string; log?: LoaderLog; chunk?: number },
  ) {
    this.dir = path.join(opts.dataDir, UPLOADS);
    this.log = opts.log;
    this.chunk = opts.chunk ?? CHUNK;
  }
  private readonly log?: LoaderLog;
  private readonly chunk: number;

  private get db() {
    return this.s.store.db;
  }

  /** The resource a load may write: 404 for none, 400 for one whose records are not created by clients. */
  loadable(slug: string): Resource {
    const r = BY_SLUG.get(slug);
    if (!r)
      throw new AppError('not_found', `no resource ${slug} (a bulk load names a resource, e.g. /bulkLoads/{tenantId}?resource=programs)`);
    if (r.def.singleton)
      throw new AppError('bad_request', `${slug} cannot be bulk loaded: a tenant has one ${r.def.singular}; use PUT /${slug}/{tenantId}`);
    if (r.def.builtIn) throw new AppError('bad_request', `${slug} cannot be bulk loaded: its records are provided by the server`);
    return r;
  }

  exportable(slug: string): Resource {
    const r = BY_SLUG.get(slug);
    if (!r) throw new AppError('not_found', `no resource ${slug}`);
    return r;
  }

  filePath(fileName: string) {
    return path.join(this.dir, fileName);
  }

  /**
   * Checks what can be checked before a load starts (a CSV header the resource cannot take, an id
   * column or field: 400), records the load and starts its execution. The upload is the load's from
   * here on (removed when it ends).
   */
  async accept(
    ctx: RequestContext,
    resource: Resource,
    format: Format,
    sourceFile: string,
    upload: Upload,
    opts: { dryRun?: boolean } = {},
  ): Promise<LoadView> {
    const file = this.filePath(upload.fileName);
    let header: string[] | undefined;
    if (upload.bytes === 0)
      throw new AppError('bad_request', 'the body is empty: send the file to load', { errors: [{ field: '(body)', reason: 'is empty' }] });
    if (format === 'csv') {
      const read = await readCsvHeader(file);
      if (!read)
        throw new AppError('bad_request', 'the file has no header row', { errors: [{ field: '(body)', reason: 'has no CSV header row' }] });
      if (!Array.isArray(read)) {
        const reason = `has a header row that cannot be read: ${read.skipped}`;
        throw new AppError('bad_request', `the file ${reason}`, { errors: [{ field: '(body)', reason }] });
      }
      header = read;
      const plan = importPlan(resource, header);
      if (plan.problems.length) {
        const first = plan.problems[0]!;
        throw new AppError('validation', `the header does not fit ${resource.def.slug}: ${first.field}: ${first.reason}`, {
          errors: plan.problems,
        });
      }
    } else {
      const first = await readFirstJsonLine(file);
      if (first && Object.hasOwn(first, 'id')) {
        throw new AppError(
          'validation',
          'id: ids are generated by the server: load the rows without id (match records of a re-run with sys_external_id)',
          {
            errors: [
              {
                field: 'id',
                reason: 'ids are generated by the server: load the rows without id (match records of a re-run with sys_external_id)',
              },
            ],
          },
        );
      }
    }
    const now = this.s.clock.now().toISOString();
    const row: LoadRow = {
      tenant_id: ctx.tenantId,
      id: newId(),
      resource: resource.def.slug,
      format,
      status: 'queued',
      source_file: sourceFile,
      file_name: upload.fileName,
      file_bytes: upload.bytes,
      execution_id: null,
      rows_read: 0,
      rows_written: 0,
      rows_rejected: 0,
      rows_unchanged: 0,
      started_at: now,
      finished_at: null,
      error: null,
      created_by: ctx.actor.sub,
      dry_run: opts.dryRun ? 1 : 0,
      cancel_requested_at: null,
      header: header ? JSON.stringify(header) : null,
    };
    await loadStore.insert(this.db, row);
    try {
      const handle = await this.s.executions.start(ctx, EXECUTION_KINDS.bulkLoad.resource, row.id, EXECUTION_KINDS.bulkLoad.action);
      const executionId = handle.executionArn.slice(handle.executionArn.lastIndexOf(':') + 1);
      await loadStore.set(this.db, ctx.tenantId, row.id, { execution_id: executionId });
      row.execution_id = executionId;
    } catch (e) {
      await loadStore.remove(this.db, ctx.tenantId, row.id);
      throw e;
    }
    return this.toView(row);
  }

  private toView(row: LoadRow, exec?: { status: string; stop_date: string | null; error: string | null }): LoadView {
    let status: LoadStatus = row.status;
    let finished = row.finished_at ?? undefined;
    let error = row.error ?? undefined;
    const ended = (s: LoadStatus) => s === 'completed' || s === 'failed' || s === 'cancelled';
    if (exec?.status === 'SUCCEEDED') status = row.status === 'cancelled' ? 'cancelled' : 'completed';
    else if (exec?.status === 'FAILED') {
      status = 'failed';
      error ??= exec.error ?? undefined;
    } else if (ended(status)) status = 'running'; // the execution is still ending
    if (ended(status)) finished ??= exec?.stop_date ?? undefined;
    else finished = undefined;
    return {
      id: row.id,
      resource: row.resource,
      status,
      source_file: row.source_file,
      rows_read: row.rows_read,
      rows_written: row.rows_written,
      rows_rejected: row.rows_rejected,
      rows_unchanged: row.rows_unchanged,
      dry_run: row.dry_run === 1,
      started_at: row.started_at,
      ...(finished ? { finished_at: finished } : {}),
      ...(row.cancel_requested_at ? { cancel_requested_at: row.cancel_requested_at } : {}),
      ...(error ? { error } : {}),
    };
  }

  /** The load as clients see it; status from its execution, counters from the load. */
  async view(tenantId: string, id: string): Promise<LoadView> {
    const row = await loadStore.get(this.db, tenantId, id);
    if (!row) throw notFound('bulk load', id);
    const exec = row.execution_id ? await this.s.executions.get(tenantId, row.execution_id) : undefined;
    return this.toView(row, exec);
  }

  /** Past and running loads, newest first; `before`: the last id of the previous page. */
  async list(tenantId: string, q: { resource?: string; status?: LoadStatus; before?: string; limit: number }) {
    const rows = await loadStore.list(this.db, tenantId, { ...q, limit: q.limit + 1 });
    const more = rows.length > q.limit;
    const page = more ? rows.slice(0, q.limit) : rows;
    const items: LoadView[] = [];
    for (const row of page) {
      const exec = row.execution_id ? await this.s.executions.get(tenantId, row.execution_id) : undefined;
      items.push(this.toView(row, exec));
    }
    return { items, last: more ? page[page.length - 1]!.id : undefined };
  }

  /**
   * Asks a queued or running load to stop: the job sees it between chunks (the rows committed stay)
   * and ends the load `cancelled`. A load that has ended is a 409.
   */
  async cancel(tenantId: string, id: string): Promise<LoadView> {
    const before = await this.view(tenantId, id);
    if (before.status !== 'queued' && before.status !== 'running')
      throw new AppError('conflict', `bulk load ${id} has ended (${before.status}): there is nothing to cancel`);
    await loadStore.requestCancel(this.db, tenantId, id, this.s.clock.now().toISOString());
    return this.view(tenantId, id);
  }

  /** The load row (404 when the tenant has none of this id). */
  async row(tenantId: string, id: string): Promise<LoadRow> {
    const row = await loadStore.get(this.db, tenantId, id);
    if (!row) throw notFound('bulk load', id);
    return row;
  }

  /**
   * The rejects file of a load (rejects.ts), as text chunks: read page by page, each page under the
   * tenant's scope (the stream is read outside the request's async context).
   */
  async rejects(tenantId: string, id: string): Promise<{ load: LoadRow; chunks: AsyncGenerator<string> }> {
    const load = await this.row(tenantId, id);
    const writer = rejectsWriter(this.exportable(load.resource), load.format, load.header);
    const db = this.db;
    async function* chunks() {
      const head = writer.head();
      if (head) yield head;
      let after = 0;
      for (;;) {
        const page = await asTenant(tenantId, () => loadStore.rejects(db, tenantId, id, after, REJECTS_PAGE));
        if (!page.length) return;
        yield writer.rows(page);
        if (page.length < REJECTS_PAGE) return;
        after = page[page.length - 1]!.row;
      }
    }
    return { load, chunks: chunks() };
  }

  async errors(tenantId: string, id: string, after: number, limit: number) {
    const row = await loadStore.get(this.db, tenantId, id);
    if (!row) throw notFound('bulk load', id);
    const items = await loadStore.errors(this.db, tenantId, id, after, limit + 1);
    const more = items.length > limit;
    return { items: more ? items.slice(0, limit) : items, last: more ? items[limit - 1]!.row : undefined };
  }

  // ---- the background work ---------------------------------------------------------------------

  /** The execution handler (jobs/registry.ts): loads the file, resuming after what is committed. */
  async run(job: JobContext): Promise<unknown> {
    const tenantId = job.ctx.tenantId;
    const load = await loadStore.get(this.db, tenantId, job.recordId);
    if (!load) throw new Error(`bulk load ${job.recordId} not found`);
    const file = this.filePath(load.file_name);
    const counts = (l: LoadRow) => ({
      rows_read: l.rows_read,
      rows_written: l.rows_written,
      rows_rejected: l.rows_rejected,
      rows_unchanged: l.rows_unchanged,
    });
    // ended before a crash took the process, whose execution was not marked yet: nothing left to do
    if (load.status === 'completed' || load.status === 'cancelled') return counts(load);
    if (load.status === 'failed') throw new Error(load.error ?? 'the load failed');
    try {
      await loadStore.set(this.db, tenantId, load.id, { status: 'running' }, 'queued');
      const resource = this.loadable(load.resource);
      if (!fs.existsSync(file)) {
        throw new Error(
          `the uploaded file of this load is not on this server (${UPLOADS}/${load.file_name}); with several server processes, DATA_DIR must be shared storage`,
        );
      }
      const outcome = await this.process(job, load, resource, file);
      if (outcome === 'stopped') return undefined; // stopping: whoever resumes the execution continues
      const end = (await loadStore.get(this.db, tenantId, load.id))!;
      await loadStore.set(this.db, tenantId, load.id, {
        status: outcome === 'cancelled' ? 'cancelled' : 'completed',
        finished_at: this.s.clock.now().toISOString(),
      });
      fs.rmSync(file, { force: true });
      return counts(end);
    } catch (e) {
      if (job.stopping) throw e;
      const message = e instanceof Error ? e.message : String(e);
      await loadStore
        .set(this.db, tenantId, load.id, { status: 'failed', finished_at: this.s.clock.now().toISOString(), error: message })
        .catch(() => {});
      fs.rmSync(file, { force: true });
      throw e;
    }
  }

  /** Reads the file from its start, skips the rows already committed, commits the rest in chunks. */
  private async process(job: JobContext, load: LoadRow, resource: Resource, file: string): Promise<'done' | 'stopped' | 'cancelled'> {
    const tenantId = load.tenant_id;
    const service = this.s.resource(resource.def.slug);
    const ctx: RequestContext = { ...job.ctx, via: 'bulk load' };
    const state = {
      committed: load.rows_read,
      /** external id -> the row that claimed it */
      claimed: new Map<string, number>(),
    };
    const rejectedBefore = state.committed ? await loadStore.rejectedUpTo(this.db, tenantId, load.id, state.committed) : new Set<number>();
    const source = readRows(file, load.format, resource);
    const stamp = { sys_bulk_load_id: load.id, sys_bulk_load_at: load.started_at, sys_bulk_load_source_file: load.source_file };
    let chunk: Prepared[] = [];
    let cancelled = false;
    const flush = async () => {
      const ok = await this.commitChunk(ctx, service, load, stamp, chunk, state);
      chunk = [];
      if (!ok) return false;
      await job.progress(source.bytesRead(), load.file_bytes);
      await yieldToIo();
      if (await loadStore.cancelRequested(this.db, tenantId, load.id)) cancelled = true;
      return !job.stopping && !cancelled;
    };
    const stopped = () => (cancelled ? 'cancelled' : 'stopped');
    try {
      if (await loadStore.cancelRequested(this.db, tenantId, load.id)) return 'cancelled';
      for await (const row of source.rows) {
        const p = this.prepare(row, resource);
        if (row.no <= state.committed) {
          // committed before a restart: only what it claimed matters now
          const claim = p.ext ?? (p.nk !== undefined ? nkClaim(p.nk) : undefined);
          if (claim && !p.errors && !rejectedBefore.has(row.no) && !state.claimed.has(claim)) state.claimed.set(claim, row.no);
          continue;
        }
        chunk.push(p);
        if (chunk.length >= this.chunk && !(await flush())) return stopped();
      }
      if (chunk.length && !(await flush())) return stopped();
      await job.progress(load.file_bytes, load.file_bytes);
      return 'done';
    } finally {
      source.close();
    }
  }

  /** A row -> its fields and external id, or the errors that reject it before any write. */
  private prepare(row: Row, resource: Resource): Prepared {
    const source = row.source;
    if (row.errors?.length || !row.value)
      return { no: row.no, errors: row.errors ?? [{ field: '(row)', reason: 'cannot be read' }], source };
    const value = row.value;
    const errors: FieldError[] = [];
    let ext: string | undefined;
    if (value[EXTERNAL_ID] !== undefined && value[EXTERNAL_ID] !== null) {
      const e = checkExternalId(value[EXTERNAL_ID]);
      if (typeof e === 'string') ext = e;
      else errors.push(e);
    }
    if (Object.hasOwn(value, 'id'))
      errors.push({ field: 'id', reason: 'is generated by the server; leave it out of a bulk load (match records with sys_external_id)' });
    if (errors.length) return { no: row.no, ext, errors, source };
    const fields = fieldsOf(value);
    return { no: row.no, ext, nk: ext === undefined ? naturalKeyOf(resource, fields) : undefined, fields, source };
  }

  /** One row inside a transaction: unchanged, written, or rejected (nothing written). */
  private async writeRow(
    trx: Db,
    ctx: RequestContext,
    service: ResourceService,
    p: Prepared,
    stamp: SysStamp,
    existing: Map<string, StoredRecord>,
    existingNk: Map<string, StoredRecord>,
    claimed: Claims,
  ): Promise<Outcome> {
    if (p.errors) return { errors: p.errors };
    if (p.ext !== undefined && claimed.has(p.ext)) {
      return { errors: [{ field: EXTERNAL_ID, reason: `repeats the sys_external_id of row ${claimed.get(p.ext)} of this file` }] };
    }
    const key = service.resource.def.naturalKey ?? [];
    if (p.nk !== undefined && claimed.has(nkClaim(p.nk))) {
      return {
        errors: [
          { field: key[key.length - 1]!, reason: `repeats the ${key.join(' and ')} of row ${claimed.get(nkClaim(p.nk))} of this file` },
        ],
      };
    }
    const claim = p.ext ?? (p.nk !== undefined ? nkClaim(p.nk) : undefined);
    const sys: SysStamp = { ...stamp, sys_bulk_load_record_no: p.no, ...(p.ext !== undefined ? { sys_external_id: p.ext } : {}) };
    try {
      const old = p.ext !== undefined ? existing.get(p.ext) : p.nk !== undefined ? existingNk.get(p.nk) : undefined;
      if (old) {
        if (isDeepStrictEqual(p.fields, fieldsOf(old))) {
          claimed.set(claim!, p.no);
          return 'unchanged';
        }
        await service.update(ctx, old.id, p.fields, undefined, trx, '', sys);
      } else {
        await service.create(ctx, p.fields, trx, '', sys);
      }
      if (claim !== undefined) claimed.set(claim, p.no);
      return 'written';
    } catch (e) {
      if (!isAppError(e)) throw e;
      return { errors: e.errors?.length ? e.errors : [{ field: '(row)', reason: e.message }] };
    }
  }

  /**
   * Commits rows in one transaction (with their rejections and the counters). On a failure of the
   * transaction as a whole, each row is committed on its own. False when another worker committed
   * these rows already (this one lost its lease and stops).
   */
  private async commitChunk(
    ctx: RequestContext,
    service: ResourceService,
    load: LoadRow,
    stamp: SysStamp,
    rows: Prepared[],
    state: { committed: number; claimed: Map<string, number> },
  ): Promise<boolean> {
    try {
      await this.commitRows(ctx, service, load, stamp, rows, state);
      return true;
    } catch (e) {
      if (e instanceof Superseded) return false;
      this.log?.warn({ err: e, load: load.id }, 'bulk load: a chunk failed as a whole; committing its rows one by one');
    }
    for (const p of rows) {
      try {
        try {
          await this.commitRows(ctx, service, load, stamp, [p], state);
        } catch (e) {
          if (e instanceof Superseded) throw e;
          // once more: a row that lost a race on PostgreSQL (a unique number taken by a concurrent
          // write aborts the transaction) now sees the winner and is rejected with its reason
          await this.commitRows(ctx, service, load, stamp, [p], state);
        }
      } catch (e) {
        if (e instanceof Superseded) return false;
        this.log?.error({ err: e, load: load.id, row: p.no }, 'bulk load: a row could not be written');
        const failed: Prepared = {
          no: p.no,
          errors: [{ field: '(row)', reason: 'could not be written (a server error; the server log has the cause)' }],
        };
        await this.commitRows(ctx, service, load, stamp, [failed], state);
      }
    }
    return true;
  }

  private async commitRows(
    ctx: RequestContext,
    service: ResourceService,
    load: LoadRow,
    stamp: SysStamp,
    rows: Prepared[],
    state: { committed: number; claimed: Map<string, number> },
  ) {
    const tenantId = load.tenant_id;
    const from = state.committed;
    const claimed = new Claims(state.claimed);
    const record = async (trx: Db, counts: Counts, rejected: Rejected[]) => {
      if (rejected.length) await loadStore.addErrors(trx, tenantId, load.id, rejected);
      if (!(await loadStore.advance(trx, tenantId, load.id, from, counts)))
        throw new Superseded('rows already committed by another worker');
    };
    try {
      await this.s.store.transaction(async (trx) => {
        const ok = rows.filter((p) => !p.errors);
        const exts = [...new Set(ok.filter((p) => p.ext !== undefined).map((p) => p.ext!))];
        const nks = [...new Set(ok.filter((p) => p.nk !== undefined).map((p) => p.nk!))];
        if (exts.length || nks.length) await lockExternalIds(trx, this.s.store.dialect, tenantId, load.resource);
        const existing = await byExternalId(trx, service.table.spec.name, tenantId, exts);
        const existingNk = await byNaturalKey(
          trx,
          service.table.spec.name,
          tenantId,
          service.resource.naturalKey.map((c) => ({ column: c.name, path: c.path })),
          nks.map((k) => JSON.parse(k) as unknown[]),
        );
        const counts: Counts = { read: rows.length, written: 0, rejected: 0, unchanged: 0 };
        const rejected: Rejected[] = [];
        for (const p of rows) {
          const out = await this.writeRow(trx, ctx, service, p, stamp, existing, existingNk, claimed);
          if (out === 'written') counts.written++;
          else if (out === 'unchanged') counts.unchanged++;
          else {
            counts.rejected++;
            rejected.push({ no: p.no, errors: out.errors, source: p.source });
          }
        }
        if (load.dry_run) throw new DryRunRollback(counts, rejected);
        await record(trx, counts, rejected);
      });
    } catch (e) {
      if (!(e instanceof DryRunRollback)) throw e;
      // the rows' writes are rolled back; what they counted and rejected is kept
      await this.s.store.transaction((trx) => record(trx, e.counts, e.rejected));
    }
    state.committed = from + rows.length;
    claimed.commit();
  }
}

/**
 * A row's natural key (JSON of its values, in the key's order) when its resource has one and the row
 * has every part with a value of the part's column type; else undefined (the row creates).
 */
function naturalKeyOf(resource: Resource, fields: Record<string, unknown>): string | undefined {
  const parts = resource.naturalKey;
  if (!parts.length) return undefined;
  const values: unknown[] = [];
  for (const c of parts) {
    const v = valueAt(fields, c.path);
    const fits =
      c.type === 'num' ? typeof v === 'number' && Number.isFinite(v) : c.type === 'bool' ? typeof v === 'boolean' : typeof v === 'string';
    if (!fits) return undefined;
    values.push(v);
  }
  return JSON.stringify(values);
}
