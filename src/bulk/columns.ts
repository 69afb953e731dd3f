import type { FieldError } from '../core/errors.js';
import { SYS_FIELDS, isSysField, type Resource } from '../resources/kit/define.js';

/**
 * Records <-> flat rows (CSV), derived from a resource's definition:
 * - an object whose properties are all declared (additionalProperties false) is flattened into one
 *   column per property, with dotted names (`capacity_options.capacity`);
 * - an array of scalars is one column, items joined with `;` (an item holding `;`, an empty array or
 *   a value that would read ambiguously is written as JSON text instead, which the importer reads);
 * - everything else that is not a scalar (arrays of objects, free-form objects) is one column
 *   holding JSON text.
 * A CSV cell is text: the importer converts it by the field's type, and an empty cell is "absent".
 */
type S = Record<string, any>;

export type ScalarKind = 'string' | 'number' | 'integer' | 'boolean';
/** How a cell is read and written: a scalar, a `;` list of scalars, JSON text, or `any` (JSON if it parses, else text). */
export type CellKind = ScalarKind | { list: ScalarKind } | 'json' | 'any';

export interface Column {
  /** The header: the dotted path. */
  name: string;
  path: string[];
  kind: CellKind;
}

const SCALARS = new Set(['string', 'number', 'integer', 'boolean']);
export const EXTERNAL_ID = 'sys_external_id';
/** A sys_external_id: what the id of a record in another system can reasonably be. */
export const EXTERNAL_ID_MAX = 256;
/** The key of a JSON Lines rejects file that holds a row's errors; a load ignores it. */
export const JSONL_ERRORS = '_errors';
/**
 * The column of a CSV rejects file that holds a row's errors: `error`, or `_error` for a resource
 * with a field named error (billing runs). A load ignores it, so a fixed rejects file loads again.
 */
export const errorColumn = (r: Resource) => (Object.hasOwn(r.inputSchema.properties, 'error') ? '_error' : 'error');

function kindOf(s: S): CellKind {
  if (s.anyOf || s.oneOf) return 'any';
  if (SCALARS.has(s.type)) return s.type as ScalarKind;
  if (s.type === 'array') {
    const it = (s.items ?? {}) as S;
    return SCALARS.has(it.type) && !it.anyOf ? { list: it.type as ScalarKind } : 'json';
  }
  if (s.type === 'object') return 'json';
  return 'any';
}

/** Objects written as dotted columns: declared properties only, so that nothing is lost by flattening. */
const flattened = (s: S) =>
  s.type === 'object' && !s.anyOf && s.additionalProperties === false && s.properties && Object.keys(s.properties).length > 0;

const fieldSchemas = (r: Resource) => r.inputSchema.properties as Record<string, S>;

function leaves(props: Record<string, S>, prefix: string[], out: Column[]) {
  for (const [k, s] of Object.entries(props)) {
    const path = [...prefix, k];
    if (flattened(s)) leaves(s.properties, path, out);
    else out.push({ name: path.join('.'), path, kind: kindOf(s) });
  }
}

/** The columns of an export by default: every field of the definition, then sys_external_id. */
export function defaultColumns(r: Resource): Column[] {
  const out: Column[] = [];
  leaves(fieldSchemas(r), [], out);
  out.push({ name: EXTERNAL_ID, path: [EXTERNAL_ID], kind: 'string' });
  return out;
}

/**
 * `fields=a,b.c` of a CSV export -> columns. A name of a flattened object stands for all its columns;
 * `id` and sys_* fields may be named too. Unknown names, and names inside a value that is written as
 * one JSON column, are errors.
 */
export function selectColumns(r: Resource, raw: string): { columns: Column[]; errors: FieldError[] } {
  const columns: Column[] = [];
  const errors: FieldError[] = [];
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length > 500) return { columns, errors: [{ field: 'fields', reason: 'names too many fields (at most 500)' }] };
  for (const name of names) {
    const path = name.split('.');
    if (name === 'id') {
      columns.push({ name, path, kind: 'string' });
      continue;
    }
    if (isSysField(path[0]!)) {
      const s = SYS_FIELDS[path[0]!] as S | undefined;
      if (!s || path.length > 1) errors.push({ field: 'fields', reason: `names unknown field "${name}"` });
      else columns.push({ name, path, kind: kindOf(s) });
      continue;
    }
    let props: Record<string, S> | undefined = fieldSchemas(r);
    let s: S | undefined;
    let problem: string | undefined;
    for (let i = 0; i < path.length; i++) {
      s = props && Object.hasOwn(props, path[i]!) ? props[path[i]!] : undefined;
      if (!s) {
        problem = `names unknown field "${name}"`;
        break;
      }
      if (i < path.length - 1 && !flattened(s)) {
        const whole = path.slice(0, i + 1).join('.');
        problem = `"${name}" is inside ${whole}, which is exported whole (as JSON): name ${whole}`;
        break;
      }
      props = s.properties;
    }
    if (problem || !s) {
      errors.push({ field: 'fields', reason: problem ?? `names unknown field "${name}"` });
      continue;
    }
    if (flattened(s)) leaves(s.properties, path, columns);
    else columns.push({ name, path, kind: kindOf(s) });
  }
  const seen = new Set<string>();
  return { columns: columns.filter((c) => !seen.has(c.name) && seen.add(c.name)), errors };
}

