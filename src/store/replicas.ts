import { sql } from 'kysely';
import type { Db } from './db.js';
import { asSystem } from './tenant-scope.js';

/**
 * What a read outside a transaction asks for: `consistent` (the API's consistentRead=true) reads the
 * primary; `after` (a consistency token a write answered) reads a replica only once it has replayed
 * that far. Without a preference (background work, internal reads) the primary is read.
 */
export interface ReadPreference {
  consistent?: boolean;
  after?: string;
}

export interface ReplicaState {
  name: string;
  up: boolean;
  /** Replay position (pg_last_wal_replay_lsn) at the last check. */
  lsn?: bigint;
  /** How far behind the primary at the last check (ms); 0 when it had replayed all the primary had. */
  lagMs: number;
}

/** `16/B374D848` -> a number that orders positions. */
export function parseLsn(text: string): bigint | undefined {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  return m ? (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`) : undefined;
}

// 40001 on a replica: a query cancelled by a conflict with recovery
const CONNECTION_ERRORS = new Set([
  '40001',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
]);
/** The replica went away (the read is retried on the primary); not a bad query. */
export function isConnectionError(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return (
    CONNECTION_ERRORS.has(String(err?.code)) ||
    /Connection terminated|connection timeout|Client has encountered a connection error/i.test(String(err?.message))
  );
}

/**
 * Streaming replicas (DATABASE_REPLICA_URLS), checked every `checkMs`: their replay position and
 * lag. A read picks, in turn, a replica that is up, within `maxLagMs` and past the read's token;
 * otherwise the primary. A replica that fails a read is marked down and the read goes to the primary:
 * a stopped replica costs no request.
 */
export class Replicas {
  readonly states: ReplicaState[];
  private turn = 0;
  private timer?: NodeJS.Timeout;
  private checking?: Promise<void>;
  /** Reads answered by each target since start (metrics). */
  readonly served = new Map<string, number>();

  constructor(
    private readonly primary: Db,
    private readonly replicas: { name: string; db: Db }[],
    private readonly opts: { maxLagMs: number; checkMs: number },
  ) {
    this.states = replicas.map((r) => ({ name: r.name, up: false, lagMs: Infinity }));
  }

  start() {
    const tick = () => {
      this.timer = setTimeout(() => void this.check().finally(tick), this.opts.checkMs);
      this.timer.unref();
    };
    void this.check().finally(tick);
  }

  stop() {
    clearTimeout(this.timer);
  }

  /** One round of checks (also awaited by tests). */
  check(): Promise<void> {
    this.checking ??= this.checkAll().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async checkAll() {
    let head: bigint | undefined;
    try {
      const r = await asSystem(() => sql<{ lsn: string }>`select pg_current_wal_lsn()::text as lsn`.execute(this.primary));
      head = parseLsn(r.rows[0]!.lsn);
    } catch {
      /* the primary's health is /health/ready's business */
    }
    await Promise.all(
      this.replicas.map(async (r, i) => {
        const s = this.states[i]!;
        try {
          const q = await asSystem(() =>
            sql<{ lsn: string | null; since: number | null }>`
              select pg_last_wal_replay_lsn()::text as lsn,
                     extract(epoch from (now() - pg_last_xact_replay_timestamp())) * 1000 as since`.execute(r.db),
          );
          const lsn = q.rows[0]?.lsn ? parseLsn(q.rows[0].lsn) : undefined;
          if (lsn === undefined) throw new Error('not a streaming replica');
          s.up = true;
          s.lsn = lsn;
          s.lagMs = head === undefined || lsn >= head ? 0 : Math.max(0, Number(q.rows[0]!.since ?? Infinity));
        } catch {
          s.up = false;
          s.lagMs = Infinity;
        }
      }),
    );
  }

  /** The replica for this read, or undefined for the primary. */
  pick(pref: ReadPreference | undefined): { name: string; db: Db; index: number } | undefined {
    if (!pref || pref.consistent || !this.replicas.length) return undefined;
    const after = pref.after ? parseLsn(pref.after) : undefined;
    if (pref.after && after === undefined) return undefined; // a token we cannot read: the safe choice
    for (let k = 0; k < this.replicas.length; k++) {
      const index = (this.turn + k) % this.replicas.length;
      const s = this.states[index]!;
      if (!s.up || s.lagMs > this.opts.maxLagMs) continue;
      if (after !== undefined && (s.lsn === undefined || s.lsn < after)) continue;
      this.turn = index + 1;
      return { ...this.replicas[index]!, index };
    }
    return undefined;
  }

  async read<T>(pref: ReadPreference | undefined, fn: (db: Db) => Promise<T>): Promise<T> {
    const r = this.pick(pref);
    if (r) {
      try {
        const out = await fn(r.db);
        this.count(r.name);
        return out;
      } catch (e) {
        if (!isConnectionError(e)) throw e;
        this.states[r.index]!.up = false;
      }
    }
    const out = await fn(this.primary);
    this.count('primary');
    return out;
  }

  private count(name: string) {
    this.served.set(name, (this.served.get(name) ?? 0) + 1);
  }
}
