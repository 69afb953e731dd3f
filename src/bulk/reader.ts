import fs from 'node:fs';
import { parse as parseCsv, type CsvError } from 'csv-parse';
import type { FieldError } from '../core/errors.js';
import { checkJsonValue } from '../http/body.js';
import { utf8Problem } from '../core/utf8.js';
import type { Resource } from '../resources/kit/define.js';
import { importPlan, JSONL_ERRORS, readRecord, type ImportPlan } from './columns.js';
import { CsvGuard } from './csv-guard.js';

/**
 * The rows of an uploaded file, streamed (never the whole file in memory): CSV through csv-parse,
 * JSON Lines line by line. Row numbers count data rows from 1 (the CSV header is not a row; blank
 * lines are skipped and not counted). A row that cannot be read is still a row: it carries errors.
 */
export type Format = 'csv' | 'jsonl';

export interface Row {
  no: number;
  value?: Record<string, unknown>;
  errors?: FieldError[];
  /** The row as read, for the rejects file: a CSV record's cells as a JSON array, a JSON line's text. */
  source?: string;
}

/** Longest CSV record or JSON line (a runaway quote must not read a whole file into one field). */
export const MAX_ROW_BYTES = 4 * 1024 * 1024;

/** csv-parse behind a CsvGuard (see csv-guard.ts): feed the file to `input`, read the records from `parser`. */
function csvParser() {
  const guard = new CsvGuard(MAX_ROW_BYTES);
  const parser = parseCsv({
    bom: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    max_record_size: MAX_ROW_BYTES,
    skip_records_with_error: true,
    // a record that cannot be parsed becomes a row with an error, in its place among the others
    on_skip: (err: CsvError | undefined) => {
      parser.push({ skipped: err?.message ?? 'cannot be read as CSV' });
      return undefined;
    },
  });
  guard.pipe(parser);
  guard.on('error', (e) => parser.destroy(e));
  return { input: guard, parser, problem: (rec: string[]) => guard.problem(rec) };
}

/** The records of a CSV file; those the guard refused are `{ skipped }`, with its reason. */
async function* csvItems(input: fs.ReadStream, csv: ReturnType<typeof csvParser>): AsyncGenerator<CsvItem> {
  input.pipe(csv.input);
  for await (const rec of csv.parser as AsyncIterable<CsvItem>) {
    const why = Array.isArray(rec) ? csv.problem(rec) : undefined;
    yield why ? { skipped: why, own: true } : rec;
  }
}

/** A record, or one that cannot be read: `own` when the reason is ours (else csv-parse's message). */
type CsvItem = string[] | { skipped: string; own?: boolean };

/** The CSV header (first record) of a file, or why it cannot be read, reading no further than it. */
export async function readCsvHeader(file: string): Promise<string[] | { skipped: string } | undefined> {
  const input = fs.createReadStream(file);
  const csv = csvParser();
  try {
    for await (const rec of csvItems(input, csv)) return Array.isArray(rec) ? rec : { skipped: rec.skipped };
    return undefined;
  } finally {
    input.destroy();
    csv.input.destroy();
    csv.parser.destroy();
  }
}

/** The first JSON Lines row of a file (parsed), if it is an object. */
export async function readFirstJsonLine(file: string): Promise<Record<string, unknown> | undefined> {
  const input = fs.createReadStream(file);
  try {
    for await (const line of lines(input)) {
      if (!('text' in line)) return undefined;
      if (line.text.trim() === '') continue;
      try {
        const v = parseJsonLine(line.text) as Record<string, unknown> | null;
        return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
      } catch {
        return undefined;
      }
    }
    return undefined;
  } finally {
    input.destroy();
  }
}

type Line = { text: string; line: number } | { tooLong: true; line: number } | { notUtf8: string; line: number };

