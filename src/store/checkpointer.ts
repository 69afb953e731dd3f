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

/**
 * A failed checkpoint is reported (first of a run of failures, then at most once a minute while they
 * go on, and when one succeeds again): a silent failure would let the WAL grow to the writer's
 * backstop and leave nobody knowing why.
 */
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
let failures = 0;
let reported = 0;
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    if (failures) parentPort.postMessage({ kind: 'recovered', failures });
    failures = 0;
  } catch (e) {
    failures++;
    const now = Date.now();
    if (failures === 1 || now - reported >= 60000) {
      reported = now;
      parentPort.postMessage({ kind: 'failed', failures, message: String(e && e.message), code: e && e.code });
    }
  }
}, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/** What the checkpointer reports: a level, an object for the log (the file, the error, failures in a row) and a message. */
export type CheckpointerLog = (level: 'error' | 'info', obj: Record<string, unknown>, msg: string) => void;

/** Until the app's log is given (serve), reports go to stderr as JSON lines. */
const toStderr: CheckpointerLog = (level, obj, msg) =>
  process.stderr.write(`${JSON.stringify({ level, time: Date.now(), msg, ...obj })}\n`);
let report: CheckpointerLog = toStderr;
/** Sends checkpointer failures to `log` (undefined: back to stderr). */
export function logCheckpointerTo(log: CheckpointerLog | undefined) {
  report = log ?? toStderr;
}

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
  const backstop = `the writer checkpoints itself once the WAL reaches ${WRITER_AUTOCHECKPOINT_PAGES} pages`;
  worker.on('message', (m: { kind: 'failed' | 'recovered'; failures: number; message?: string; code?: string }) => {
    if (m.kind === 'failed')
      report(
        'error',
        { file, err: m.message, code: m.code, failures: m.failures },
        `WAL checkpoint of ${file} failed (${m.failures} in a row); ${backstop}`,
      );
    else report('info', { file, failures: m.failures }, `WAL checkpoint of ${file} works again after ${m.failures} failures`);
  });
  // the thread itself failed (the driver, opening the file): the writer's backstop takes over
  worker.on('error', (e) =>
    report(
      'error',
      { file, err: e.message, code: (e as { code?: string }).code },
      `the WAL checkpointer thread of ${file} stopped; ${backstop}`,
    ),
  );
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
