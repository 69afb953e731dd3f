import { stringify } from 'csv-stringify/sync';
import { valueAt } from '../core/values.js';

/**
 * Query output, rendered incrementally: batches of records in, text chunks out (one per batch), so
 * neither the rows nor the output are ever held whole. The same renderer produces the bytes counted
 * by the run (size_bytes) and the bytes downloaded, so the two agree.
 *
 * - csv: a header row of the output field names, then one row per record (csv-stringify quoting); a
 *   missing value is an empty cell, booleans are true / false, an array is its items joined with `;`
 *   (object items as JSON), an object is its JSON.
 * - json: `{"Items":[{…},…],"Count":n}`, each item keyed by the output field names (dotted names
 *   kept flat, as the CSV columns), a missing value being null. Count comes last because it is known
 *   only at the end; it is valid JSON wherever it sits.
 */
export type OutputFormat = 'json' | 'csv';
export const OUTPUT_FORMATS: OutputFormat[] = ['json', 'csv'];

export interface OutputField {
  name: string;
  path: string[];
}

const scalarText = (v: unknown): string =>
  v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);

/** One CSV cell (before quoting). */
export function csvCell(v: unknown): string {
  if (Array.isArray(v)) return v.map(scalarText).join(';');
  return scalarText(v);
}

export function contentType(format: OutputFormat): string {
  return format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8';
}

/** Renders batches of records (one chunk of text per batch, the header or opening first). */
export async function* render(batches: AsyncIterable<Record<string, unknown>[]>, fields: OutputField[], format: OutputFormat): AsyncGenerator<string> {
  if (format === 'csv') {
    yield stringify([fields.map((f) => f.name)]);
    for await (const batch of batches) {
      if (batch.length) yield stringify(batch.map((r) => fields.map((f) => csvCell(valueAt(r, f.path)))));
    }
    return;
  }
  let count = 0;
  yield '{"Items":[';
  for await (const batch of batches) {
    const parts: string[] = [];
    for (const r of batch) {
      const row: Record<string, unknown> = Object.create(null);
      for (const f of fields) row[f.name] = valueAt(r, f.path) ?? null;
      parts.push((count++ ? ',' : '') + JSON.stringify(row));
    }
    if (parts.length) yield parts.join('');
  }
  yield `],"Count":${count}}`;
}
