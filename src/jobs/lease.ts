import crypto from 'node:crypto';
import os from 'node:os';
import type { Clock } from '../core/clock.js';
import type { Store } from '../store/store.js';
import { releaseLease, takeLease } from '../store/leases.js';
import { asSystem } from '../store/tenant-scope.js';

/** This process's id (host, pid, a random suffix), made once. */
const PROCESS_ID = `${os.hostname()}:${process.pid}:${crypto.randomUUID().slice(0, 8)}`;
let apps = 0;

/**
 * The owner id of an app's leases: this process's id. A second app in the same process (tests run
 * two "processes" in one) gets its own suffix, so that the two compete like two processes.
 */
export function leaseOwner(): string {
  apps++;
  return apps === 1 ? PROCESS_ID : `${PROCESS_ID}#${apps}`;
}

/**
 * The one lease implementation of the background work: who holds it (one owner id per app) and
 * for how long (WORKER_LEASE_MS unless a loop says otherwise).
 * - named leases (`leases` table): the leader of a periodic job (the billing scheduler, the lifecycle
 *   sweep) takes or renews its lease on each round and gives it back when it stops;
 * - row leases (an execution, an outbox row): the claim is a conditional UPDATE of the row in its
 *   repository (store/executions.ts, store/outbox.ts) with this owner and until(); keep() renews a
 *   held claim while the work runs.
 * A process that dies holds nothing once its leases lapse: another takes the work over then.
 */
export class Leases {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    readonly owner: string,
    /** How long a lease lasts without renewal (ms). */
    readonly ms: number,
  ) {}

  /** When a lease taken or renewed now ends (ISO date-time). */
  until(ms = this.ms): string {
    return new Date(this.clock.now().getTime() + ms).toISOString();
  }

  /** Takes the named lease, or renews it when this owner holds it; false while another holds it. */
  acquire(name: string, ms = this.ms): Promise<boolean> {
    return asSystem(() => takeLease(this.store.db, name, this.owner, this.until(ms), this.clock.now().toISOString()));
  }

  /** Gives the named lease back when this owner holds it. */
  release(name: string): Promise<void> {
    return asSystem(() => releaseLease(this.store.db, name, this.owner));
  }

  /**
   * Renews a held row lease every third of its term (renew answers whether it still held it) until the
   * answered function is called; lost() once another owner took the row over.
   */
  keep(renew: (until: string) => Promise<boolean>, lost: () => void): () => void {
    const timer = setInterval(
      () => {
        renew(this.until())
          .then((held) => {
            if (!held) lost();
          })
          .catch(() => {});
      },
      Math.max(50, Math.floor(this.ms / 3)),
    );
    timer.unref?.();
    return () => clearInterval(timer);
  }
}
