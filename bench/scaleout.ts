/**
 * The scale-out figures of the benchmark (run.ts phases `workers`, `replica` and `floor`):
 *
 * - GET by id against `serve --workers 1` and `--workers <cores>`: requests per second and the server's
 *   CPU time per request (all its processes, from /proc), beside the load generator's own CPU time, so
 *   that the scaling shows even where the load generator shares the cores with the server.
 * - On PostgreSQL with BENCH_REPLICA_URL: GET by id through a streaming replica (DATABASE_REPLICA_URLS),
 *   with the share of reads the replica served (the server's own accredit_reads_served metric).
 * - The batch floor: the records of the batch phase written by raw multi-row INSERTs (and their refs
 *   rows) in one transaction per 100, on one connection, into the same table with the same indexes —
 *   what no HTTP server can beat; the batch phase is reported as a fraction of it.
 */
import fs from 'node:fs';
import os from 'node:os';
import { uuidv7 } from 'uuidv7';
import { openStore, type Db } from '../src/store/store.js';
import { RESOURCES } from '../src/resources/index.js';
import type { StoredRecord } from '../src/store/records.js';
import { asSystem, rowOf } from './generate.js';
import { numbered, type BenchData } from './phases.js';
import { load, waitFor200, type Child, type LoadResult, type LoadSpec } from './lib.js';

const TICK_MS = 10; // USER_HZ is 100 on Linux (getconf CLK_TCK)

/** CPU time (user + system, ms) of a process and its direct children (the cluster's workers). */
export function treeCpuMs(root: number): number {
  let ticks = 0;
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // the command may hold spaces and parentheses: the fields start after the last ')'
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pid = Number(name);
    const ppid = Number(f[1]);
    if (pid === root || ppid === root) ticks += Number(f[11]) + Number(f[12]); // utime, stime
  }
  return ticks * TICK_MS;
}

export interface CpuLoadResult extends LoadResult {
  /** server CPU ms per answered request (all its processes) */
  serverCpuMs: number;
  /** the load generator's CPU ms per request (this process) */
  clientCpuMs: number;
}

/** A warm-up, then the measured run with the CPU time of the server's processes and of this one. */
export async function loadWithCpu(spec: LoadSpec, serverPid: number, warmupSeconds: number): Promise<CpuLoadResult> {
  if (warmupSeconds > 0) await load({ ...spec, duration: warmupSeconds, warmupSeconds: 0 });
  const s0 = treeCpuMs(serverPid);
  const c0 = process.cpuUsage();
  const r = await load({ ...spec, warmupSeconds: 0 });
  const c = process.cpuUsage(c0);
  const n = Math.max(1, r.ok + r.non2xx);
  return { ...r, serverCpuMs: (treeCpuMs(serverPid) - s0) / n, clientCpuMs: (c.user + c.system) / 1000 / n };
}

/** The cores the `auto` setting of --workers would use. */
export const cores = () => os.availableParallelism();

/** Reads served so far by the primary and by the replicas (the server's accredit_reads_served metric). */
export async function readsServed(child: Child, token: string): Promise<{ primary: number; replicas: number }> {
  const res = await fetch(`http://127.0.0.1:${child.port}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  const out = { primary: 0, replicas: 0 };
  for (const line of (await res.text()).split('\n')) {
    const m = /^accredit_reads_served\{target="([^"]*)"\} (\S+)$/.exec(line);
    if (m) out[m[1] === 'primary' ? 'primary' : 'replicas'] += Number(m[2]);
  }
  return out;
}

/** Waits until the server's readiness check lists every replica up (the replica has caught up). */
export async function replicaUp(child: Child, timeoutMs = 60_000): Promise<{ lag_ms?: number }> {
  const deadline = performance.now() + timeoutMs;
  await waitFor200(`http://127.0.0.1:${child.port}/health/ready`, child, performance.now(), timeoutMs);
  for (;;) {
    const body = (await (await fetch(`http://127.0.0.1:${child.port}/health/ready`)).json()) as {
      replicas?: { up: boolean; lag_ms?: number }[];
    };
    const r = body.replicas?.[0];
    if (r?.up) return r;
    if (performance.now() > deadline) throw new Error(`the replica is not up after ${timeoutMs} ms: ${JSON.stringify(body)}`);
    await new Promise((res) => setTimeout(res, 500));
  }
}

export interface FloorResult {
  records: number;
  seconds: number;
  recordsPerSecond: number;
}

/**
 * The batch phase's records (the same bodies, fresh numbers and ids) written without the server: per
 * 100 records one transaction with one multi-row INSERT into the certifications table and one into
 * refs, for `seconds`. The certifications table keeps all its indexes (unique number included).
 */
export function batchFloor(databaseUrl: string, d: BenchData, seconds: number): Promise<FloorResult> {
  return asSystem(async () => {
    const certifications = RESOURCES.find((r) => r.def.slug === 'certifications')!;
    const spec = certifications.table;
    const store = await openStore(databaseUrl);
    try {
      const bodies = d.batchBodies.map((b) => b); // numbered() per use: fresh certificate numbers
      const write = async (trx: Db, i: number) => {
        const ops = (JSON.parse(numbered(bodies[i % bodies.length]!)) as { operations: { object: Record<string, unknown> }[] }).operations;
        const at = new Date().toISOString();
        const rows: Record<string, unknown>[] = [];
        const refs: Record<string, unknown>[] = [];
        for (const op of ops) {
          const rec = {
            id: uuidv7(),
            ...op.object,
            sys_created_at: at,
            sys_created_by_id: 'bench-floor',
            sys_last_modified_at: at,
            sys_last_modified_by_id: 'bench-floor',
            sys_version: 1,
            sys_locked: false,
          } as StoredRecord;
          rows.push(rowOf(spec, store.dialect, d.tenant, rec));
          for (const r of certifications.collectRefs(op.object)) {
            refs.push({
              tenant_id: d.tenant,
              target: r.target,
              target_id: r.id,
              source: 'certifications',
              source_id: rec.id,
              field: r.field,
            });
          }
        }
        await trx.insertInto(spec.name).values(rows).execute();
        if (refs.length) await trx.insertInto('refs').values(refs).execute();
        return rows.length;
      };
      // warm-up: statement caches, the page cache
      for (let i = 0; i < 5; i++) await store.transaction((trx) => write(trx, i));
      let records = 0;
      const t0 = performance.now();
      for (let i = 0; performance.now() - t0 < seconds * 1000; i++) records += await store.transaction((trx) => write(trx, i));
      const elapsed = (performance.now() - t0) / 1000;
      return { records, seconds: elapsed, recordsPerSecond: records / elapsed };
    } finally {
      await store.close();
    }
  });
}
