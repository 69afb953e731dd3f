/**
 * The statistics of a billing run: per action type, how many actions are in each outcome bucket.
 * Pure: the service passes the run's actions (type and status only).
 */

export interface ActionStatistic {
  action: string;
  total: number;
  pending: number;
  processing: number;
  successful: number;
  excluded: number;
  error: number;
}

type Bucket = Exclude<keyof ActionStatistic, 'action' | 'total'>;

/** Which bucket each action status counts in (billingRunActions' status enum); an unknown status counts in total only. */
const BUCKET: Record<string, Bucket> = {
  pending: 'pending',
  processing: 'processing',
  'processing order': 'processing',
  completed: 'successful',
  excluded: 'excluded',
  'no longer eligible': 'excluded',
  'expiration date changed': 'excluded',
  error: 'error',
  'payment failure': 'error',
};

/** One entry per action type present, sorted by type. */
export function runStatistics(actions: { type: string; status: string }[]): ActionStatistic[] {
  const byType = new Map<string, ActionStatistic>();
  for (const a of actions) {
    let s = byType.get(a.type);
    if (!s) byType.set(a.type, (s = { action: a.type, total: 0, pending: 0, processing: 0, successful: 0, excluded: 0, error: 0 }));
    s.total++;
    const bucket = Object.hasOwn(BUCKET, a.status) ? BUCKET[a.status] : undefined;
    if (bucket) s[bucket]++;
  }
  // Code-point order, not locale order: the same statistics on every server.
  return [...byType.values()].sort((x, y) => (x.action < y.action ? -1 : x.action > y.action ? 1 : 0));
}

/** The money of a run's actions of one type in one currency (integer minor units). */
export interface ActionAmount {
  type: string;
  currency: string;
  /** sum of the actions' amounts, in the currency's minor units (cents) */
  total: number;
  /** how many actions the total adds up */
  count: number;
}

/** The statuses whose actions a run does or did perform: pending, under way, completed (not excluded, failed or dropped). */
const PERFORMED_OR_PENDING = new Set(['pending', 'processing', 'processing order', 'completed']);

/**
 * What a run charges or forecasts, per action type and currency: its actions that carry an amount
 * (renewal forecasts and reminders, training-provider bills), pending or performed. Sorted by type,
 * then currency, in code-point order.
 */
export function runAmounts(actions: { type: string; status: string; amount?: unknown; currency_code?: unknown }[]): ActionAmount[] {
  const byKey = new Map<string, ActionAmount>();
  for (const a of actions) {
    if (!PERFORMED_OR_PENDING.has(a.status) || !Number.isSafeInteger(a.amount) || typeof a.currency_code !== 'string') continue;
    const key = `${a.type}\u0000${a.currency_code}`;
    let s = byKey.get(key);
    if (!s) byKey.set(key, (s = { type: a.type, currency: a.currency_code, total: 0, count: 0 }));
    s.total += a.amount as number;
    s.count++;
  }
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return [...byKey.values()].sort((x, y) => cmp(x.type, y.type) || cmp(x.currency, y.currency));
}
