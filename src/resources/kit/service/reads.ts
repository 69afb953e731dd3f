import { invalid, notFound } from '../../../core/errors.js';
import type { RequestContext } from '../../../core/context.js';
import type { Filter, StoredRecord } from '../../../store/records.js';
import type { LookupSpec } from '../define.js';
import { badKey, decodeKey, decodeKeyOf, encodeKey, parseProjection, project, toPage } from '../paging.js';
import { check } from '../validation.js';
import { isPlainObject, type PageQuery, type ServiceCore } from './core.js';

export interface ListPage {
  Count: number;
  Items: Record<string, unknown>[];
  LastEvaluatedKey?: string;
}

/** A response body already rendered as JSON text (a page of stored records sent as is). */
export class JsonText {
  constructor(readonly text: string) {}
}

/** `{"Count":n,"Items":[…],"LastEvaluatedKey":…}` around records already rendered as JSON. */
function render(items: string[], lastKey: string | undefined, withCount: boolean): JsonText {
  const count = withCount ? `"Count":${items.length},` : '';
  const key = lastKey ? `,"LastEvaluatedKey":${JSON.stringify(lastKey)}` : '';
  return new JsonText(`{${count}"Items":[${items.join(',')}]${key}}`);
}

/** A bound of a [from, to] search range: a real calendar date, or a date-time with its zone. */
const RANGE_BOUND = {
  anyOf: [
    { type: 'string', format: 'date' },
    { type: 'string', format: 'date-time' },
  ],
};

/**
 * A resource's reads: get, list, lookups and search, from the store's read connection (or a replica
 * the request allows). Pages are answered as JSON text: stored records are spliced in as they are.
 */
export class Reads {
  constructor(private readonly core: ServiceCore) {}

  private async pageOf(ctx: RequestContext, filters: Filter[], q: PageQuery, projection: string[][], limit: number) {
    const { core } = this;
    const after = decodeKey(q.exclusiveStartKey);
    const rows = await core.deps.store.reading(ctx.read, (db) => core.table.page(db, ctx.tenantId, filters, after, limit + 1));
    const { items, lastKey } = toPage(rows, limit);
    return { Items: items.map((r) => project(core.present(r), projection)), lastKey };
  }

  /**
   * A page as JSON text. Without a projection the stored records are spliced in as they are (no parse,
   * no re-serialization: the bulk of a page's cost); with one, the records are projected as usual.
   */
  private async pageText(
    ctx: RequestContext,
    filters: Filter[],
    q: PageQuery,
    fieldsParam: string,
    raw: string | undefined,
    withCount: boolean,
  ): Promise<JsonText> {
    const { items, lastKey } = await this.pageParts(ctx, filters, q, fieldsParam, raw, this.core.limit(q));
    return render(items, lastKey, withCount);
  }

  /** A page's records as JSON texts and its key, `limit` already checked. */
  private async pageParts(
    ctx: RequestContext,
    filters: Filter[],
    q: PageQuery,
    fieldsParam: string,
    raw: string | undefined,
    limit: number,
  ): Promise<{ items: string[]; lastKey?: string }> {
    const { core } = this;
    const projection = parseProjection(raw, core.resource.projectable, fieldsParam);
    const after = decodeKey(q.exclusiveStartKey);
    if (projection) {
      const page = await this.pageOf(ctx, filters, q, projection, limit);
      return { items: page.Items.map((r) => JSON.stringify(r)), lastKey: page.lastKey };
    }
    const rows = await core.deps.store.reading(ctx.read, (db) => core.table.pageText(db, ctx.tenantId, filters, after, limit + 1));
    const page = toPage(rows, limit);
    return { items: page.items.map((r) => core.presentText(r.json)), lastKey: page.lastKey };
  }

  /**
   * GET /{slug}/{tenantId}: stored records in id order. A resource with built-in records (query
   * definitions, computed statistics) lists those first, in their own order, then its stored records:
   * one sequence paged by `limit` like any other, the key saying which part the page ended in.
   */
  async list(ctx: RequestContext, q: PageQuery): Promise<JsonText> {
    const { core } = this;
    const builtIn = core.resource.def.builtIn;
    const key = decodeKeyOf(q.exclusiveStartKey);
    if (!builtIn?.list || (key && !key.builtIn)) return this.pageText(ctx, [], q, 'fields', q.fields, true);
    const limit = core.limit(q);
    const projection = parseProjection(q.fields, core.resource.projectable, 'fields');
    const all = await builtIn.list(core.services(), ctx);
    let start = 0;
    if (key) {
      const at = all.findIndex((r) => r.id === key.id);
      if (at < 0) throw badKey();
      start = at + 1;
    }
    const ahead = all.slice(start, start + limit + 1);
    const items = ahead.slice(0, limit).map((r) => JSON.stringify(project(r as StoredRecord, projection)));
    const lastBuiltIn = () => encodeKey(String(ahead[items.length - 1]!.id), true);
    if (ahead.length > limit) return render(items, lastBuiltIn(), true);
    const room = limit - items.length;
    if (room === 0) {
      // the page is full of built-ins: it has a key only if stored records follow
      const next = await core.deps.store.reading(ctx.read, (db) => core.table.page(db, ctx.tenantId, [], undefined, 1));
      return render(items, next.length ? lastBuiltIn() : undefined, true);
    }
    const stored = await this.pageParts(ctx, [], { fields: q.fields, limit: room }, 'fields', q.fields, room);
    return render([...items, ...stored.items], stored.lastKey, true);
  }

