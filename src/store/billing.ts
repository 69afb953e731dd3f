import type { Kysely } from 'kysely';
import type { RecordTable, StoredRecord } from './records.js';
import type { Db } from './store.js';

/** A row of `billed_items` (migration 5): a registration billed once, on the invoice that billed it. */
export interface BilledItemRow {
  tenant_id: string;
  /** `${registration resource}/${registration id}` */
  item_key: string;
  invoice_id: string;
}

interface BillingTables {
  billed_items: BilledItemRow;
}
const typed = (db: Db) => db as Kysely<BillingTables>;

/** What billing runs have billed: each registration once (the primary key refuses a second bill). */
export const billedItems = {
  /** The keys of everything the tenant has billed. */
  async keys(db: Db, tenantId: string): Promise<Set<string>> {
    const rows = await typed(db).selectFrom('billed_items').select('item_key').where('tenant_id', '=', tenantId).execute();
    return new Set(rows.map((r) => String(r.item_key)));
  },

  /** Records `keys` as billed by `invoiceId`, in the caller's transaction; a key billed before throws. */
  async add(db: Db, tenantId: string, invoiceId: string, keys: string[]): Promise<void> {
    await typed(db)
      .insertInto('billed_items')
      .values(keys.map((item_key) => ({ tenant_id: tenantId, item_key, invoice_id: invoiceId })))
      .execute();
  },
};

/**
 * The actions of a billing run, in the billingRunActions record table (generated from its definition,
 * hence RecordTable filters on its f_billing_run_id and f_status columns rather than typed SQL).
 */
export const runActions = {
  ofRun: (runId: string) => [{ column: 'f_billing_run_id', op: 'in' as const, values: [runId] }],

  /** Every action of the run, a page at a time. */
  scan(db: Db, table: RecordTable, tenantId: string, runId: string, pageSize: number): AsyncGenerator<StoredRecord[]> {
    return table.scan(db, tenantId, runActions.ofRun(runId), pageSize);
  },

  /** The run's pending actions in id order, after `after`. */
  pending(db: Db, table: RecordTable, tenantId: string, runId: string, after: string | undefined, limit: number): Promise<StoredRecord[]> {
    return table.page(db, tenantId, [...runActions.ofRun(runId), { column: 'f_status', op: 'in', values: ['pending'] }], after, limit);
  },
};
