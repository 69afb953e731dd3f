import jsonpatch from 'fast-json-patch';
import { Type } from '@sinclair/typebox';
import { AppError, invalid, type FieldError } from '../../core/errors.js';
import { check } from './validation.js';

/** RFC 6902 operation, as the API documents it (`value` may be any JSON value). */
export const PatchOperationSchema = Type.Object(
  {
    op: Type.String({ enum: ['add', 'remove', 'replace', 'move', 'copy', 'test'] }),
    path: Type.String({ maxLength: 1024, pattern: '^(/.*)?$', description: 'JSON Pointer (RFC 6901)' }),
    from: Type.Optional(Type.String({ maxLength: 1024, pattern: '^(/.*)?$' })),
    value: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false, $id: 'PatchOperation' },
);
export const PatchDocumentSchema = Type.Array(PatchOperationSchema, { minItems: 1, maxItems: 1000 });

export type PatchOp = { op: string; path: string; from?: string; value?: unknown };

const unescapeSegment = (seg: string) => seg.replace(/~1/g, '/').replace(/~0/g, '~');
const segments = (pointer: string) => pointer.split('/').slice(1).map(unescapeSegment);
const firstSegment = (pointer: string) => segments(pointer)[0] ?? '';
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Where a pointer may go in `doc`, checked strictly (RFC 6901/6902) before the library applies the
 * operation: array indexes are canonical (`0`, `12`, never `01`) and in bounds, `-` only ends an add,
 * and every step but an add's last is an own property (never an inherited name such as `toString`).
 */
function pointerError(doc: unknown, pointer: string, mustExist: boolean, forAdd: boolean): string | null {
  let cur: unknown = doc;
  const segs = segments(pointer);
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    const last = i === segs.length - 1;
    if (Array.isArray(cur)) {
      if (seg === '-') return last && forAdd ? null : '"-" may only end the path of an add';
      if (!/^(0|[1-9][0-9]{0,8})$/.test(seg)) return `"${seg}" is not an index of the array`;
      const n = Number(seg);
      if (n > (last && forAdd ? cur.length : cur.length - 1)) return `index ${n} is out of bounds (the array has ${cur.length} items)`;
      if (last) return null;
      cur = cur[n];
    } else if (cur !== null && typeof cur === 'object') {
      const own = Object.hasOwn(cur, seg);
      if (last) return mustExist && !own ? `${pointer} does not exist` : null;
      if (!own) return `${pointer} does not exist`;
      cur = (cur as Record<string, unknown>)[seg];
    } else {
      return `${pointer} does not exist`;
    }
  }
  return null;
}

/**
 * Checks the shape of a patch document and that it only touches what a client may change: never the
 * id or a server-managed sys_* field (a `test` may read anything, so `test /sys_version` is a
 * precondition), except `sys_locked`, which is how a record is locked and unlocked.
 * Returns whether the patch touches sys_locked only (allowed on a locked record).
 */
export function checkPatch(ops: unknown, prefix = ''): { lockOnly: boolean; touchesLock: boolean } {
  const errors = check(PatchDocumentSchema, ops, prefix);
  if (errors.length) throw invalid(errors, 'bad_request');
  const list = ops as PatchOp[];
  const problems: FieldError[] = [];
  let lockOnly = true;
  let touchesLock = false;
  list.forEach((o, i) => {
    const at = prefix ? `${prefix}.${i}` : String(i);
    for (const [name, pointer] of [
      ['path', o.path],
      ['from', o.from],
    ] as const) {
      if (pointer !== undefined && segments(pointer).some((k) => FORBIDDEN_KEYS.has(k)))
        problems.push({ field: `${at}.${name}`, reason: 'may not name __proto__, constructor or prototype' });
    }
    if (o.op === 'test') return;
    const seg = firstSegment(o.path);
    if (o.path === '') problems.push({ field: `${at}.path`, reason: 'cannot replace the whole record; use PUT' });
    else if (seg === 'id' || (seg.startsWith('sys_') && seg !== 'sys_locked'))
      problems.push({ field: `${at}.path`, reason: `${seg} is managed by the server and cannot be changed` });
    if (o.op === 'move' && o.from !== undefined) {
      const fseg = firstSegment(o.from);
      if (o.from === '' || fseg === 'id' || fseg.startsWith('sys_'))
        problems.push({ field: `${at}.from`, reason: `cannot move ${fseg || 'the record'}` });
    }
    if (seg !== 'sys_locked') lockOnly = false;
    else touchesLock = true;
  });
  if (problems.length) throw invalid(problems, 'bad_request');
  return { lockOnly: lockOnly && list.some((o) => o.op !== 'test'), touchesLock };
}

