import type { FastifyInstance } from 'fastify';
import fastJson from 'fast-json-stringify';
import { compile } from '../resources/kit/validation.js';
import { SERVICE_VALIDATED } from '../resources/kit/routes.js';

/**
 * Validators and serializers for ~500 routes, compiled lazily (on a route's first use) and shared
 * between routes with the same schema. Compiling them eagerly, each with every shared schema as an
 * external reference, made start-up take a minute; now it costs nothing until a route is called.
 */
type Schema = Record<string, unknown>;

/** Replaces `{ $ref: 'Name#' }` by the shared schema it names, so a serializer needs no externals. */
function deref(schema: unknown, shared: Map<string, Schema>): unknown {
  if (Array.isArray(schema)) return schema.map((s) => deref(s, shared));
  if (schema === null || typeof schema !== 'object') return schema;
  const s = schema as Schema;
  if (typeof s.$ref === 'string') {
    const target = shared.get(s.$ref.replace(/#$/, ''));
    if (!target) throw new Error(`unknown schema reference ${s.$ref}`);
    const { $id: _id, ...rest } = target;
    return deref(rest, shared);
  }
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) out[k] = deref(v, shared);
  return out;
}

export function installCompilers(app: FastifyInstance, shared: Map<string, Schema>) {
  app.setValidatorCompiler(({ schema, httpPart }) => {
    // Bodies of resource routes are validated by the service (one path for HTTP, batch and patch).
    if (httpPart === 'body' && (schema as Record<symbol, unknown>)[SERVICE_VALIDATED]) return () => true;
    let fn: ReturnType<typeof compile> | undefined;
    const lazy = (data: unknown) => {
      fn ??= compile(schema);
      const ok = fn(data);
      lazy.errors = fn.errors;
      return ok;
    };
    lazy.errors = null as unknown;
    return lazy as any;
  });

  const serializers = new Map<string, (data: unknown) => string>();
  app.setSerializerCompiler(({ schema }) => {
    const key = JSON.stringify(schema);
    let fn: ((data: unknown) => string) | undefined;
    return (data: unknown) => {
      if (!fn) {
        fn = serializers.get(key);
        if (!fn) {
          fn = fastJson(deref(schema, shared) as any) as (data: unknown) => string;
          serializers.set(key, fn);
        }
      }
      return fn(data);
    };
  });
}
