import type { Readable } from 'node:stream';
import { AppError, invalid, isAppError, notFound } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { RequestContext } from '../core/context.js';
import { executionIdOf, type ExecutionRow, type JobContext } from '../jobs/executions.js';
import { EXECUTION_KINDS } from '../jobs/kinds.js';
import type { AppServices } from '../resources/kit/context.js';
import { checkOutputFields, checkSort, compileCriteria, compileSort, type SortField } from './compile.js';
import { queryDefinition, queryDefinitionList, queryType, type FieldSpec, type QueryDefinition, type QueryType } from './definitions.js';
import { contentType, OUTPUT_FORMATS, render, type OutputFormat } from './render.js';
import { countMatches, selectedRecords, type RowQuery } from '../store/queryRows.js';
import { Spool } from '../core/spool.js';

/**
 * Query execution (issue #9): a saved query (criteria, output fields, sort, limit, offset) over one
 * query type runs as a background execution, then its result is downloaded as JSON or CSV.
 *
 * - run checks everything first (a 400 names the problem, nothing starts), then starts an execution
 *   ('queries' / 'run', see jobs/executions.ts) and answers at once with its id;
 * - the execution reads the selected records once, renders them, and keeps only what it counted:
 *   row_count and size_bytes (the bytes of the rendered output), so a run holds no result in memory
 *   or storage; it is resumable like every execution (a run that resumes counts again);
 * - result reads the records again, in order, and streams the rendered output (core/spool.ts).
 * The rows are those of the download's moment: a record changed between the run and the download
 * shows its new values (and row_count / size_bytes describe the run's moment).
 */
export const MAX_LIMIT = 1_000_000;
const MAX_NAME = 200;
const BODY_KEYS = ['criteria', 'output_fields', 'sort_fields', 'limit', 'offset', 'name'];
const { resource: RESOURCE, action: ACTION } = EXECUTION_KINDS.queryRun;

/** What a run stores as its execution's params: the checked, normalized query. */
export interface QueryParams {
  queryType: string;
  outputFormat: OutputFormat;
  name: string;
  criteria: unknown;
  output_fields: string[];
  sort_fields: SortField[];
  limit: number;
  offset: number;
}

export interface RunView {
  id: string;
  name: string;
  query_type: string;
  output_format: OutputFormat;
  status: 'RUNNING';
  executionArn: string;
  describe_url: string;
  result_url: string;
}

export interface DescribeView {
  id: string;
  name: string;
  query_type: string;
  output_format: OutputFormat;
  status: ExecutionRow['status'];
  row_count: number | null;
  size_bytes: number | null;
  created_at: string;
  completed_at: string | null;
  result_url: string;
  error: string | null;
}

export interface QueryResult {
  format: OutputFormat;
  contentType: string;
  filename: string;
  stream: Readable;
}

interface Prepared {
  params: QueryParams;
  qt: QueryType;
  output: FieldSpec[];
  rows: RowQuery;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const urls = (tenantId: string, id: string) => ({
  describe_url: `/queries/${tenantId}/describe/${id}`,
  result_url: `/queries/${tenantId}/result/${id}`,
});

export class QueryService {
  constructor(private readonly services: AppServices) {}

  private get store() {
    return this.services.store;
  }

  /** The built-in query definition `id` (a resource slug): the queryDefinitions resource serves these. */
  definition(id: string): QueryDefinition | undefined {
    return queryDefinition(id);
  }

  /** Every built-in query definition, one per resource. */
  definitions(): QueryDefinition[] {
    return queryDefinitionList();
  }

