import { AppError, invalid } from '../../core/errors.js';
import { isValidId } from '../../core/ids.js';

/**
 * Keyset paging keys. The key is opaque to clients (DynamoDB style: pass `LastEvaluatedKey` back as
 * `exclusiveStartKey`); inside it is the last id of the page. The tenant is never in the key: it
 * comes from the path, so a key cannot reach another tenant's records.
 */
export function encodeKey(lastId: string, builtIn = false): string {
  return Buffer.from(JSON.stringify(builtIn ? { id: lastId, b: 1 } : { id: lastId })).toString('base64url');
}

/** The 400 for a key this server did not issue (or that no longer points anywhere). */
export const badKey = (param = 'exclusiveStartKey') =>
  invalid([{ field: param, reason: 'is not a key this server issued (use LastEvaluatedKey as it was returned)' }], 'bad_request');

/**
 * The key's last id, and whether it names a built-in record (a page that ended among the records the
 * server provides: query definitions, computed statistics) rather than a stored one.
 */
export function decodeKeyOf(key: string | undefined, param = 'exclusiveStartKey'): { id: string; builtIn: boolean } | undefined {
  if (key === undefined || key === '') return undefined;
  if (key.length > 512 || !/^[A-Za-z0-9_-]+$/.test(key)) throw badKey(param);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(key, 'base64url').toString('utf8'));
  } catch {
    throw badKey(param);
  }
  const { id, b } = (parsed ?? {}) as { id?: unknown; b?: unknown };
  if (!isValidId(id) || (b !== undefined && b !== 1)) throw badKey(param);
  return { id, builtIn: b === 1 };
}

export function decodeKey(key: string | undefined, param = 'exclusiveStartKey'): string | undefined {
  return decodeKeyOf(key, param)?.id;
}

export function pageLimit(raw: unknown, dflt: number, max: number): number {
  if (raw === undefined || raw === '') return dflt;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw invalid([{ field: 'limit', reason: `must be a whole number from 1 to ${max}` }], 'bad_request');
  }
  return n;
}

/** Fetches limit+1 rows so that the last page carries no key. */
export function toPage<T extends { id: string }>(rows: T[], limit: number): { items: T[]; lastKey?: string } {
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  return { items, lastKey: encodeKey(items[items.length - 1]!.id) };
}

/**
 * `fields=a,b.c` -> projection paths, each checked against what the resource has. `id` is always kept
 * so that a projected record can still be addressed.
 */
export function parseProjection(raw: string | undefined, allowed: Set<string>, param: string): string[][] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  // clients repeat the same few projections: the parsed paths are kept per resource (bounded); callers only read them
  let known = projections.get(allowed);
  if (!known) projections.set(allowed, (known = new Map()));
  const hit = known.get(raw);
  if (hit) return hit;
  const paths = parseProjectionOnce(raw, allowed, param);
  if (known.size >= 256) known.clear();
  known.set(raw, paths);
  return paths;
}
const projections = new WeakMap<Set<string>, Map<string, string[][]>>();

function parseProjectionOnce(raw: string, allowed: Set<string>, param: string): string[][] {
  const parts = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.length > 200) throw invalid([{ field: param, reason: 'names too many fields (at most 200)' }], 'bad_request');
  const paths: string[][] = [];
  for (const p of parts) {
    const path = p.split('.');
    if (!allowed.has(path[0]!) || path.some((k) => k === '' || k === '__proto__')) {
      throw invalid([{ field: param, reason: `names unknown field "${p}"` }], 'bad_request');
    }
    paths.push(path);
  }
  return paths;
}

export function project<T extends Record<string, unknown>>(record: T, paths: string[][] | undefined): Record<string, unknown> {
  if (!paths) return record;
  const out: Record<string, unknown> = { id: record.id };
  for (const full of paths) {
    // A path descends through objects only: at an array (or a scalar) the projection keeps that whole
    // value, so that a projected record still has the shape of its schema.
    const path: string[] = [];
    let src: unknown = record;
    for (const k of full) {
      if (src === null || typeof src !== 'object' || Array.isArray(src)) break;
      path.push(k);
      src = Object.hasOwn(src, k) ? (src as Record<string, unknown>)[k] : undefined;
    }
    if (src === undefined || !path.length) continue;
    let dst = out;
    for (let i = 0; i < path.length - 1; i++) {
      const k = path[i]!;
      if (dst[k] === undefined || typeof dst[k] !== 'object' || Array.isArray(dst[k])) dst[k] = {};
      dst = dst[k] as Record<string, unknown>;
    }
    dst[path[path.length - 1]!] = src;
  }
  return out;
}

/** `If-Match` values: `"3"`, `W/"3"`, `3`, lists, or `*`. */
export function ifMatchAllows(header: string | undefined, version: number): boolean {
  if (header === undefined) return true;
  const tags = header.split(',').map((t) => t.trim());
  return tags.some((t) => t === '*' || t.replace(/^W\//, '').replace(/^"(.*)"$/, '$1') === String(version));
}

export const etag = (version: number) => `"${version}"`;

export const preconditionFailed = (version: number) =>
  new AppError('precondition_failed', `If-Match does not match the current version (${etag(version)}); read the record again`, {
    headers: { etag: etag(version) },
  });
