import equal from 'fast-deep-equal';
import { AppError, invalid } from '../../../core/errors.js';
import type { RequestContext } from '../../../core/context.js';
import type { StoredRecord } from '../../../store/records.js';
import type { Db } from '../../../store/store.js';
import { applyPatch, checkPatch, touchedFields, type PatchOp } from '../patch.js';
import { fieldsOf, type ServiceCore } from './core.js';
import type { Writes } from './writes.js';

/**
 * PATCH of a record (JSON Patch, kit/patch.ts): the patched record is checked as a whole and written
 * as an update is; a patch that only touches the record itself takes the lock-free path on PostgreSQL.
 */
export class Patching {
  constructor(
    private readonly core: ServiceCore,
    private readonly writes: Writes,
  ) {}

  async patch(ctx: RequestContext, id: string, ops: unknown, ifMatch?: string, db?: Db, prefix = ''): Promise<StoredRecord> {
    const { core, writes } = this;
    const { lockOnly, touchesLock } = checkPatch(ops, prefix);
    if (touchesLock && !ctx.actor.scopes.has('certifications:admin')) {
      throw new AppError('forbidden', 'locking and unlocking records needs the scope certifications:admin');
    }
    /** The patched record, checked; undefined when the patch changes nothing. */
    const patchedFrom = (old: StoredRecord) => {
      const patched = applyPatch(old, ops as PatchOp[], prefix) as Record<string, unknown>;
      const fields = fieldsOf(patched);
      const oldFields = fieldsOf(old);
      // judged on what the patch changes: a field stored invalid and left as it was does not refuse it
      const errors = core.patchErrors(oldFields, fields, prefix);
      const locked = Object.hasOwn(patched, 'sys_locked') ? patched.sys_locked : false;
      if (typeof locked !== 'boolean') errors.push({ field: prefix ? `${prefix}.sys_locked` : 'sys_locked', reason: 'must be a boolean' });
      if (errors.length) {
        const e = invalid(errors, 'unprocessable');
        throw new AppError('unprocessable', `the patched ${core.label} would be invalid: ${e.message}`, { errors });
      }
      if (equal(fields, oldFields) && locked === (old.sys_locked ?? false)) return undefined;
      const next = writes.next(ctx, old, fields, 'patch');
      next.sys_locked = locked;
      return { next, fields, oldFields };
    };
    if (!db && this.recordOnlyPatch(ops as PatchOp[], touchesLock)) {
      const store = core.deps.store.db;
      for (let attempt = 0; attempt < 3; attempt++) {
        const old = await writes.current(store, ctx, id, ifMatch, { lockOnly, lock: false });
        const made = patchedFrom(old);
        if (!made) return old;
        core.checkRule(old, made.next);
        if (await core.table.update(store, ctx.tenantId, made.next, old.sys_version, old)) return made.next;
      }
      // another write got in each time: the locked path below waits its turn instead
    }
    return core.inTx(db, async (trx) => {
      const old = await writes.current(trx, ctx, id, ifMatch, { lockOnly });
      const made = patchedFrom(old);
      if (!made) return old;
      return writes.change(trx, ctx, old, made.oldFields, made.next, made.fields, prefix, 'patch');
    });
  }

  /**
   * Whether a patch's only effect is the record itself, so that on PostgreSQL it can skip the
   * transaction: it reaches no reference, no field with history and not the lock, on a resource
   * without write hooks. Such a patch is read without a lock and written with one versioned UPDATE,
   * retried from the read when another write got in between: two round trips instead of four (BEGIN,
   * the locked read, UPDATE, COMMIT). SQLite keeps its transaction, which costs it no round trip.
   */
  private recordOnlyPatch(ops: PatchOp[], touchesLock: boolean): boolean {
    const { resource, deps } = this.core;
    if (deps.store.dialect !== 'postgres' || touchesLock || resource.def.hooks) return false;
    const touched = touchedFields(ops);
    if (resource.refFields.some((f) => touched.has(f.path[0]!))) return false;
    return !(resource.def.history ?? []).some((f) => touched.has(f));
  }
}
