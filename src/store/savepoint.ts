import { CompiledQuery } from 'kysely';
import type { Db } from './db.js';

/**
 * Runs `fn` in a savepoint of the transaction `trx`: when it throws, what it did is rolled back and
 * the transaction goes on; the error is answered (undefined when `fn` succeeded).
 */
export async function inSavepoint(trx: Db, name: string, fn: () => Promise<unknown>): Promise<unknown> {
  if (!/^\w+$/.test(name)) throw new Error(`bad savepoint name ${name}`);
  await trx.executeQuery(CompiledQuery.raw(`savepoint ${name}`));
  try {
    await fn();
    await trx.executeQuery(CompiledQuery.raw(`release savepoint ${name}`));
    return undefined;
  } catch (e) {
    await trx.executeQuery(CompiledQuery.raw(`rollback to savepoint ${name}`));
    await trx.executeQuery(CompiledQuery.raw(`release savepoint ${name}`));
    return e;
  }
}
