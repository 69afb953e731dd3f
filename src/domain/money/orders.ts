/**
 * The arithmetic and rules of an order and its payments, plain data in and out: what an order's
 * computed fields are (totals from its lines, amount paid from its payments, the balance, the status
 * that follows the balance), what a payment may be, and what "paid in full" changes on the
 * application the order pays for. All amounts are integers in minor units.
 */
import type { FieldError } from '../../core/errors.js';
import { totalsOf, type LineItem } from './pricing.js';

export interface OrderLike {
  id?: string;
  status?: string;
  currency_code?: string;
  lines?: LineItem[];
  subtotal?: number;
  discount_total?: number;
  total?: number;
  amount_paid?: number;
  balance_due?: number;
  paid_date?: string;
  [k: string]: unknown;
}

export interface PaymentLike {
  amount: number;
  currency_code: string;
  method?: string;
  reason?: string;
}

/** The statuses that follow the balance; any other (cancelled, void, disputed …) is set by staff and kept. */
export const BALANCE_STATUSES = ['awaiting payment', 'completed'] as const;

/** An order that counts: it takes payments and holds its coupon's redemption (not cancelled, not void). */
export const REDEEMING = (status: string | undefined) => status !== 'cancelled' && status !== 'void';

/** The order's computed fields (those a body may leave out, or must state as computed). */
export const COMPUTED = ['subtotal', 'discount_total', 'total', 'amount_paid', 'balance_due'] as const;

/**
 * The computed fields of an order about to be written, given the sum of its payments (`paid`), and
 * the reasons the body is refused: a line whose amount is not quantity × unit_amount less its
 * discount, a computed field stated differently, a balance status that the balance contradicts, a
 * currency changed under payments. `now` stamps paid_date when the order becomes paid in full.
 */
export function orderFigures(
  next: OrderLike,
  paid: number,
  old: OrderLike | undefined,
  now: string,
): { values: Partial<OrderLike>; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const lines = next.lines ?? [];
  lines.forEach((l, i) => {
    const gross = l.quantity * l.unit_amount;
    const want = l.type === 'discount' ? gross : gross - (l.discount ?? 0);
    if (l.type === 'discount' && l.unit_amount > 0) errors.push({ field: `lines.${i}.unit_amount`, reason: 'a discount line is negative' });
    if (l.type !== 'discount' && l.unit_amount < 0) errors.push({ field: `lines.${i}.unit_amount`, reason: 'must not be negative (a discount is a discount line)' });
    if (l.amount !== want) errors.push({ field: `lines.${i}.amount`, reason: `must be quantity × unit_amount${l.type === 'discount' ? '' : ' − discount'}: ${want}` });
  });
  const totals = totalsOf(lines);
  if (totals.total < 0) errors.push({ field: 'lines', reason: `the discounts exceed the fees: the total would be ${totals.total}` });
  const values: Partial<OrderLike> = { ...totals, amount_paid: paid, balance_due: totals.total - paid };
  for (const f of COMPUTED) {
    const stated = next[f];
    if (stated !== undefined && stated !== values[f])
      errors.push({ field: f, reason: `is computed (${f === 'amount_paid' ? 'from the payments' : 'from the lines'}): ${values[f]}; leave it out or state that` });
  }
  if (old && old.currency_code !== next.currency_code && (old.amount_paid ?? 0) !== 0)
    errors.push({ field: 'currency_code', reason: 'cannot change once the order has payments' });
  const byBalance = values.balance_due! <= 0 ? 'completed' : 'awaiting payment';
  const stated = next.status;
  let status: string;
  if (stated === undefined) status = old && !(BALANCE_STATUSES as readonly string[]).includes(old.status ?? '') ? old.status! : byBalance;
  else if ((BALANCE_STATUSES as readonly string[]).includes(stated)) {
    if (stated !== byBalance)
      errors.push({ field: 'status', reason: `follows the balance: ${byBalance} (balance_due ${values.balance_due}); record a payment to change it` });
    status = byBalance;
  } else status = stated;
  values.status = status;
  if (status === 'completed' && old?.status !== 'completed') values.paid_date = now;
  return { values, errors };
}

/** Why a payment cannot be recorded against the order (the field it names), or undefined. */
export function paymentError(p: PaymentLike, order: OrderLike): FieldError | undefined {
  if (p.currency_code !== order.currency_code)
    return { field: 'currency_code', reason: `must be the order's currency, ${order.currency_code}` };
  if (p.amount === 0) return { field: 'amount', reason: 'must not be 0' };
  const paid = order.amount_paid ?? 0;
  if (p.amount < 0) {
    if (!p.reason?.trim()) return { field: 'reason', reason: 'is required for a refund (a negative amount)' };
    if (-p.amount > paid) return { field: 'amount', reason: `refunds more than was paid (${paid})` };
    return undefined;
  }
  if (!REDEEMING(order.status)) return { field: 'order_id', reason: `the order is ${order.status}: it takes no payment` };
  // money a provider has taken is recorded whatever the balance (an overpayment shows as a negative balance)
  if (p.method !== 'stripe' && p.amount > (order.balance_due ?? 0))
    return { field: 'amount', reason: `is more than the balance due (${order.balance_due ?? 0})` };
  return undefined;
}

/**
 * What the order changes on the application it pays for: paid in full (completed) meets the fee
 * requirement (fee_paid_date = the order's paid_date); an order of that application that is no longer
 * paid in full (a refund, a cancellation) opens it again. A fee_paid_date typed by hand on an
 * application whose fee another order does not hold is left alone.
 */
export function settlement(order: OrderLike, feePaidDate: string | undefined, appOrderId: string | undefined): Record<string, unknown> | undefined {
  const mine = appOrderId === undefined || appOrderId === order.id;
  if (!mine) return undefined;
  if (order.status === 'completed') {
    return feePaidDate && appOrderId === order.id ? undefined : { fee_paid_date: order.paid_date, order_id: order.id };
  }
  return feePaidDate && appOrderId === order.id ? { fee_paid_date: undefined } : undefined;
}
