import { fieldsOf } from '../resources/kit/service.js';
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
import { readCsvHeader, readFirstJsonLine, readRows, type Format, type Row } from './reader.js';
import { byExternalId, loadStore, lockExternalIds, type Counts, type LoadRow } from '../store/bulkLoads.js';

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
 * - Between chunks the loader yields to the event loop (SQLite runs queries synchronously: a long
 *   load must not starve requests).
 */
export const CHUNK = 500;
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
  started_at: string;
  finished_at?: string;
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

interface Prepared {
  no: number;
  fields?: Record<string, unknown>;
  ext?: string;
  errors?: FieldError[];
}

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
    if (!r) throw new AppError('not_found', `no resource ${slug} (a bulk load names a resource, e.g. /bulkLoads/{tenantId}?resource=programs)`);
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
  async accept(ctx: RequestContext, resource: Resource, format: Format, sourceFile: string, upload: Upload): Promise<LoadView> {
    const file = this.filePath(upload.fileName);
    if (upload.bytes === 0)
      throw new AppError('bad_request', 'the body is empty: send the file to load', { errors: [{ field: '(body)', reason: 'is empty' }] });
    if (format === 'csv') {
      const header = await readCsvHeader(file);
      if (!header)
        throw new AppError('bad_request', 'the file has no header row', { errors: [{ field: '(body)', reason: 'has no CSV header row' }] });
      if (!Array.isArray(header)) {
        const reason = `has a header row that cannot be read: ${header.skipped}`;
        throw new AppError('bad_request', `the file ${reason}`, { errors: [{ field: '(body)', reason }] });
      }
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
    if (exec?.status === 'SUCCEEDED') status = 'completed';
    else if (exec?.status === 'FAILED') {
      status = 'failed';
      error ??= exec.error ?? undefined;
    } else if (status === 'completed' || status === 'failed') status = 'running'; // the execution is still ending
    if (status === 'completed' || status === 'failed') finished ??= exec?.stop_date ?? undefined;
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
      started_at: row.started_at,
      ...(finished ? { finished_at: finished } : {}),
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
    if (load.status === 'completed') return counts(load);
    if (load.status === 'failed') throw new Error(load.error ?? 'the load failed');
    try {
      await loadStore.set(this.db, tenantId, load.id, { status: 'running' }, 'queued');
      const resource = this.loadable(load.resource);
      if (!fs.existsSync(file)) {
        throw new Error(
          `the uploaded file of this load is not on this server (${UPLOADS}/${load.file_name}); with several server processes, DATA_DIR must be shared storage`,
        );
      }
      const done = await this.process(job, load, resource, file);
      if (!done) return undefined; // stopping: whoever resumes the execution continues
      const end = (await loadStore.get(this.db, tenantId, load.id))!;
      await loadStore.set(this.db, tenantId, load.id, { status: 'completed', finished_at: this.s.clock.now().toISOString() });
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

  /** Reads the file from its start, skips the rows already committed, commits the rest in chunks. False when told to stop. */
  private async process(job: JobContext, load: LoadRow, resource: Resource, file: string): Promise<boolean> {
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
    const flush = async () => {
      const ok = await this.commitChunk(ctx, service, load, stamp, chunk, state);
      chunk = [];
      if (!ok) return false;
      await job.progress(source.bytesRead(), load.file_bytes);
      await yieldToIo();
      return !job.stopping;
    };
    try {
      for await (const row of source.rows) {
        const p = this.prepare(row);
        if (row.no <= state.committed) {
          // committed before a restart: only what it claimed matters now
          if (p.ext && !p.errors && !rejectedBefore.has(row.no) && !state.claimed.has(p.ext)) state.claimed.set(p.ext, row.no);
          continue;
        }
        chunk.push(p);
        if (chunk.length >= this.chunk && !(await flush())) return false;
      }
      if (chunk.length && !(await flush())) return false;
      await job.progress(load.file_bytes, load.file_bytes);
      return true;
    } finally {
      source.close();
    }
  }

  /** A row -> its fields and external id, or the errors that reject it before any write. */
  private prepare(row: Row): Prepared {
    if (row.errors?.length || !row.value) return { no: row.no, errors: row.errors ?? [{ field: '(row)', reason: 'cannot be read' }] };
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
    if (errors.length) return { no: row.no, ext, errors };
    return { no: row.no, ext, fields: fieldsOf(value) };
  }

  /** One row inside a transaction: unchanged, written, or rejected (nothing written). */
  private async writeRow(
    trx: Db,
    ctx: RequestContext,
    service: ResourceService,
    p: Prepared,
    stamp: SysStamp,
    existing: Map<string, StoredRecord>,
    claimed: Claims,
  ): Promise<Outcome> {
    if (p.errors) return { errors: p.errors };
    if (p.ext !== undefined && claimed.has(p.ext)) {
      return { errors: [{ field: EXTERNAL_ID, reason: `repeats the sys_external_id of row ${claimed.get(p.ext)} of this file` }] };
    }
    const sys: SysStamp = { ...stamp, sys_bulk_load_record_no: p.no, ...(p.ext !== undefined ? { sys_external_id: p.ext } : {}) };
    try {
      const old = p.ext !== undefined ? existing.get(p.ext) : undefined;
      if (old) {
        if (isDeepStrictEqual(p.fields, fieldsOf(old))) {
          claimed.set(p.ext!, p.no);
          return 'unchanged';
        }
        await service.update(ctx, old.id, p.fields, undefined, trx, '', sys);
      } else {
        await service.create(ctx, p.fields, trx, '', sys);
      }
      if (p.ext !== undefined) claimed.set(p.ext, p.no);
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
    await this.s.store.transaction(async (trx) => {
      const exts = [...new Set(rows.filter((p) => p.ext !== undefined && !p.errors).map((p) => p.ext!))];
      if (exts.length) await lockExternalIds(trx, this.s.store.dialect, tenantId, load.resource);
      const existing = await byExternalId(trx, service.table.spec.name, tenantId, exts);
      const counts: Counts = { read: rows.length, written: 0, rejected: 0, unchanged: 0 };
      const rejected: { no: number; errors: FieldError[] }[] = [];
      for (const p of rows) {
        const out = await this.writeRow(trx, ctx, service, p, stamp, existing, claimed);
        if (out === 'written') counts.written++;
        else if (out === 'unchanged') counts.unchanged++;
        else {
          counts.rejected++;
          rejected.push({ no: p.no, errors: out.errors });
        }
      }
      if (rejected.length) await loadStore.addErrors(trx, tenantId, load.id, rejected);
      if (!(await loadStore.advance(trx, tenantId, load.id, from, counts)))
        throw new Superseded('rows already committed by another worker');
    });
    state.committed = from + rows.length;
    claimed.commit();
  }
}
