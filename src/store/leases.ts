import type { Kysely } from 'kysely';
import type { Db } from './db.js';

/** A named lease (`leases`, not tenant data): which process leads a periodic job until when. */
export interface LeaseRow {
  name: string;
  owner: string;
  /** ISO date-time. */
  until: string;
}

const leases = (db: Db) => db as Kysely<{ leases: LeaseRow }>;

/** Takes lease `name` for `owner` until `until`, or renews it when `owner` holds it; false while another holds it (until `now`). */
export async function takeLease(db: Db, name: string, owner: string, until: string, now: string): Promise<boolean> {
  await leases(db)
    .insertInto('leases')
    .values({ name, owner, until })
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet({ owner, until })
        .where((eb) => eb.or([eb('leases.owner', '=', owner), eb('leases.until', '<', now)])),
    )
    .execute();
  const row = await leases(db).selectFrom('leases').select('owner').where('name', '=', name).executeTakeFirst();
  return row?.owner === owner;
}

/** Gives lease `name` back when `owner` holds it (another process may take it at once). */
export async function releaseLease(db: Db, name: string, owner: string): Promise<void> {
  await leases(db).deleteFrom('leases').where('name', '=', name).where('owner', '=', owner).execute();
}
