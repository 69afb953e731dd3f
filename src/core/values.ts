/**
 * The value at a path of property names in a JSON record (`['address', 'city']`), or undefined
 * where the path leaves the objects: a missing or inherited key, an array, a scalar or null on the
 * way. Only own properties count, so a path can never reach Object.prototype.
 */
export function valueAt(record: Record<string, unknown>, path: readonly string[]): unknown {
  let v: unknown = record;
  for (const k of path) {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, k)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}
