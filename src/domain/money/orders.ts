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
 * the reasons the write is refused: a line whose amount is not quantity × unit_amount less its
 * discount, a computed field a PATCH changed (`patched`: the other writes never carry them), a balance
 * status that the balance contradicts, a currency changed under payments. `now` stamps paid_date when
 * the order becomes paid in full.
 */
export function orderFigures(
  next: OrderLike,
  paid: number,
  old: OrderLike | undefined,
  now: string,
  patched = false,
): { values: Partial<OrderLike>; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const lines = next.lines ?? [];
  lines.forEach((l, i) => {
    const gross = l.quantity * l.unit_amount;
    const want = l.type === 'discount' ? gross : gross - (l.discount ?? 0);
    if (l.type === 'discount' && l.unit_amount > 0) errors.push({ field: `lines.${i}.unit_amount`, reason: 'a discount line is negative' });
    if (l.type !== 'discount' && l.unit_amount < 0)
      errors.push({ field: `lines.${i}.unit_amount`, reason: 'must not be negative (a discount is a discount line)' });
    if (l.amount !== want)
      errors.push({
        field: `lines.${i}.amount`,
        reason: `must be quantity × unit_amount${l.type === 'discount' ? '' : ' − discount'}: ${want}`,
      });
  });
  const totals = totalsOf(lines);
  if (totals.total < 0) errors.push({ field: 'lines', reason: `the discounts exceed the fees: the total would be ${totals.total}` });
  const values: Partial<OrderLike> = { ...totals, amount_paid: paid, balance_due: totals.total - paid };
  if (patched)
    for (const f of COMPUTED)
      if (next[f] !== old?.[f])
        errors.push({ field: f, reason: `is read-only: computed from the ${f === 'amount_paid' ? 'payments' : 'lines and payments'}` });
  if (old && old.currency_code !== next.currency_code && (old.amount_paid ?? 0) !== 0)
    errors.push({ field: 'currency_code', reason: 'cannot change once the order has payments' });
  // awaiting payment / completed are the balance's to say: a stated one is replaced by what the
  // balance gives (a record read before a payment and sent back is accepted); a PATCH that sets one
  // against the balance is refused. Any other status (cancelled, void …) is staff's and kept.
  const byBalance = values.balance_due! <= 0 ? 'completed' : 'awaiting payment';
  const balanceStatus = (x: string | undefined) => x === undefined || (BALANCE_STATUSES as readonly string[]).includes(x);
  let status = next.status ?? old?.status;
  if (balanceStatus(status)) {
    if (patched && next.status !== old?.status && next.status !== byBalance)
      errors.push({
        field: 'status',
        reason: `follows the balance: ${byBalance} (balance_due ${values.balance_due}); record a payment to change it`,
      });
    status = byBalance;
  }
  values.status = status!;
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
  // more than the balance is taken as it comes (money received is never refused): the balance goes
  // below zero, a credit the board refunds or keeps
  return undefined;
}

/**
 * What the order changes on the application it pays for: paid in full (completed) meets the fee
 * requirement (fee_paid_date = the order's paid_date); an order of that application that is no longer
 * paid in full (a refund, a cancellation) opens it again. A fee_paid_date typed by hand on an
 * application whose fee another order does not hold is left alone.
 */
export function settlement(
  order: OrderLike,
  feePaidDate: string | undefined,
  appOrderId: string | undefined,
): Record<string, unknown> | undefined {
  const mine = appOrderId === undefined || appOrderId === order.id;
  if (!mine) return undefined;
  if (order.status === 'completed') {
    return feePaidDate && appOrderId === order.id ? undefined : { fee_paid_date: order.paid_date, order_id: order.id };
  }
  return feePaidDate && appOrderId === order.id ? { fee_paid_date: undefined } : undefined;
}