  /** Checks a run request and normalizes it; throws the 400 (or 404 for an unknown query type). */
  check(queryTypeId: string, outputFormat: string, body: unknown): QueryParams {
    const qt = queryType(queryTypeId);
    if (!qt) throw notFound('query type', `${queryTypeId} (see GET /queryDefinitions/{tenantId} for the query types)`);
    if (!OUTPUT_FORMATS.includes(outputFormat as OutputFormat)) {
      throw invalid([{ field: 'outputFormat', reason: `must be one of: ${OUTPUT_FORMATS.join(', ')}` }]);
    }
    const b = body === undefined || body === null ? {} : body;
    if (!isObject(b))
      throw invalid([{ field: '(body)', reason: 'must be an object { criteria, output_fields, sort_fields, limit, offset, name }' }]);
    const extra = Object.keys(b).find((k) => !BODY_KEYS.includes(k));
    if (extra !== undefined) throw invalid([{ field: extra, reason: `is not a known field (${BODY_KEYS.join(', ')})` }]);
    const int = (key: 'limit' | 'offset', dflt: number, min: number, max: number) => {
      const v = b[key];
      if (v === undefined || v === null) return dflt;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
        throw invalid([{ field: key, reason: `must be an integer from ${min} to ${max}` }]);
      return v;
    };
    const limit = int('limit', MAX_LIMIT, 1, MAX_LIMIT);
    const offset = int('offset', 0, 0, Number.MAX_SAFE_INTEGER);
    let name = `${qt.definition.name} query`;
    if (b.name !== undefined && b.name !== null) {
      if (typeof b.name !== 'string' || !b.name.trim() || b.name.length > MAX_NAME)
        throw invalid([{ field: 'name', reason: `must be a non-empty string of at most ${MAX_NAME} characters` }]);
      name = b.name.trim();
    }
    // compiled here only to check it (the dialect does not change what is valid)
    compileCriteria(qt, b.criteria, this.store.dialect);
    const output = checkOutputFields(qt, b.output_fields);
    const sort = checkSort(qt, b.sort_fields);
    return {
      queryType: qt.definition.id,
      outputFormat: outputFormat as OutputFormat,
      name,
      criteria: b.criteria ?? null,
      output_fields: output.map((f) => f.name),
      sort_fields: sort,
      limit,
      offset,
    };
  }

  private prepare(tenantId: string, p: QueryParams): Prepared {
    const qt = queryType(p.queryType);
    if (!qt) throw notFound('query type', p.queryType);
    const dialect = this.store.dialect;
    const sort = checkSort(qt, p.sort_fields);
    return {
      params: p,
      qt,
      output: checkOutputFields(qt, p.output_fields),
      rows: {
        table: qt.table.name,
        tenantId,
        where: compileCriteria(qt, p.criteria, dialect),
        order: compileSort(qt, sort, dialect),
        ...(sort[0]!.field === 'id' ? { idOrder: sort[0]!.direction } : {}),
        limit: p.limit,
        offset: p.offset,
      },
    };
  }

  async run(ctx: RequestContext, queryTypeId: string, outputFormat: string, body: unknown): Promise<RunView> {
    const params = this.check(queryTypeId, outputFormat, body);
    // the "record" of the execution is the run itself: a fresh id, so runs never wait for each other
    const handle = await this.services.executions.start(ctx, RESOURCE, newId(), ACTION, params as unknown as Record<string, unknown>);
    const id = executionIdOf(handle.executionArn);
    return {
      id,
      name: params.name,
      query_type: params.queryType,
      output_format: params.outputFormat,
      status: 'RUNNING',
      executionArn: handle.executionArn,
      ...urls(ctx.tenantId, id),
    };
  }

  /** The execution of a query run of this tenant; another tenant's id, or another execution's, is a 404. */
  private async load(ctx: RequestContext, id: string): Promise<{ row: ExecutionRow; params: QueryParams }> {
    const row = await this.services.executions.get(ctx.tenantId, id);
    if (!row || row.resource !== RESOURCE || row.action !== ACTION) throw notFound('query', id);
    return { row, params: JSON.parse(row.params ?? '{}') as QueryParams };
  }

