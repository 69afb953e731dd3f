import {
  Type,
  type Static,
  type TArray,
  type TObject,
  type TOptional,
  type TProperties,
  type TSchema,
  type TString,
} from '@sinclair/typebox';

/**
 * Field builders for resource definitions. They produce plain JSON Schema (TypeBox), so a definition
 * reads like the catalog: `name: req(str())`, `program_ids: list(ref('programs'), { nonEmpty: true })`.
 *
 * Extension keywords (registered with the validator, emitted in OpenAPI):
 * - `x-ref`: the slug of the resource a string field points to (`external:contacts` = outside this API);
 * - `x-designed`: this part of the schema was designed by us where the catalog was silent (why, in words);
 * - `x-ordered`: pairs of an object's properties where the first may not come after the second.
 */
const REQUIRED = Symbol('accredit.required');
/** The keyword of ordered pairs (`obj(…, { ordered })`), checked by the validator and shown in OpenAPI. */
export const ORDERED = 'x-ordered';

type Marked = TSchema & { [REQUIRED]?: true };

/** The type-level twin of REQUIRED: obj() types a property marked so as required, the others as optional. */
declare const REQUIRED_TYPE: unique symbol;
export type Req<T extends TSchema> = T & { readonly [REQUIRED_TYPE]: true };
/** The properties of obj(props) as TypeBox sees them: optional unless req(). */
export type ObjProps<P extends Record<string, TSchema>> = {
  [K in keyof P]: P[K] extends { readonly [REQUIRED_TYPE]: true } ? P[K] : TOptional<P[K]>;
};
/**
 * The value type of a definition's `fields` (or an obj()'s props), derived from the schemas
 * (`Static`): what a record of that resource holds. Enums are their literal unions.
 */
export type FieldValues<P extends Record<string, TSchema>> = Static<TObject<ObjProps<P>>>;

/** Marks a property as required inside the `obj()` (or definition `fields`) that holds it. */
export function req<T extends TSchema>(schema: T): Req<T> {
  (schema as Marked)[REQUIRED] = true;
  return schema as Req<T>;
}
export const isRequired = (s: TSchema) => (s as Marked)[REQUIRED] === true;

export const str = (opts: Record<string, unknown> = {}) => Type.String(opts);
export const date = (opts: Record<string, unknown> = {}) => Type.String({ format: 'date', ...opts });
export const dateTime = (opts: Record<string, unknown> = {}) => Type.String({ format: 'date-time', ...opts });
export const email = (opts: Record<string, unknown> = {}) => Type.String({ format: 'email', ...opts });
export const bool = (opts: Record<string, unknown> = {}) => Type.Boolean(opts);
/**
 * Bounds of a number, written once for every numeric field: `min` / `max` (inclusive), `above`
 * (exclusive lower bound: `above: 0` = positive), `whole` (a whole number in a field the catalog types
 * as number). They become JSON Schema's minimum / maximum / exclusiveMinimum / multipleOf, so the one
 * validator enforces them on every write path and OpenAPI shows them.
 */
export interface Bounds {
  min?: number;
  max?: number;
  above?: number;
  whole?: boolean;
}
/** Named ranges that recur in the catalog. */
export const BOUNDS = {
  /** an amount of money, a fee, a price: never negative */
  money: { min: 0 },
  /** a percentage: 0 to 100 */
  percent: { min: 0, max: 100 },
  latitude: { min: -90, max: 90 },
  longitude: { min: -180, max: 180 },
} as const satisfies Record<string, Bounds>;

function bounded(opts: Bounds & Record<string, unknown>): Record<string, unknown> {
  const { min, max, above, whole, ...rest } = opts;
  const lo = min ?? above;
  if (lo !== undefined && max !== undefined && lo > max) throw new Error(`bounds: min ${lo} is above max ${max}`);
  if (min !== undefined && above !== undefined) throw new Error('bounds: give min or above, not both');
  return {
    ...rest,
    ...(min !== undefined ? { minimum: min } : {}),
    ...(above !== undefined ? { exclusiveMinimum: above } : {}),
    ...(max !== undefined ? { maximum: max } : {}),
    ...(whole ? { multipleOf: 1 } : {}),
  };
}
export const num = (opts: Bounds & Record<string, unknown> = {}) => Type.Number(bounded(opts));
export const int = (opts: Bounds & Record<string, unknown> = {}) => Type.Integer(bounded(opts));
/** One of the given strings (typed as their union, a string schema with `enum`). */
export const oneOf = <const V extends readonly string[]>(values: V, opts: Record<string, unknown> = {}) =>
  Type.String({ enum: [...values], ...opts }) as TString & { static: V[number] };
