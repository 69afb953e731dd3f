import type { RequestContext } from '../../core/context.js';
import { standing } from '../../domain/lifecycle/standing.js';
import { toMinor } from '../../domain/money/money.js';
import { type FeeLike, price } from '../../domain/money/pricing.js';
import type { Db } from '../../store/store.js';
import type { BillableLine } from './billable.js';
import { renewalFee, tenantCurrency, type Lookups } from './lookups.js';
import type { BillingRecords } from './records.js';
import type { Rec } from './types.js';

/** An amount in minor units of a currency, as billing run actions carry it. */
export interface Quote {
  amount: number;
  currency_code: string;
}

/**
 * What renewing a certification costs on `day`: the price (domain/money/pricing.ts) of its programme's
 * renewal fee for a non-member (billing knows no membership), plus the programme's late_fee when the
 * certification is in grace on that day, in the tenant's currency. An error says why it has none.
 */
export async function renewalQuote(
  records: BillingRecords,
  db: Db,
  ctx: RequestContext,
  lookups: Lookups,
  cert: Rec,
  day: string,
): Promise<Quote | { error: string }> {
  const programId = String(cert.program_id);
  const fee = await renewalFee(records, db, ctx, lookups, programId);
  if (!fee)
    return { error: `programme ${programId} has no renewal fee (an active renewal application process with an application_fee_id)` };
  const key = `programs/${programId}`;
  if (!lookups.records.has(key)) lookups.records.set(key, await records.deps.resource('programs').table.get(db, ctx.tenantId, programId));
  const program = lookups.records.get(key);
  const result = price({
    purchase: { kind: 'application', application_type: 'renewal', fee: fee as FeeLike, fee_kind: 'application' },
    buyer: { member: false, standing: standing(cert, day) },
    base_currency: await tenantCurrency(records, db, ctx, lookups),
    ...(typeof program?.late_fee === 'number' ? { late_fee: program.late_fee } : {}),
    date: day,
  });
  if (!result.ok)
    return {
      error: `programme ${programId}'s renewal cannot be priced: ${result.errors.map((e) => `${e.field}: ${e.reason}`).join('; ')}`,
    };
  return { amount: result.priced.total, currency_code: result.priced.currency };
}

/** A training provider's bill: the sum of its lines' fees (trainingProvPrograms, tenant currency); undefined when a fee is not an amount of it. */
export function linesQuote(lines: Pick<BillableLine, 'amount'>[], currency: string): Quote | undefined {
  let amount = 0;
  try {
    for (const l of lines) amount += toMinor(l.amount, currency);
  } catch {
    return undefined;
  }
  return { amount, currency_code: currency };
}
