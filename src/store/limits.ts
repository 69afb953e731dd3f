import path from 'node:path';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import type { Store } from './store.js';
import { asSystem } from './tenant-scope.js';

/**
 * Fixed-window request counters shared by every process on the database, so that a limit holds
 * across `--workers` and hosts. PostgreSQL keeps them in an UNLOGGED table; SQLite in a file of its
 * own beside the database (`<file>-limits`, WAL, no fsync), so that counting never takes the
 * database's write lock; an in-memory SQLite database counts in memory.
 *
 * A request does not pay a round trip for it: each process counts in memory and adds its counts to
 * the shared ones every FLUSH_MS (one statement for all keys), learning the others' totals back. Once
 * a key's count reaches half its limit, each hit goes to the shared counter at once, so the decision
 * near the limit is exact; below half, other processes' hits of the last FLUSH_MS may be unseen.
 */
export interface HitCounter {
  /** Counts one hit of key in the window that contains now: its count so far and when the window ends. */
  hit(key: string, windowMs: number, max: number, now: number): Promise<{ count: number; resetAt: number }>;
  close(): void;
}

/** Adds deltas to the shared counts; answers each key's total. */
type AddFn = (rows: { key: string; start: number; delta: number }[]) => Promise<Map<string, number>>;
interface Entry {
  key: string;
  start: number;
  /** The highest shared total learned (it only grows within a window). */
  shared: number;
  /** Hits sent to the shared counter, not answered yet. */
  inflight: number;
  /** Hits counted here and not sent yet. */
  pending: number;
}
export const FLUSH_MS = 100;

export function openHitCounter(store: Store, databaseFile?: string): HitCounter {
  if (store.dialect === 'postgres')
    return synced(pgAdd(store), (before) =>
      asSystem(() => sql`delete from rate_limit_hits where window_start < ${before}`.execute(store.db)),
    );
  const file = databaseFile && databaseFile !== ':memory:' ? `${path.resolve(databaseFile)}-limits` : ':memory:';
  const side = sqliteSide(file);
  return synced(side.add, side.forget, side.close);
}

function synced(add: AddFn, forget: (before: number) => Promise<unknown>, close?: () => void): HitCounter {
  const entries = new Map<string, Entry>();
  let timer: NodeJS.Timeout | undefined;
  let flushes = 0;
  const id = (key: string, start: number) => `${start}:${key}`;
  const count = (e: Entry) => e.shared + e.inflight + e.pending;
  /** Sends the pending hits of these entries in one statement; a failure keeps them pending. */
  const send = async (rows: Entry[]) => {
    const deltas = rows.map((e) => e.pending);
    rows.forEach((e) => {
      e.inflight += e.pending;
      e.pending = 0;
    });
    let totals: Map<string, number> | undefined;
    try {
      totals = await add(rows.map((e, i) => ({ key: e.key, start: e.start, delta: deltas[i]! })));
    } finally {
      rows.forEach((e, i) => {
        e.inflight -= deltas[i]!;
        const total = totals?.get(id(e.key, e.start));
        if (total === undefined) e.pending += deltas[i]!;
        else e.shared = Math.max(e.shared, total);
      });
    }
  };
  const flush = async () => {
    timer = undefined;
    const rows = [...entries.values()].filter((e) => e.pending > 0);
    if (rows.length) await send(rows).catch(() => {});
    if (++flushes % 600 === 0) {
      const now = Date.now();
      for (const [k, e] of entries) if (e.start + 3_600_000 < now) entries.delete(k);
      void forget(now - 3_600_000).catch(() => {});
    }
  };
  return {
    async hit(key, windowMs, max, now) {
      const start = now - (now % windowMs);
      const k = id(key, start);
      let e = entries.get(k);
      if (!e) {
        entries.delete(id(key, start - windowMs)); // the key's last window is over
        e = { key, start, shared: 0, inflight: 0, pending: 0 };
        entries.set(k, e);
      }
      e.pending++;
      if (count(e) * 2 >= max) {
        // near the limit: the shared count decides (if it does not answer, what this process knows)
        await send([e]).catch(() => {});
      } else if (!timer) {
        timer = setTimeout(() => void flush(), FLUSH_MS);
        timer.unref();
      }
      return { count: count(e), resetAt: start + windowMs };
    },
    close() {
      clearTimeout(timer);
      close?.();
    },
  };
}

function pgAdd(store: Store): AddFn {
  return async (rows) => {
    const r = await asSystem(() =>
      sql<{ key: string; window_start: string; hits: number }>`
        insert into rate_limit_hits (key, window_start, hits)
        select * from unnest(${rows.map((x) => x.key)}::text[], ${rows.map((x) => x.start)}::bigint[], ${rows.map((x) => x.delta)}::int[])
        on conflict (key, window_start) do update set hits = rate_limit_hits.hits + excluded.hits
        returning key, window_start, hits`.execute(store.db),
    );
    return new Map(r.rows.map((x) => [`${x.window_start}:${x.key}`, Number(x.hits)]));
  };
}

function sqliteSide(file: string) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.pragma('busy_timeout = 2000');
  db.exec(
    'create table if not exists hits (key text not null, window_start integer not null, hits integer not null, primary key (key, window_start)) without rowid',
  );
  const upsert = db.prepare(
    'insert into hits (key, window_start, hits) values (?, ?, ?) on conflict (key, window_start) do update set hits = hits + excluded.hits returning hits',
  );
  const del = db.prepare('delete from hits where window_start < ?');
  const addAll = db.transaction((rows: { key: string; start: number; delta: number }[]) => {
    const out = new Map<string, number>();
    for (const r of rows) out.set(`${r.start}:${r.key}`, (upsert.get(r.key, r.start, r.delta) as { hits: number }).hits);
    return out;
  });
  return {
    add: async (rows: { key: string; start: number; delta: number }[]) => addAll(rows),
    forget: async (before: number) => del.run(before),
    close: () => db.close(),
  };
}
