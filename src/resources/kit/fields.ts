import { Type, type TSchema, type TObject, type TProperties } from '@sinclair/typebox';

/**
 * Field builders for resource definitions. They produce plain JSON Schema (TypeBox), so a definition
 * reads like the catalog: `name: req(str())`, `program_ids: list(ref('programs'), { nonEmpty: true })`.
 *
 * Extension keywords (registered with the validator, emitted in OpenAPI):
 * - `x-ref`: the slug of the resource a string field points to (`external:contacts` = outside this API);
 * - `x-designed`: this part of the schema was designed by us where the catalog was silent (why, in words).
 */
const REQUIRED = Symbol('accredit.required');

type Marked = TSchema & { [REQUIRED]?: true };

/** Marks a property as required inside the `obj()` (or definition `fields`) that holds it. */
export function req<T extends TSchema>(schema: T): T {
  (schema as Marked)[REQUIRED] = true;
  return schema;
}
export const isRequired = (s: TSchema) => (s as Marked)[REQUIRED] === true;

export const str = (opts: Record<string, unknown> = {}) => Type.String(opts);
export const date = (opts: Record<string, unknown> = {}) => Type.String({ format: 'date', ...opts });
export const dateTime = (opts: Record<string, unknown> = {}) => Type.String({ format: 'date-time', ...opts });
export const email = (opts: Record<string, unknown> = {}) => Type.String({ format: 'email', ...opts });
export const bool = (opts: Record<string, unknown> = {}) => Type.Boolean(opts);
export const num = (opts: Record<string, unknown> = {}) => Type.Number(opts);
export const int = (opts: Record<string, unknown> = {}) => Type.Integer(opts);
export const oneOf = (values: readonly string[], opts: Record<string, unknown> = {}) =>
  Type.String({ enum: [...values], ...opts });
export const ref = (slug: string, opts: Record<string, unknown> = {}) => Type.String({ 'x-ref': slug, ...opts });
export const list = (items: TSchema, opts: { nonEmpty?: boolean } & Record<string, unknown> = {}) => {
  const { nonEmpty, ...rest } = opts;
  return Type.Array(items, { ...(nonEmpty ? { minItems: 1 } : {}), ...rest });
};
/** Free-form object (the catalog gives no sub-fields). */
export const anyObject = (opts: Record<string, unknown> = {}) => Type.Object({}, { additionalProperties: true, ...opts });

/** An object whose properties are optional unless wrapped in req(); unknown properties are rejected. */
export function obj(props: Record<string, TSchema>, opts: Record<string, unknown> = {}): TObject {
  const properties: TProperties = {};
  for (const [k, s] of Object.entries(props)) properties[k] = isRequired(s) ? s : Type.Optional(s);
  return Type.Object(properties, { additionalProperties: false, ...opts });
}

/** Marks a schema part as designed by us where the catalog was silent. */
export function designed<T extends TSchema>(schema: T, why: string): T {
  (schema as Record<string, unknown>)['x-designed'] = why;
  return schema;
}

export const EXTENSION_KEYWORDS = ['x-ref', 'x-designed', 'x-conditional-required'];