  lookup(ctx: RequestContext, lookup: LookupSpec, value: string, q: PageQuery): Promise<JsonText> {
    const column = this.core.resource.table.columns.find((c) => c.path.join('.') === lookup.field)!;
    const typed = column.type === 'bool' ? value === 'true' : column.type === 'num' ? Number(value) : value;
    return this.pageText(ctx, [{ column: column.name, op: 'in', values: [typed] }], q, 'fields', q.fields, true);
  }

  /**
   * The records whose fields equal the values of `equal` and differ from those of `notEqual` (each an
   * extracted column: a lookup or search field), paged like a lookup: a lookup over several path parameters.
   */
  matching(ctx: RequestContext, equal: Record<string, unknown>, q: PageQuery, notEqual: Record<string, unknown> = {}): Promise<JsonText> {
    const column = (field: string) => {
      const c = this.core.resource.table.columns.find((col) => col.path.join('.') === field);
      if (!c) throw new Error(`${this.core.resource.def.slug}.${field} has no column (make it a lookup or search field)`);
      return c.name;
    };
    const filters: Filter[] = [
      ...Object.entries(equal).map(([field, value]): Filter => ({ column: column(field), op: 'in', values: [value] })),
      // an absent value is not equal either (is_active not false)
      ...Object.entries(notEqual).map(([field, value]): Filter => ({ column: column(field), op: 'ne', value })),
    ];
    return this.pageText(ctx, filters, q, 'fields', q.fields, true);
  }

  /** The search body -> filters (see SearchSpec); empty arrays and strings filter nothing. */
  searchFilters(body: Record<string, unknown>): Filter[] {
    const { resource } = this.core;
    const errors = check(resource.searchSchema, body);
    if (errors.length) throw invalid(errors);
    const filters: Filter[] = [];
    for (const [key, spec] of Object.entries(resource.def.search)) {
      const v = body[key];
      if (v === undefined || v === null) continue;
      if (spec.kind === 'ids') {
        if ((v as string[]).length) filters.push({ column: 'id', op: 'in', values: v as string[] });
        continue;
      }
      const column = resource.table.columns.find((c) => c.path.join('.') === spec.field)!;
      if (spec.kind === 'contains') {
        if (v !== '') filters.push({ column: column.name, op: 'contains', value: v as string });
      } else if (spec.kind === 'in') {
        if ((v as unknown[]).length) filters.push({ column: column.name, op: 'in', values: v as unknown[] });
      } else {
        const [from, to] = v as (string | null)[];
        const bound = (s: string | null | undefined, end: boolean, i: number) => {
          if (s === null || s === undefined || s === '') return undefined;
          if (check(RANGE_BOUND, s).length)
            throw invalid([{ field: `${key}.${i}`, reason: 'must be a date (YYYY-MM-DD), a date-time with a time zone, or empty' }]);
          // A bare date bounds a date-time field by the whole day.
          if (column.type === 'datetime' && s.length === 10) return `${s}T${end ? '23:59:59.999' : '00:00:00.000'}Z`;
          return s;
        };
        const f = bound(from, false, 0);
        const t = bound(to, true, 1);
        if (f !== undefined) filters.push({ column: column.name, op: 'gte', value: f });
        if (t !== undefined) filters.push({ column: column.name, op: 'lte', value: t });
      }
    }
    return filters;
  }

  async search(ctx: RequestContext, body: unknown, q: PageQuery & { fieldsToReturn?: string }): Promise<JsonText> {
    if (!isPlainObject(body)) throw invalid([{ field: '(body)', reason: 'must be an object' }]);
    const filters = this.searchFilters(body);
    return this.pageText(ctx, filters, q, 'fieldsToReturn', q.fieldsToReturn, false);
  }

  /**
   * One record, read from the store's read connection. Without a projection the stored JSON is
   * answered as it is (`text`); with one, the projected record (`record`).
   */
  async get(
    ctx: RequestContext,
    id: string,
    q: { fields?: string } = {},
  ): Promise<{ record?: Record<string, unknown>; text?: JsonText; version: number }> {
    const { core } = this;
    const projection = parseProjection(q.fields, core.resource.projectable, 'fields');
    const reading = core.deps.store.reading;
    if (!projection) {
      const row = await reading(ctx.read, (db) => core.table.getText(db, ctx.tenantId, id));
      if (row) return { text: new JsonText(core.presentText(row.json)), version: row.version };
    }
    const record =
      (projection ? await reading(ctx.read, (db) => core.table.get(db, ctx.tenantId, id)) : undefined) ??
      ((await core.builtInRecord(ctx, id)) as StoredRecord | undefined);
    if (!record) throw notFound(core.label, id);
    // a projection of a stored record is valid JSON of its schema as is: no serializer pass over every property
    if (projection)
      return { text: new JsonText(JSON.stringify(project(core.present(record), projection))), version: record.sys_version ?? 1 };
    return { record, version: record.sys_version ?? 1 };
  }
}
