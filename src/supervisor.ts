import cluster, { type Worker } from 'node:cluster';
import type { Config } from './config.js';

/**
 * `serve --workers N`: this (primary) process forks N HTTP workers that share the port (node:cluster
 * hands accepted connections to them in turn). Background work runs in the first worker only (its
 * role as configured), the others serve the API: on SQLite one process then does the long writes,
 * and on PostgreSQL N pollers would only add load (more hosts share it through leases anyway). A
 * worker that dies is replaced with the same index and role; SIGTERM or SIGINT drains them all.
 */
export function supervise(config: Config, log: (msg: string) => void): void {
  const roles = (i: number): Config['role'] => (i === 0 || config.role === 'worker' ? config.role : 'api');
  const byIndex = new Map<number, Worker>();
  let closing = false;
  const fork = (i: number) => {
    const w = cluster.fork({ ACCREDIT_ROLE: roles(i), ACCREDIT_WORKER_INDEX: String(i), WEB_CONCURRENCY: '1' });
    byIndex.set(i, w);
    w.on('exit', (code, signal) => {
      if (byIndex.get(i) === w) byIndex.delete(i);
      if (closing) {
        if (!byIndex.size) process.exit(0);
        return;
      }
      log(`worker ${i} (pid ${w.process.pid}) ended (${signal ?? code}); starting another`);
      setTimeout(() => fork(i), 200).unref();
    });
  };
  for (let i = 0; i < config.workers; i++) fork(i);
  const stop = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    log(`${signal}: draining ${byIndex.size} workers`);
    if (!byIndex.size) process.exit(0);
    for (const w of byIndex.values()) w.process.kill('SIGTERM');
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

export const isSupervisor = (config: Config) => config.workers > 1 && cluster.isPrimary;