  async describe(ctx: RequestContext, id: string): Promise<DescribeView> {
    const { row, params } = await this.load(ctx, id);
    const raw = typeof row.output === 'string' ? JSON.parse(row.output) : row.output;
    const out = isObject(raw) ? raw : {};
    const done = row.status === 'SUCCEEDED';
    return {
      id: row.id,
      name: params.name,
      query_type: params.queryType,
      output_format: params.outputFormat,
      status: row.status,
      row_count: done && typeof out.row_count === 'number' ? out.row_count : null,
      size_bytes: done && typeof out.size_bytes === 'number' ? out.size_bytes : null,
      created_at: row.start_date,
      completed_at: row.stop_date ?? null,
      result_url: urls(ctx.tenantId, row.id).result_url,
      error: row.error ?? null,
    };
  }

  /**
   * The result as a stream. Only a SUCCEEDED run has one (409 otherwise). The records are read again,
   * in the query's order, into a spool that the response follows.
   */
  async result(ctx: RequestContext, id: string): Promise<QueryResult> {
    const { row, params } = await this.load(ctx, id);
    if (row.status === 'RUNNING')
      throw new AppError(
        'conflict',
        `query ${id} is still running; poll GET ${urls(ctx.tenantId, id).describe_url} until its status is SUCCEEDED`,
      );
    if (row.status === 'FAILED')
      throw new AppError('conflict', `query ${id} failed (${row.error ?? 'no reason recorded'}); it has no result: run it again`);
    let prepared: Prepared;
    try {
      prepared = this.prepare(ctx.tenantId, params);
    } catch (e) {
      // the query was valid when it ran; a definition that changed since (an upgrade) may refuse it
      if (isAppError(e)) throw new AppError('conflict', `query ${id} no longer matches its query type: ${e.message}; run it again`);
      throw e;
    }
    const spool = await Spool.open();
    void spool.fill(render(selectedRecords(this.store.db, this.store.dialect, prepared.rows), prepared.output, params.outputFormat));
    try {
      await spool.ready();
    } catch (e) {
      await spool.close();
      throw e;
    }
    const safe =
      params.name
        .replace(/[^\w.-]+/g, '_')
        .replace(/^_+|_+$/g, '')
        .slice(0, 100) || params.queryType;
    return {
      format: params.outputFormat,
      contentType: contentType(params.outputFormat),
      filename: `${safe}.${params.outputFormat}`,
      stream: spool.reader(),
    };
  }

  /** The run: one pass over the selected records, counting rows and rendered bytes. */
  /** The execution handler (jobs/registry.ts): runs the query and counts its rows and bytes. */
  async execute(job: JobContext): Promise<{ row_count: number; size_bytes: number }> {
    const { db, dialect } = this.store;
    const p = this.prepare(job.ctx.tenantId, job.params as unknown as QueryParams);
    const matches = await countMatches(db, p.rows);
    const expected = Math.max(0, Math.min(p.params.limit, matches - p.params.offset));
    // when every match is selected, the order does not change the count nor the bytes: read unsorted
    const anyOrder = p.params.offset === 0 && matches <= p.params.limit;
    // Progress is written between rows only on PostgreSQL: on SQLite a sorted read holds the one
    // connection, and a write issued meanwhile would wait for the read that waits for it.
    const reportAlong = dialect === 'postgres';
    let rows = 0;
    let bytes = 0;
    const counted = async function* (source: AsyncIterable<Record<string, unknown>[]>) {
      for await (const batch of source) {
        rows += batch.length;
        yield batch;
      }
    };
    let reported = 0;
    for await (const chunk of render(counted(selectedRecords(db, dialect, p.rows, { anyOrder })), p.output, p.params.outputFormat)) {
      bytes += Buffer.byteLength(chunk, 'utf8');
      if (job.stopping) throw new Error('the run was interrupted (server stopping or lease lost); it resumes from the start');
      if (reportAlong && rows - reported >= 10_000) {
        reported = rows;
        await job.progress(rows, expected);
      }
    }
    await job.progress(rows, rows);
    return { row_count: rows, size_bytes: bytes };
  }
}