/** The top-level fields a (checked) patch reaches, through its paths and its froms. */
export function touchedFields(ops: PatchOp[]): Set<string> {
  const out = new Set<string>();
  for (const o of ops) for (const p of [o.path, o.from]) if (p !== undefined) out.add(firstSegment(p));
  return out;
}

/**
 * A copy of `doc` that the operations may change without touching `doc`: the top level is copied,
 * and of its values only those the operations reach into (the first segment of a path or a from) are
 * cloned deeply. A PATCH of one field does not clone the whole record.
 */
function copyForPatch<T extends object>(doc: T, ops: PatchOp[]): T {
  if (Array.isArray(doc) || ops.some((o) => o.path === '' || o.from === '')) return structuredClone(doc);
  const out = { ...doc } as Record<string, unknown>;
  for (const key of touchedFields(ops)) {
    const v = Object.hasOwn(out, key) ? out[key] : undefined;
    if (v !== null && typeof v === 'object') out[key] = structuredClone(v);
  }
  return out as T;
}

/**
 * Applies all operations to a copy of the document, or none: a failed `test` is a 409, an operation
 * that cannot apply (path missing, bad index, missing value) a 400 naming the operation.
 */
export function applyPatch<T extends object>(doc: T, ops: PatchOp[], prefix = ''): T {
  // One operation at a time on a private copy: the library's own sequence call reports a wrong index.
  let out = copyForPatch(doc, ops);
  let i = 0;
  try {
    for (; i < ops.length; i++) {
      const o = ops[i]!;
      const at = prefix ? `${prefix}.${i}` : String(i);
      const bad =
        o.op === 'add'
          ? ['path', pointerError(out, o.path, false, true)]
          : o.op === 'remove' || o.op === 'replace'
            ? ['path', pointerError(out, o.path, true, false)]
            : o.op === 'move' || o.op === 'copy'
              ? pointerError(out, o.from ?? '', true, false)
                ? ['from', pointerError(out, o.from ?? '', true, false)]
                : ['path', pointerError(out, o.path, false, true)]
              : // test: the same pointer rules (canonical, in-bounds indexes; no "-"); a missing last member
                // is left to the library, which answers it as a failed test (409)
                o.op === 'test'
                ? ['path', pointerError(out, o.path, false, false)]
                : ['path', null];
      if (bad[1]) throw invalid([{ field: `${at}.${bad[0]}`, reason: bad[1] }], 'bad_request');
      out = jsonpatch.applyOperation(out, o as jsonpatch.Operation, true, true, true, i).newDocument;
    }
    return out;
  } catch (e) {
    if (e instanceof jsonpatch.JsonPatchError) {
      const at = prefix ? `${prefix}.${i}` : String(i);
      if (e.name === 'TEST_OPERATION_FAILED') {
        throw new AppError('conflict', `patch test failed at ${ops[i]?.path}: the record does not hold the tested value`, {
          errors: [{ field: `${at}.value`, reason: 'test failed' }],
        });
      }
      const reason = e.message.split('\n')[0]!;
      throw invalid([{ field: `${at}.path`, reason }], 'bad_request');
    }
    throw e;
  }
}
