import { stringify } from 'csv-stringify/sync';
import type { FieldError } from '../core/errors.js';
import type { Resource } from '../resources/kit/define.js';
import { errorColumn, escapeFormula, importPlan, JSONL_ERRORS } from './columns.js';
import type { Format } from './reader.js';

/**
 * The rejects file of a load: its rejected rows in the input's format, each with its errors, ready to
 * fix and load again (a load ignores the error column / key).
 * - CSV: the header of the file, then an `error` column (`_error` where the resource has a field
 *   named error) holding `field: reason; …`; each row's cells as they were read. A row that could
 *   not be read as CSV or UTF-8 has empty cells and only its error. A file that is itself a rejects
 *   file keeps its one error column, refilled. Text cells that a spreadsheet would run as a formula
 *   get a leading `'` as in exports (a load takes it off again); cells of JSON columns stay as sent.
 * - JSON Lines: each row's object with `_errors: [{ field, reason }]`; a line that is not a JSON
 *   object is `{ "_line": "<its text>", "_errors": … }`; a line that could not be read only `_errors`.
 */
export interface RejectedRow {
  row: number;
  errors: FieldError[];
  source: string | null;
}

const message = (errors: FieldError[]) => errors.map((e) => `${e.field}: ${e.reason}`).join('; ');
const FORMULA_START = /^[=+\-@\t\r]/;

export function rejectsWriter(resource: Resource, format: Format, headerJson: string | null) {
  if (format === 'jsonl') {
    return {
      head: () => '',
      rows: (rows: RejectedRow[]) =>
        rows
          .map((r) => {
            let obj: Record<string, unknown> | undefined;
            if (r.source !== null) {
              try {
                const v = JSON.parse(r.source) as unknown;
                if (v !== null && typeof v === 'object' && !Array.isArray(v)) obj = v as Record<string, unknown>;
              } catch {
                /* kept as text below */
              }
            }
            const out = obj ?? (r.source !== null ? { _line: r.source } : {});
            return `${JSON.stringify({ ...out, [JSONL_ERRORS]: r.errors })}\n`;
          })
          .join(''),
    };
  }
  const header = headerJson ? (JSON.parse(headerJson) as string[]) : [];
  const plan = importPlan(resource, header);
  const name = errorColumn(resource);
  const existing = header.findIndex((h) => h.trim() === name);
  const errorAt = existing >= 0 ? existing : header.length;
  // JSON columns are read without unescaping: their cells are written as they came
  const escaped = header.map((_h, i) => {
    const k = plan.columns[i]?.kind;
    return k !== 'json' && k !== 'any';
  });
  return {
    head: () => stringify([existing >= 0 ? header : [...header, name]]),
    rows: (rows: RejectedRow[]) =>
      stringify(
        rows.map((r) => {
          let cells: string[] = [];
          if (r.source !== null) {
            try {
              cells = (JSON.parse(r.source) as unknown[]).map(String);
            } catch {
              cells = [];
            }
          }
          cells = cells.map((c, i) => (escaped[i] !== false && FORMULA_START.test(c) ? `'${c}` : c));
          while (cells.length < header.length) cells.push('');
          const text = escapeFormula(message(r.errors));
          // a row with more cells than the header (that is its error) keeps them, the error after them
          if (errorAt < header.length) cells[errorAt] = text;
          else cells.push(text);
          return cells;
        }),
      ),
  };
}
