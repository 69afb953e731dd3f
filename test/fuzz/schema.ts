import { sampleScalar } from '../factory.js';

/**
 * Schemas read as data (the definitions' TypeBox schemas), and request bodies built as text: 1 MB
 * strings and 10,000-deep values are never JSON.stringify'd, they are spliced in as Raw text.
 */
export type S = Record<string, any>;

export const isInternalRef = (s: S) => typeof s['x-ref'] === 'string' && !s['x-ref'].startsWith('external:');
export const isOpenObject = (s: S) => s.type === 'object' && s.additionalProperties !== false;
export const isClosedObject = (s: S) => s.type === 'object' && s.additionalProperties === false;
export const isPlainString = (s: S) =>
  s.type === 'string' && !s.format && !s.enum && !s.pattern && !isInternalRef(s) && s.minLength === undefined && s.maxLength === undefined;

/** A schema-valid value with the required parts only (references are not resolved: shape only). */
export function shape(s: S): unknown {
  if (s.const !== undefined) return s.const;
  if (s.anyOf) return shape(s.anyOf[0]);
  if (s.enum) return s.enum[0];
  switch (s.type) {
    case 'object': {
      const o: S = {};
      for (const k of s.required ?? []) o[k] = shape(s.properties[k]);
      return o;
    }
    case 'array':
      return Array.from({ length: s.minItems ?? 0 }, () => shape(s.items));
    case 'null':
      return null;
    default:
      return sampleScalar(s);
  }
}

/** A valid value with every property and one item per array; undefined where a reference is needed. */
export function full(s: S): unknown {
  if (isInternalRef(s)) return undefined;
  if (s.const !== undefined) return s.const;
  if (s.anyOf) return full(s.anyOf[0]);
  if (s.enum) return s.enum[0];
  switch (s.type) {
    case 'object': {
      if (!s.properties || !Object.keys(s.properties).length) return isOpenObject(s) ? { note: 'free-form' } : {};
      const o: S = {};
      for (const [k, p] of Object.entries(s.properties as S)) {
        const v = full(p);
        if (v !== undefined) o[k] = v;
        else if ((s.required ?? []).includes(k)) return undefined;
      }
      return o;
    }
    case 'array': {
      const v = full(s.items);
      return v === undefined ? (s.minItems ? undefined : []) : [v];
    }
    case 'null':
      return null;
    default:
      return sampleScalar(s);
  }
}

/** Text spliced into a body as it is (see json()). */
export class Raw {
  constructor(readonly text: string) {}
}
/** JSON.stringify, with every Raw value written as its text. */
export function json(value: unknown): string {
  const parts: string[] = [];
  const text = JSON.stringify(value, (_k, v) => {
    if (!(v instanceof Raw)) return v;
    parts.push(v.text);
    return `\u0001slot${parts.length - 1}\u0001`;
  });
  return parts.length ? text.replace(/"\\u0001slot(\d+)\\u0001"/g, (_m, i: string) => parts[Number(i)]!) : text;
}

/** A JSON pointer from path segments (RFC 6901 escapes). */
export const ptr = (segs: string[]) => segs.map((s) => `/${s.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
