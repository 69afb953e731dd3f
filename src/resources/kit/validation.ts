import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FieldError } from '../../core/errors.js';
import { EXTENSION_KEYWORDS, ORDERED } from './fields.js';

// ajv and ajv-formats are CommonJS with a default export.
const Ajv = (AjvModule as unknown as { default: typeof AjvModule }).default ?? AjvModule;
const addFormats = (addFormatsModule as unknown as { default: typeof addFormatsModule }).default ?? addFormatsModule;

/**
 * The one validator of the server (request bodies, query strings, patched records, batch objects).
 * No type coercion and no silent removal of unknown properties: what the client sent is what is
 * judged. allErrors is off so that a huge bad array costs one error, not one per element.
 */
function makeAjv(allErrors: boolean) {
  const instance = new (Ajv as any)({
    allErrors,
    coerceTypes: false,
    removeAdditional: false,
    useDefaults: false,
    strict: true,
    strictRequired: false,
    allowUnionTypes: true,
  }) as import('ajv').default;
  (addFormats as any)(instance, ['date', 'date-time', 'email', 'uri']);
  for (const k of EXTENSION_KEYWORDS) instance.addKeyword(k);
  return instance;
}
export const ajv = makeAjv(false);
/**
 * Every error, not only the first: for judging a PATCH of a record stored under older rules
 * (ServiceCore.patchErrors) and for `accredit check`, never on the hot path of a valid write.
 */
const ajvAll = makeAjv(true);

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
/** A comparable value of an ordered field (a number, a date or an instant); undefined when absent or malformed. */
function orderValue(v: unknown): number | string | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  if (DATE_ONLY.test(v)) return v;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}
/**
 * `x-ordered` (see obj() in fields.ts): for each pair [a, b] of the object's properties, b may not come
 * before a when both are present. The error names b (its path inside the body) and what it must follow.
 */
const orderedKeyword = Object.assign(
  function validateOrdered(
    this: unknown,
    pairs: [string, string][],
    data: unknown,
    _parent: unknown,
    cxt?: { instancePath: string },
  ): boolean {
    if (data === null || typeof data !== 'object' || Array.isArray(data)) return true;
    const rec = data as Record<string, unknown>;
    for (const [a, b] of pairs) {
      const va = orderValue(rec[a]);
      const vb = orderValue(rec[b]);
      if (va === undefined || vb === undefined || typeof va !== typeof vb) continue;
      if (vb < va) {
        (orderedKeyword as { errors?: unknown[] }).errors = [
          {
            keyword: ORDERED,
            instancePath: `${cxt?.instancePath ?? ''}/${b.replace(/~/g, '~0').replace(/\//g, '~1')}`,
            params: { first: a, firstValue: rec[a], number: typeof va === 'number' && typeof rec[a] === 'number' },
            message: `must not be before ${a}`,
          },
        ];
        return false;
      }
    }
    return true;
  },
  { errors: undefined as unknown[] | undefined },
);
for (const instance of [ajv, ajvAll]) {
  instance.addKeyword({ keyword: ORDERED, type: 'object', schemaType: 'array', errors: true, validate: orderedKeyword as any });
  // OpenAPI annotations that may appear in route schemas.
  for (const k of ['example', 'examples', 'xml', 'externalDocs', 'discriminator']) {
    try {
      instance.addKeyword(k);
    } catch {
      /* already known to ajv */
    }
  }
}

const FORMAT_HINT: Record<string, string> = {
  date: 'must be a date (YYYY-MM-DD)',
  'date-time': 'must be a date-time with a time zone (e.g. 2025-04-18T09:30:00Z)',
  email: 'must be an e-mail address',
  uri: 'must be a URI',
};

/** JSON pointer (`/a/b~1c/0`) + child -> dotted field path (`a.b/c.0`). */
export function fieldPath(instancePath: string, child?: string): string {
  const parts = instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (child !== undefined) parts.push(child);
  return parts.join('.');
}

function reason(e: ErrorObject): string {
  const p = e.params as Record<string, any>;
  switch (e.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not a known field';
    case 'type':
      return `must be ${Array.isArray(p.type) ? p.type.join(' or ') : p.type === 'integer' ? 'an integer' : `a${/^[aeiou]/.test(p.type) ? 'n' : ''} ${p.type}`}`;
    case 'enum':
      return `must be one of: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'format':
      return FORMAT_HINT[p.format] ?? `must be a valid ${p.format}`;
    case 'minItems':
      return p.limit === 1 ? 'must not be empty' : `must have at least ${p.limit} items`;
    case 'maxItems':
      return `must have at most ${p.limit} items`;
    case 'minLength':
      return p.limit === 1 ? 'must not be empty' : `must be at least ${p.limit} characters`;
    case 'maxLength':
      return `must be at most ${p.limit} characters`;
    case 'pattern':
      return `must match the pattern ${p.pattern}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `must be ${p.comparison} ${p.limit}`;
    case 'multipleOf':
      return p.multipleOf === 1 ? 'must be a whole number' : `must be a multiple of ${p.multipleOf}`;
    case ORDERED:
      return p.number
        ? `must not be less than ${p.first} (${JSON.stringify(p.firstValue)})`
        : `must not be before ${p.first} (${JSON.stringify(p.firstValue)})`;
    case 'const':
      return `must be ${JSON.stringify(p.allowedValue)}`;
    default:
      return e.message ?? 'is invalid';
  }
}

/** ajv errors -> the API's field errors (the field named with a dotted path from the body's root). */
export function toFieldErrors(errors: ErrorObject[] | null | undefined, prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors ?? []) {
    if (e.keyword === 'if') continue; // the `then` error that follows says what is missing
    const p = e.params as Record<string, any>;
    const child = e.keyword === 'required' ? p.missingProperty : e.keyword === 'additionalProperties' ? p.additionalProperty : undefined;
    const path = fieldPath(e.instancePath, child);
    const field = prefix ? (path ? `${prefix}.${path}` : prefix) : path || '(body)';
    out.push({ field, reason: reason(e) });
  }
  return out;
}

const cache = new WeakMap<object, ValidateFunction>();
/** Compiles once per schema object. */
export function compile(schema: object): ValidateFunction {
  let v = cache.get(schema);
  if (!v) {
    v = ajv.compile(schema);
    cache.set(schema, v);
  }
  return v;
}

export function check(schema: object, value: unknown, prefix = ''): FieldError[] {
  const v = compile(schema);
  return v(value) ? [] : toFieldErrors(v.errors, prefix);
}

const cacheAll = new WeakMap<object, ValidateFunction>();
/** Like check, with every error the value has (compiled once per schema, on first use). */
export function checkAll(schema: object, value: unknown, prefix = ''): FieldError[] {
  let v = cacheAll.get(schema);
  if (!v) {
    v = ajvAll.compile(schema);
    cacheAll.set(schema, v);
  }
  return v(value) ? [] : toFieldErrors(v.errors, prefix);
}
