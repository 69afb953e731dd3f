import type { RequestContext } from '../../core/context.js';
import type { StoredRecord } from '../../store/records.js';
import type { Db } from '../../store/store.js';
import type { BillingRecords } from './records.js';

/**
 * What an execution (or a refresh) looks up again and again: the renewal fee per programme, the
 * tenant's currency and the drop reason (once per execution), programmes and notice templates (once
 * per chunk transaction), and the certifications of the chunk's certification actions (read and
 * locked together when it starts).
 */
export interface Lookups {
  /** The renewal fee record per programme id. */
  fees: Map<string, StoredRecord | undefined>;
  /** settings.currency_code, default USD. */
  currency?: string;
  dropReason?: { id: string | undefined };
  /** By `${slug}/${id}`, for the current chunk. */
  records: Map<string, StoredRecord | undefined>;
  /**
   * By id, as read at the chunk's start: each taken once (a second action on the same certification
   * reads it again, after the first one's change), and all dropped as soon as an action that may
   * change other certifications (an activation) runs.
   */
  certifications: Map<string, StoredRecord>;
}
export const newLookups = (): Lookups => ({ fees: new Map(), records: new Map(), certifications: new Map() });

/**
 * The programme's renewal fee (commerce.renewalFee: the fee of its active renewal application
 * process), looked up once per programme and execution: an execution asks it once per certification.
 */
export async function renewalFee(
  records: BillingRecords,
  db: Db,
  ctx: RequestContext,
  lookups: Lookups,
  programId: string,
): Promise<StoredRecord | undefined> {
  if (lookups.fees.has(programId)) return lookups.fees.get(programId);
  const fee = await records.deps.commerce.renewalFee(db, ctx, programId);
  lookups.fees.set(programId, fee);
  return fee;
}

/** The tenant's currency (settings.currency_code; USD when unset), once per execution. */
export async function tenantCurrency(records: BillingRecords, db: Db, ctx: RequestContext, lookups: Lookups): Promise<string> {
  // the tenant's currency as every order has it (settings.currency_code, USD by default), once per execution
  if (lookups.currency === undefined) lookups.currency = await records.deps.commerce.baseCurrency(db, ctx);
  return lookups.currency;
}

/** The status reason a drop records: the first status reason (by name) that explains "inactive" (once per execution). */
export async function dropReason(records: BillingRecords, db: Db, ctx: RequestContext, lookups: Lookups): Promise<string | undefined> {
  if (!lookups.dropReason) lookups.dropReason = { id: await lookUpDropReason(records, db, ctx) };
  return lookups.dropReason.id;
}

async function lookUpDropReason(records: BillingRecords, db: Db, ctx: RequestContext): Promise<string | undefined> {
  const reasons = (await records.all(db, ctx.tenantId, 'statusReasons', [])).filter(
    (r) => r.status === 'inactive' && r.is_active !== false,
  );
  reasons.sort((x, y) => String(x.name).localeCompare(String(y.name)));
  return reasons[0]?.id;
}