export const ref = (slug: string, opts: Record<string, unknown> = {}) => Type.String({ 'x-ref': slug, ...opts });
export const list = <T extends TSchema>(items: T, opts: { nonEmpty?: boolean } & Record<string, unknown> = {}): TArray<T> => {
  const { nonEmpty, ...rest } = opts;
  return Type.Array(items, { ...(nonEmpty ? { minItems: 1 } : {}), ...rest });
};
/** Free-form object (the catalog gives no sub-fields). */
export const anyObject = (opts: Record<string, unknown> = {}) => Type.Object({}, { additionalProperties: true, ...opts });

/**
 * An object whose properties are optional unless wrapped in req(); unknown properties are rejected.
 * `ordered`: pairs of its properties where the first may not come after the second (start before or on
 * end): dates, date-times (compared as instants) or numbers (a minimum and a maximum). Checked when both
 * are present, wherever the object is used (nested, in array items); the later field is named.
 */
export function obj<P extends Record<string, TSchema>>(
  props: P,
  opts: { ordered?: [string, string][] } & Record<string, unknown> = {},
): TObject<ObjProps<P>> {
  const { ordered, ...rest } = opts;
  const properties: TProperties = {};
  for (const [k, s] of Object.entries(props)) properties[k] = isRequired(s) ? s : Type.Optional(s);
  const o = Type.Object(properties, { additionalProperties: false, ...rest }) as TObject<ObjProps<P>>;
  return ordered?.length ? withOrder(o, ordered) : o;
}

/** The kind of value an ordered pair compares, from its schema; undefined = not comparable. */
export function orderKind(s: TSchema | undefined): 'date' | 'date-time' | 'number' | undefined {
  if (!s) return undefined;
  if (s.type === 'number' || s.type === 'integer') return 'number';
  if (s.type === 'string' && (s.format === 'date' || s.format === 'date-time')) return s.format;
  return undefined;
}

/** Adds ordered pairs to an object schema (checked at definition time: both fields exist and compare alike). */
export function withOrder<T extends TObject>(o: T, pairs: [string, string][]): T {
  const props = (o.properties ?? {}) as Record<string, TSchema>;
  for (const [a, b] of pairs) {
    const ka = orderKind(props[a]);
    const kb = orderKind(props[b]);
    if (!ka || !kb) throw new Error(`ordered pair ${a} / ${b}: both must be date, date-time or number fields of the object`);
    if (ka !== kb) throw new Error(`ordered pair ${a} / ${b}: a ${ka} cannot be compared with a ${kb}`);
  }
  const had = ((o as Record<string, unknown>)[ORDERED] as [string, string][] | undefined) ?? [];
  (o as Record<string, unknown>)[ORDERED] = [...had, ...pairs];
  return o;
}

/**
 * Bounds on one property that apply only when sibling properties have given values (a discount's
 * amount is a percentage, 0 to 100, when its discount_type is "percentage"). JSON Schema if/then, so
 * the one validator checks it and OpenAPI shows it.
 */
export function boundsWhen<T extends TObject>(o: T, when: Record<string, unknown>, field: string, b: Bounds): T {
  if (!o.properties?.[field]) throw new Error(`boundsWhen: ${field} is not a property`);
  const rule = {
    if: {
      type: 'object',
      properties: Object.fromEntries(Object.entries(when).map(([k, v]) => [k, { const: v }])),
      required: Object.keys(when),
    },
    then: { type: 'object', properties: { [field]: { type: o.properties[field].type, ...bounded({ ...b }) } } },
  };
  const s = o as Record<string, unknown>;
  s.allOf = [...((s.allOf as unknown[]) ?? []), rule];
  return o;
}

/** Marks a schema part as designed by us where the catalog was silent. */
export function designed<T extends TSchema>(schema: T, why: string): T {
  (schema as Record<string, unknown>)['x-designed'] = why;
  return schema;
}

export const EXTENSION_KEYWORDS = ['x-ref', 'x-designed', 'x-conditional-required'];
