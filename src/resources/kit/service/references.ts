import equal from 'fast-deep-equal';
import { AppError, invalid, type FieldError } from '../../../core/errors.js';
import type { RequestContext } from '../../../core/context.js';
import { refsIndex, type RefValue } from '../../../store/refs.js';
import type { Db } from '../../../store/store.js';
import type { ServiceCore } from './core.js';

/**
 * A resource's references to other records: every one must name an existing record of the same
 * tenant, they are kept in the reference index (store/refs.ts) in the write's transaction, and a
 * record that others still name cannot be deleted.
 */
export class References {
  constructor(private readonly core: ServiceCore) {}

  private get any() {
    return this.core.resource.refFields.length > 0;
  }

  /**
   * Every reference of a body must name an existing record of the same tenant (400 naming the field).
   * Returns the references, for the reference index.
   */
  async check(
    db: Db,
    ctx: RequestContext,
    fields: Record<string, unknown>,
    prefix: string,
    kind: 'validation' | 'unprocessable' = 'validation',
  ): Promise<RefValue[]> {
    if (!this.any) return [];
    const refs = this.core.resource.collectRefs(fields);
    const [errors] = await this.errors(db, ctx, [{ refs, prefix }]);
    if (errors!.length) throw invalid(errors!, kind);
    return refs;
  }

  /** The reference errors of many bodies at once: one query per target resource for all of them. */
  async errors(db: Db, ctx: RequestContext, items: { refs: RefValue[]; prefix: string }[]): Promise<FieldError[][]> {
    const { resolve } = this.core.deps;
    const byTarget = new Map<string, Set<string>>();
    for (const { refs } of items) {
      for (const r of refs) {
        let ids = byTarget.get(r.target);
        if (!ids) byTarget.set(r.target, (ids = new Set()));
        ids.add(r.id);
      }
    }
    const found = new Map<string, Set<string>>();
    for (const [target, ids] of byTarget) found.set(target, await resolve(target).table.existingIds(db, ctx.tenantId, [...ids]));
    return items.map(({ refs, prefix }) =>
      refs
        .filter((r) => !found.get(r.target)!.has(r.id))
        .map((r) => ({
          field: prefix ? `${prefix}.${r.field}` : r.field,
          reason: `names a ${resolve(r.target).label} that does not exist (${r.id})`,
        })),
    );
  }

  /** The references of a body (none when the resource has no reference fields). */
  of(fields: Record<string, unknown>): RefValue[] {
    return this.any ? this.core.resource.collectRefs(fields) : [];
  }

  /** A change that keeps every reference as it was needs neither the checks nor the index rewrite. */
  same(oldFields: Record<string, unknown>, fields: Record<string, unknown>): boolean {
    if (!this.any) return true;
    return equal(this.core.resource.collectRefs(oldFields), this.core.resource.collectRefs(fields));
  }

  /** Replaces the record's rows in the reference index. */
  async save(db: Db, ctx: RequestContext, id: string, refs: RefValue[], isNew: boolean) {
    if (this.any) await refsIndex.replace(db, ctx.tenantId, this.core.slug, id, refs, isNew);
  }

  /** The index rows of new records, written together (multi-row INSERTs). */
  async saveNew(db: Db, ctx: RequestContext, items: { id: string; refs: RefValue[] }[]) {
    if (this.any) await refsIndex.insertMany(db, ctx.tenantId, this.core.slug, items);
  }

  /** A 409 listing (some of) the records that still name this one, if any do. */
  async refuseIfReferred(db: Db, ctx: RequestContext, id: string) {
    const referrers = await refsIndex.referrers(db, ctx.tenantId, this.core.slug, id);
    if (!referrers.length) return;
    const list = referrers.map((r) => ({ resource: r.source, id: r.source_id, field: r.field }));
    const shown = list
      .slice(0, 5)
      .map((r) => `${r.resource} ${r.id} (${r.field})`)
      .join(', ');
    throw new AppError(
      'conflict',
      `${this.core.label} ${id} is still referred to by ${shown}${list.length > 5 ? ', …' : ''}; remove those references first`,
      {
        details: { referenced_by: list },
      },
    );
  }
}
