import type { AppServices } from '../resources/kit/context.js';
import type { JobHandler } from './executions.js';
import { EXECUTION_KINDS, kindName, type ExecutionKind } from './kinds.js';

/**
 * Every piece of background work the server does, in one place.
 *
 * - EXECUTIONS: the handler of each kind of execution (jobs/kinds.ts). An execution is durable work
 *   a request or a loop started: a row in `executions`, claimed by a worker with a lease, resumed by
 *   any process after a crash (jobs/executions.ts). Handlers are registered in every process, also
 *   those that run no worker (an api process records RUNNING executions for the workers).
 * - LOOPS: what polls on its own, started when the app is ready (in processes that run background
 *   work) and stopped, in this order, when it closes: first what starts executions, then the worker,
 *   then the mail sender.
 *
 * A new job is one file (its handler, over the services) and one line here: a kind in jobs/kinds.ts
 * and its line in EXECUTIONS, or its line in LOOPS for something periodic. Start-up refuses a kind
 * without a handler and a kind with two.
 */
const EXECUTIONS: { kind: ExecutionKind; handler: (s: AppServices) => JobHandler }[] = [
  { kind: EXECUTION_KINDS.billingRefresh, handler: (s) => (job) => s.billing.refresh(job) },
  { kind: EXECUTION_KINDS.billingExecute, handler: (s) => (job) => s.billing.execute(job) },
  { kind: EXECUTION_KINDS.lifecycleSweep, handler: (s) => (job) => s.sweep.run(job) },
  { kind: EXECUTION_KINDS.bulkLoad, handler: (s) => (job) => s.bulkLoads.run(job) },
  { kind: EXECUTION_KINDS.queryRun, handler: (s) => (job) => s.queries.execute(job) },
];

interface Loop {
  start(): void;
  stop(): Promise<void>;
}

const LOOPS: { name: string; loop: (s: AppServices) => Loop }[] = [
  // recurring billing runs: the leader starts their refreshes and executions
  { name: 'billing scheduler', loop: (s) => s.scheduler },
  // LIFECYCLE_SWEEP_CRON: the leader starts one sweep execution per tenant with work due
  { name: 'lifecycle sweep schedule', loop: (s) => s.sweep },
  { name: 'execution worker', loop: (s) => ({ start: () => s.executions.startWorker(), stop: () => s.executions.stop() }) },
  {
    name: 'mail sender',
    loop: (s) => ({
      start: () => s.mailer.sender.start(),
      stop: async () => {
        await s.mailer.sender.stop();
        s.mailer.transport.close();
      },
    }),
  },
];

/** Throws, naming them, when a kind has no handler or more than one. */
export function checkHandlers(
  kinds: readonly { resource: string; action: string }[],
  handled: readonly { resource: string; action: string }[],
): void {
  const names = handled.map(kindName);
  const twice = [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
  if (twice.length) throw new Error(`background jobs: more than one handler for ${twice.join(', ')} (jobs/registry.ts)`);
  const missing = kinds.map(kindName).filter((n) => !names.includes(n));
  if (missing.length) throw new Error(`background jobs: no handler for ${missing.join(', ')} (jobs/registry.ts)`);
}

export interface BackgroundWork {
  /** Starts every loop. */
  start(): void;
  /** Stops every loop (running executions hand their work back), then closes the mail transport. */
  stop(): Promise<void>;
}

/**
 * Registers every execution handler with the app's Executions and answers the loops to start and
 * stop. Throws, naming them, when a kind has no handler or two.
 */
export function registerJobs(s: AppServices): BackgroundWork {
  checkHandlers(
    Object.values(EXECUTION_KINDS),
    EXECUTIONS.map((e) => e.kind),
  );
  for (const e of EXECUTIONS) s.executions.register(e.kind.resource, e.kind.action, e.handler(s));
  const loops = LOOPS.map((l) => l.loop(s));
  return {
    start: () => {
      for (const l of loops) l.start();
    },
    stop: async () => {
      for (const l of loops) await l.stop();
    },
  };
}