/** Lines of a byte stream (LF or CRLF), each bounded by MAX_ROW_BYTES and checked to be UTF-8; `line` counts from 1. */
async function* lines(input: AsyncIterable<Buffer>): AsyncGenerator<Line> {
  let parts: Buffer[] = [];
  let size = 0;
  let skipping = false;
  let line = 1;
  let first = true;
  const take = (): Line => {
    const buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    parts = [];
    size = 0;
    const bad = utf8Problem(buf);
    if (bad) return { notUtf8: bad.reason, line };
    let text = buf.toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (first && text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a BOM is accepted and dropped
    first = false;
    return { text, line };
  };
  for await (const chunk of input) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      const end = nl === -1 ? chunk.length : nl;
      if (!skipping) {
        if (size + (end - start) > MAX_ROW_BYTES) {
          skipping = true;
          parts = [];
          size = 0;
          first = false;
          yield { tooLong: true, line };
        } else if (end > start) {
          parts.push(chunk.subarray(start, end));
          size += end - start;
        }
      }
      if (nl === -1) break;
      if (skipping) skipping = false;
      else yield take();
      start = nl + 1;
      line++;
    }
  }
  if (!skipping && size > 0) yield take();
}

function checked(value: Record<string, unknown>, errors: FieldError[]): Row['errors'] {
  const problem = checkJsonValue(value);
  if (problem) errors.push(problem);
  return errors.length ? errors : undefined;
}

/** JSON.parse, refusing `__proto__` keys (as the JSON body parser does): looked for only when the text names one. */
function parseJsonLine(text: string): unknown {
  if (!text.includes('__proto__')) return JSON.parse(text);
  return JSON.parse(text, (k, v) => {
    if (k === '__proto__') throw new SyntaxError('a field named __proto__ is not allowed');
    return v;
  });
}

export interface RowSource {
  rows: AsyncGenerator<Row>;
  /** Bytes of the file read so far (progress). */
  bytesRead(): number;
  close(): void;
}

/**
 * Every data row of a file. For CSV the header row is read first and turned into a plan; a header
 * the resource cannot take is thrown (the route checks it before accepting, so this is a file that
 * changed or a definition that did).
 */
export function readRows(file: string, format: Format, resource: Resource): RowSource {
  const input = fs.createReadStream(file, { highWaterMark: 256 * 1024 });
  const close = () => input.destroy();
  const rows = format === 'csv' ? csvRows(input, resource) : jsonRows(input);
  return { rows, bytesRead: () => input.bytesRead, close };
}

async function* csvRows(input: fs.ReadStream, resource: Resource): AsyncGenerator<Row> {
  const csv = csvParser();
  let plan: ImportPlan | undefined;
  let no = 0;
  try {
    for await (const rec of csvItems(input, csv)) {
      if (!plan) {
        if (!Array.isArray(rec)) throw new Error(`the header row cannot be read as CSV: ${rec.skipped}`);
        plan = importPlan(resource, rec);
        if (plan.problems.length)
          throw new Error(
            `the header row does not fit ${resource.def.slug}: ${plan.problems.map((p) => `${p.field}: ${p.reason}`).join('; ')}`,
          );
        continue;
      }
      no++;
      if (!Array.isArray(rec)) {
        yield { no, errors: [{ field: '(row)', reason: rec.own ? rec.skipped : `cannot be read as CSV (${rec.skipped})` }] };
        continue;
      }
      const { value, errors } = readRecord(plan, rec);
      yield { no, value, errors: checked(value, errors), source: JSON.stringify(rec) };
    }
  } finally {
    csv.input.destroy();
    csv.parser.destroy();
  }
}

async function* jsonRows(input: fs.ReadStream): AsyncGenerator<Row> {
  let no = 0;
  for await (const line of lines(input)) {
    if ('tooLong' in line) {
      no++;
      yield { no, errors: [{ field: '(row)', reason: `is longer than ${MAX_ROW_BYTES} bytes` }] };
      continue;
    }
    if ('notUtf8' in line) {
      no++;
      yield { no, errors: [{ field: '(row)', reason: `${line.notUtf8} on line ${line.line} of the file: save the file as UTF-8` }] };
      continue;
    }
    if (line.text.trim() === '') continue;
    no++;
    let value: unknown;
    try {
      value = parseJsonLine(line.text);
    } catch (e) {
      yield { no, errors: [{ field: '(row)', reason: `is not valid JSON (${(e as Error).message})` }], source: line.text };
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      yield { no, errors: [{ field: '(row)', reason: 'must be a JSON object' }], source: line.text };
      continue;
    }
    const v = value as Record<string, unknown>;
    // the error list of a rejects file (rejects.ts) is not part of the row: a fixed file loads again
    delete v[JSONL_ERRORS];
    yield { no, value: v, errors: checked(v, []), source: line.text };
  }
}
