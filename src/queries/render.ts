import { stringify } from 'csv-stringify/sync';
import { valueAt } from '../core/values.js';

/**
 * Query output, rendered incrementally: batches of records in, text chunks out (one per batch), so
 * neither the rows nor the output are ever held whole. The same renderer produces the bytes counted
 * by the run (size_bytes) and the bytes downloaded, so the two agree.
 *
 * - csv: a header row of the output field names, then one row per record (csv-stringify quoting); a
 *   missing value is an empty cell, booleans are true / false, an array is its items joined with `;`
 *   (object items as JSON), an object is its JSON; text beginning with = + - @ tab or CR gets a `'`
 *   in front (see csvCell). JSON output is exact.
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

const scalarText = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** Spreadsheets run a cell beginning with one of these as a formula (CSV injection). */
const FORMULA = /^[=+\-@\t\r]/;

/**
 * One CSV cell (before quoting). Text that a spreadsheet would run as a formula gets a single quote
 * in front (OWASP's advice against CSV injection); a number stays a number (-5), being no formula.
 */
export function csvCell(v: unknown): string {
  if (typeof v === 'number') return String(v);
  const text = Array.isArray(v) ? v.map(scalarText).join(';') : scalarText(v);
  return FORMULA.test(text) ? `'${text}` : text;
}

export function contentType(format: OutputFormat): string {
  return format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8';
}

/** Renders batches of records (one chunk of text per batch, the header or opening first). */
export async function* render(
  batches: AsyncIterable<Record<string, unknown>[]>,
  fields: OutputField[],
  format: OutputFormat,
): AsyncGenerator<string> {
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
