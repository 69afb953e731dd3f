import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Moves SQLite's WAL checkpoints off the event loop. By default the connection that commits past
 * 1,000 WAL pages copies them into the database file and syncs it, inside that commit: a write
 * request then pays for the pages of many others (measured: about half of a 100-record batch's
 * commit). Here a worker thread with its own connection runs a PASSIVE checkpoint every `everyMs`
 * (it never blocks the writer or the readers), and the writer's own automatic checkpoint stays as a
 * backstop at a much larger WAL, should the worker ever fall behind or stop.
 */
export const WRITER_AUTOCHECKPOINT_PAGES = 16_384; // 64 MB of 4 KB pages

const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
}, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

/**
 * The thread starts `delayMs` after the store opens: starting a thread (and loading the driver in it)
 * costs the start-up to healthy ~100 ms on two cores, and until then the writer's backstop stands.
 */
export function startCheckpointer(file: string, everyMs = 200, delayMs = 2000): Checkpointer {
  let worker: Worker | undefined;
  let stopped = false;
  const timer = setTimeout(() => {
    if (!stopped) worker = spawn(file, everyMs);
  }, delayMs);
  timer.unref();
  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      stopping ??= worker ? stopWorker(worker) : Promise.resolve();
      return stopping;
    },
  };
}

function spawn(file: string, everyMs: number): Worker {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER, { eval: true, workerData: { file, driver, everyMs } });
  worker.unref(); // never keeps a process (CLI, tests) alive
  worker.on('error', () => {}); // the writer's backstop checkpoint takes over
  worker.once('exit', () => ((worker as Worker & { exited?: boolean }).exited = true));
  return worker;
}

function stopWorker(worker: Worker & { exited?: boolean }): Promise<void> {
  if (worker.exited) return Promise.resolve();
  return new Promise<void>((resolve) => {
    // referenced again while it stops: an unreferenced worker's exit would not keep the process
    // waiting for it, and whatever awaits close() would never run
    worker.ref();
    const timer = setTimeout(() => void worker.terminate(), 2000);
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    worker.postMessage('stop');
  });
}
