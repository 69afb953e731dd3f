/**
 * Gives the event loop a turn. On SQLite every query completes synchronously, so a long job made only
 * of awaits (a billing run, a bulk load, a query download) never yields to I/O by itself: without
 * this, API requests would wait for the whole job.
 */
export const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));
