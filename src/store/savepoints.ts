import { CompiledQuery } from 'kysely';
import type { Db, DialectName } from './store.js';

/**
 * Savepoints, written once: part of a transaction that can be undone alone while the rest goes on
 * (a batch operation, a billing action, a counter value that lost a race). The statements of each
 * savepoint name are compiled once and sent without the query builder (hot paths: one per action of
 * a billing chunk).
 */
interface Statements {
  open: CompiledQuery;
  /** PostgreSQL: releases the previous one and opens the next in one round trip (a simple query of two statements). */
  releaseAndOpen: CompiledQuery;
  rollback: CompiledQuery;
  release: CompiledQuery;
  /** PostgreSQL: both in one round trip. */
  rollbackAndRelease: CompiledQuery;
}

const compiled = new Map<string, Statements>();
function statements(name: string): Statements {
  let s = compiled.get(name);
  if (s) return s;
  // the name goes into SQL text as is: only a plain identifier
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`savepoint name ${name} is not a plain identifier`);
  s = {
    open: CompiledQuery.raw(`savepoint ${name}`),
    releaseAndOpen: CompiledQuery.raw(`release savepoint ${name}; savepoint ${name}`),
    rollback: CompiledQuery.raw(`rollback to savepoint ${name}`),
    release: CompiledQuery.raw(`release savepoint ${name}`),
    rollbackAndRelease: CompiledQuery.raw(`rollback to savepoint ${name}; release savepoint ${name}`),
  };
  compiled.set(name, s);
  return s;
}

/**
 * One savepoint name in a transaction, opened again and again (one after the other, never nested by
 * the caller). A savepoint whose work is kept (`keep`) is released lazily: by the next `open` (on
 * PostgreSQL in the same round trip) or by the commit. On SQLite, which runs in process, a kept one
 * is left open: the next one nests inside it, and `rollback to` / `release` act on the newest of that
 * name. PostgreSQL gives each savepoint that writes a subtransaction id; releasing keeps them from
 * piling up past the 64 its subxid cache holds.
 */
export class Savepoint {
  private held = false;
  private readonly s: Statements;
  constructor(
    private readonly trx: Db,
    private readonly dialect: DialectName,
    name: string,
  ) {
    this.s = statements(name);
  }

  async open() {
    await this.trx.executeQuery(this.held && this.dialect === 'postgres' ? this.s.releaseAndOpen : this.s.open);
    this.held = false;
  }

  /** What was done since `open` is kept; the savepoint is released later (see the class). */
  keep() {
    this.held = true;
  }

  /** What was done since `open` is kept, and the savepoint released now. */
  async release() {
    await this.trx.executeQuery(this.s.release);
    this.held = false;
  }

  /** What was done since `open` is undone; the transaction goes on. */
  async undo() {
    if (this.dialect === 'postgres') await this.trx.executeQuery(this.s.rollbackAndRelease);
    else {
      await this.trx.executeQuery(this.s.rollback);
      await this.trx.executeQuery(this.s.release);
    }
    this.held = false;
  }
}

/**
 * Runs `fn` inside a savepoint of the transaction `trx`: kept and released when it returns a result
 * that `keep` accepts (default: any), undone when it returns one that `keep` refuses or when it
 * throws (the error is thrown on, the transaction usable again).
 */
export async function inSavepoint<T>(
  trx: Db,
  dialect: DialectName,
  name: string,
  fn: () => Promise<T>,
  keep: (result: T) => boolean = () => true,
): Promise<T> {
  const savepoint = new Savepoint(trx, dialect, name);
  await savepoint.open();
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    // the error that matters is fn's, even should the undo fail too (a broken connection)
    await savepoint.undo().catch(() => undefined);
    throw e;
  }
  if (keep(result)) await savepoint.release();
  else await savepoint.undo();
  return result;
}