/** A CSV header -> how each column is read, or why the file cannot be loaded (before any row is). */
export interface ImportPlan {
  /** One per header cell: the column, or null for a column that is ignored (sys_* but sys_external_id). */
  columns: (Column | null)[];
  problems: FieldError[];
}

export function importPlan(r: Resource, header: string[]): ImportPlan {
  const problems: FieldError[] = [];
  const columns: (Column | null)[] = [];
  const seen = new Set<string>();
  header.forEach((raw, i) => {
    const name = raw.trim();
    const at = name || `column ${i + 1}`;
    if (!name) {
      problems.push({ field: at, reason: 'has no name (the header row names every column)' });
      columns.push(null);
      return;
    }
    if (seen.has(name)) problems.push({ field: name, reason: 'appears twice in the header' });
    seen.add(name);
    if (name === 'id') {
      problems.push({
        field: 'id',
        reason: 'ids are generated by the server: load the file without an id column (match records of a re-run with sys_external_id)',
      });
      columns.push(null);
      return;
    }
    if (name === EXTERNAL_ID) {
      columns.push({ name, path: [name], kind: 'string' });
      return;
    }
    if (name === errorColumn(r)) {
      // the errors of a rejects file: not data
      columns.push(null);
      return;
    }
    if (isSysField(name.split('.')[0]!)) {
      // set by the server, ignored in a load as in any write
      columns.push(null);
      return;
    }
    const path = name.split('.');
    if (path.some((k) => k === '' || k === '__proto__' || k === 'constructor' || k === 'prototype')) {
      problems.push({ field: name, reason: 'is not a field name' });
      columns.push(null);
      return;
    }
    let props: Record<string, S> | undefined = fieldSchemas(r);
    let kind: CellKind | undefined;
    for (let k = 0; k < path.length; k++) {
      const s: S | undefined = props && Object.hasOwn(props, path[k]!) ? props[path[k]!] : undefined;
      if (!s) {
        // below a free-form object, any name goes (read as JSON when it parses, else as text)
        const parent = k > 0 ? schemaAt(r, path.slice(0, k)) : undefined;
        if (parent && parent.type === 'object' && parent.additionalProperties !== false) kind = 'any';
        break;
      }
      if (k === path.length - 1) {
        kind = kindOf(s);
        break;
      }
      if (s.type === 'array') {
        problems.push({
          field: name,
          reason: `${path.slice(0, k + 1).join('.')} is a list: give it whole, as JSON text, in a column named ${path.slice(0, k + 1).join('.')}`,
        });
        kind = undefined;
        columns.push(null);
        return;
      }
      if (s.type !== 'object') break;
      props = s.properties;
    }
    if (!kind) {
      problems.push({ field: name, reason: 'is not a field of this resource' });
      columns.push(null);
      return;
    }
    columns.push({ name, path, kind });
  });
  // a column and a column inside it would both set the same value
  const names = columns.filter((c): c is Column => c !== null).map((c) => c.name);
  for (const a of names)
    for (const b of names)
      if (b.startsWith(`${a}.`)) problems.push({ field: b, reason: `is inside ${a}, which has its own column: use one or the other` });
  return { columns, problems };
}

function schemaAt(r: Resource, path: string[]): S | undefined {
  let props: Record<string, S> | undefined = fieldSchemas(r);
  let s: S | undefined;
  for (const k of path) {
    s = props && Object.hasOwn(props, k) ? props[k] : undefined;
    if (!s) return undefined;
    props = s.properties;
  }
  return s;
}

// ---- cells ---------------------------------------------------------------------------------------

