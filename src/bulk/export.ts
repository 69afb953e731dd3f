import { stringify } from 'csv-stringify/sync';
import { invalid } from '../core/errors.js';
import type { Resource } from '../resources/kit/define.js';
import { parseProjection, project } from '../resources/kit/paging.js';
import type { Filter, RecordTable, StoredRecord } from '../store/records.js';
import type { Db } from '../store/store.js';
import { asTenant } from '../store/tenant-scope.js';
import { EXTERNAL_ID, defaultColumns, selectColumns, writeCell, type Column } from './columns.js';
import { valueAt } from '../core/values.js';
import type { Format } from './reader.js';

/**
 * Exports: every stored record of a tenant's resource (or those a search's filters select), in id order, read in keyset pages and written
 * as they are read (CSV or JSON Lines), so that the size of a resource never matters. What an export
 * writes, a bulk load reads back (see columns.ts): export -> load into an empty tenant gives the same
 * records (new ids and sys_* fields aside). By default neither `id` nor sys_* fields (but
 * sys_external_id) are written: a load refuses ids.
 */
export const EXPORT_PAGE = 1000;

export type ExportPlan = { format: 'csv'; columns: Column[] } | { format: 'jsonl'; paths?: string[][]; withId: boolean; keys: string[] };

export function exportPlan(r: Resource, format: Format, fields: string | undefined): ExportPlan {
  const named = fields !== undefined && fields.trim() !== '';
  if (format === 'csv') {
    if (!named) return { format, columns: defaultColumns(r) };
    const { columns, errors } = selectColumns(r, fields);
    if (errors.length) throw invalid(errors, 'bad_request');
    if (!columns.length) throw invalid([{ field: 'fields', reason: 'names no field' }], 'bad_request');
    return { format, columns };
  }
  if (!named) return { format, withId: false, keys: [...Object.keys(r.inputSchema.properties), EXTERNAL_ID] };
  const paths = parseProjection(fields, r.projectable, 'fields')!;
  return { format, paths, withId: paths.some((p) => p.length === 1 && p[0] === 'id'), keys: [] };
}

function jsonLine(plan: Extract<ExportPlan, { format: 'jsonl' }>, rec: StoredRecord): string {
  let out: Record<string, unknown>;
  if (plan.paths) {
    out = project(rec, plan.paths);
    if (!plan.withId) delete out.id;
  } else {
    out = {};
    for (const k of plan.keys) if (rec[k] !== undefined) out[k] = rec[k];
  }
  return JSON.stringify(out);
}

/** The export as text chunks: the header (CSV), then one chunk per page of records. */
export async function* exportChunks(
  db: Db,
  table: RecordTable,
  tenantId: string,
  plan: ExportPlan,
  filters: Filter[] = [],
  pageSize = EXPORT_PAGE,
): AsyncGenerator<string> {
  if (plan.format === 'csv') yield stringify([plan.columns.map((c) => c.name)]);
  let after: string | undefined;
  for (;;) {
    // The stream is read outside the request's async context: each page sets the tenant scope itself.
    const page = await asTenant(tenantId, () => table.page(db, tenantId, filters, after, pageSize));
    if (!page.length) return;
    if (plan.format === 'csv') {
      yield stringify(page.map((rec) => plan.columns.map((c) => writeCell(valueAt(rec, c.path), c.kind))));
    } else {
      yield `${page.map((rec) => jsonLine(plan, rec)).join('\n')}\n`;
    }
    if (page.length < pageSize) return;
    after = page[page.length - 1]!.id;
  }
}
