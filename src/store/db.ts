import type { Kysely } from 'kysely';

/**
 * Records and rows are dynamic (tables come from resource definitions), so the Kysely schema is open.
 * Its own module so that what store.ts builds on (replicas.ts) can name it without importing store.ts.
 */
export type Db = Kysely<any>;