/**
 * CSV injection (OWASP): a spreadsheet runs a cell that begins with `=`, `+`, `-`, `@`, a tab or a
 * carriage return as a formula. Text cells that begin so are written with a single quote in front,
 * which a spreadsheet shows as text; so that an export still loads back exactly, text already
 * beginning with quotes before such a character gets one more, and a load takes one off. Numbers of
 * number fields are written as numbers (-5), lists that would begin so as JSON text (["-a"]).
 */
const FORMULA = /^'*[=+\-@\t\r]/;
const ESCAPED_FORMULA = /^'+[=+\-@\t\r]/;
export const escapeFormula = (text: string) => (FORMULA.test(text) ? `'${text}` : text);
const unescapeFormula = (cell: string) => (ESCAPED_FORMULA.test(cell) ? cell.slice(1) : cell);

const NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function scalar(cell: string, kind: ScalarKind): unknown {
  switch (kind) {
    case 'number':
    case 'integer': {
      const t = cell.trim();
      // anything else stays text, so that validation says what the field needs
      return NUMBER_RE.test(t) ? Number(t) : cell;
    }
    case 'boolean': {
      const t = cell.trim().toLowerCase();
      return t === 'true' ? true : t === 'false' ? false : cell;
    }
    default:
      return cell;
  }
}

function parseJson(cell: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(cell) };
  } catch {
    return { ok: false };
  }
}

/** A non-empty cell -> its value, or why it cannot be read. */
export function readCell(raw: string, kind: CellKind): { value: unknown } | { error: string } {
  // JSON text never begins with a quote: only text cells (and lists of scalars) can be escaped
  const cell = kind === 'json' || kind === 'any' ? raw : unescapeFormula(raw);
  if (typeof kind === 'object') {
    if (cell.startsWith('[')) {
      const j = parseJson(cell);
      if (j.ok && Array.isArray(j.value)) return { value: j.value };
    }
    return { value: cell.split(';').map((item) => scalar(item, kind.list)) };
  }
  if (kind === 'json') {
    const j = parseJson(cell);
    return j.ok ? { value: j.value } : { error: 'must be JSON text (an object or a list)' };
  }
  if (kind === 'any') {
    const j = parseJson(cell);
    return { value: j.ok ? j.value : cell };
  }
  return { value: scalar(cell, kind) };
}

/** The object of one CSV record; `errors` holds the cells that could not be read. */
export function readRecord(plan: ImportPlan, cells: string[]): { value: Record<string, unknown>; errors: FieldError[] } {
  const value: Record<string, unknown> = {};
  const errors: FieldError[] = [];
  if (cells.length > plan.columns.length) {
    errors.push({ field: '(row)', reason: `has ${cells.length} cells; the header names ${plan.columns.length} columns` });
    return { value, errors };
  }
  for (let i = 0; i < cells.length; i++) {
    const col = plan.columns[i];
    const cell = cells[i]!;
    if (!col || cell === '') continue;
    const out = readCell(cell, col.kind);
    if ('error' in out) {
      errors.push({ field: col.name, reason: out.error });
      continue;
    }
    let dst = value;
    for (let k = 0; k < col.path.length - 1; k++) {
      const key = col.path[k]!;
      const next = dst[key];
      if (next === null || typeof next !== 'object' || Array.isArray(next)) dst[key] = {};
      dst = dst[key] as Record<string, unknown>;
    }
    dst[col.path[col.path.length - 1]!] = out.value;
  }
  return { value, errors };
}

/** A value -> its cell (the reverse of readCell: reading the cell gives the value back). */
export function writeCell(v: unknown, kind: CellKind): string {
  if (v === undefined || v === null) return '';
  if (typeof kind === 'object') {
    if (Array.isArray(v) && v.length > 0 && v.every((x) => x !== null && ['string', 'number', 'boolean'].includes(typeof x))) {
      const joined = v.map(String).join(';');
      const plain =
        joined !== '' && !joined.startsWith('[') && !FORMULA.test(joined) && v.every((x) => typeof x !== 'string' || !x.includes(';'));
      if (plain && isDeepEqualList(readCell(joined, kind), v)) return joined;
    }
    return JSON.stringify(v);
  }
  if (kind === 'json' || kind === 'any') return JSON.stringify(v);
  if (typeof v === 'string') return escapeFormula(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** Whether the joined form reads back as the same list (e.g. "1" in a list of strings that look like numbers does, by kind). */
function isDeepEqualList(read: { value: unknown } | { error: string }, v: unknown[]): boolean {
  if (!('value' in read) || !Array.isArray(read.value) || read.value.length !== v.length) return false;
  return read.value.every((x, i) => x === v[i]);
}
