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
