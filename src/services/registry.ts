import { AppError, invalid } from '../core/errors.js';
import type { AppServices } from '../resources/kit/context.js';
import { decodeKey, pageLimit, toPage } from '../resources/kit/paging.js';
import type { StoredRecord } from '../store/records.js';
import { certificationsByNumber, directoryCertifications, programNames } from '../store/registry.js';
import {
  entryOf,
  listingScope,
  listsNothing,
  parseCriteria,
  publishedFields,
  type DirectoryEntry,
  type DirectoryLike,
} from '../domain/registry/publishing.js';
import { pickCertificate, verdict } from '../domain/registry/verification.js';
import { effectiveStatus, standing } from '../domain/lifecycle/standing.js';

/**
 * The public registry (routes: http/public.ts): a directory's entries as it publishes them, and the
 * verification of a certificate number. The rules are domain/registry's; the reads store/registry.ts's.
 */
export const PUBLIC_PAGE_DEFAULT = 20;
export const PUBLIC_PAGE_MAX = 100;

/** The answer of verify (GET /public/verify/…, the registry's verify page). */
export interface Verification {
  valid: boolean;
  checked_on: string;
  program: { id: string; name?: string };
  number: number;
  holder: { name: string };
  status: string;
  standing?: string;
  certification_date?: string;
  expiration_date?: string;
  in_grace_period: boolean;
  grace_period_end_date?: string;
}

export class Registry {
  constructor(private readonly s: AppServices) {}

  today() {
    return this.s.clock.now().toISOString().slice(0, 10);
  }

  private get certs() {
    return this.s.resource('certifications');
  }

  async directory(tenantId: string, id: string): Promise<DirectoryLike | undefined> {
    return (await this.s.resource('directories').table.get(this.s.store.db, tenantId, id)) as DirectoryLike | undefined;
  }

  /**
   * The tenant's public directories (the registry pages list them), in id order: the first 200
   * directories read (a tenant has a handful; is_public has no index, so the filter is here).
   */
  async publicDirectories(tenantId: string): Promise<(DirectoryLike & { id: string })[]> {
    const rows = await this.s.resource('directories').table.page(this.s.store.db, tenantId, [], undefined, 200);
    return rows.filter((d) => d.is_public === true) as (DirectoryLike & { id: string })[];
  }

  /** A certification with today's status and standing (what the lifecycle says it is now). */
  private asOfToday(rec: StoredRecord, today: string): StoredRecord {
    const s = standing(rec, today);
    return { ...rec, status: effectiveStatus(rec, today), ...(s ? { standing: s } : {}) } as StoredRecord;
  }

  /** One page of a directory's entries matching the query's criteria. */
  async entries(tenantId: string, d: DirectoryLike, query: Record<string, unknown>) {
    const { criteria, errors } = parseCriteria(query, d);
    if (errors.length) throw invalid(errors, 'bad_request');
    const limit = pageLimit(query.limit, PUBLIC_PAGE_DEFAULT, PUBLIC_PAGE_MAX);
    const after = decodeKey(query.exclusiveStartKey as string | undefined);
    const scope = listingScope(d);
    if (listsNothing(scope)) return { Count: 0, Items: [] as DirectoryEntry[] };
    const today = this.today();
    // Listed by today's status: an active certification past its grace end counts as inactive (it lapsed).
    const stored =
      scope.statuses.includes('inactive') && !scope.statuses.includes('active') ? [...scope.statuses, 'active'] : scope.statuses;
    const rows = await directoryCertifications(this.s.store.db, this.s.store.dialect, this.certs.table.spec, {
      tenantId,
      today,
      storedStatuses: stored,
      statuses: scope.statuses,
      ...(scope.programIds ? { programIds: scope.programIds } : {}),
      criteria,
      ...(after !== undefined ? { after } : {}),
      limit: limit + 1,
    });
    const { items, lastKey } = toPage(rows, limit);
    const names = await programNames(this.s.store.db, this.s.resource('programs').table.spec.name, tenantId, [
      ...new Set(items.map((i) => String(i.rec.program_id))),
    ]);
    const published = publishedFields(d);
    const Items = items.map((i) => entryOf(this.asOfToday(i.rec, today), published, names.get(String(i.rec.program_id))));
    return { Count: Items.length, Items, ...(lastKey ? { LastEvaluatedKey: lastKey } : {}) };
  }

  /** Certificate `number` of programme `programId`, as an employer sees it today. */
  async verify(tenantId: string, programId: string, number: number): Promise<Verification> {
    const db = this.s.store.db;
    const today = this.today();
    const unknown = () => new AppError('not_found', `no certificate ${number} in programme ${programId}`, { details: { valid: false } });
    const program = await this.s.resource('programs').table.get(db, tenantId, programId);
    if (!program) throw unknown();
    const cert = pickCertificate(await certificationsByNumber(db, this.certs.table.spec.name, tenantId, programId, number), today);
    if (!cert) throw unknown();
    const v = verdict(cert, today);
    const s = standing(cert, today);
    const opt = (k: string) => (typeof cert[k] === 'string' ? { [k]: cert[k] as string } : {});
    return {
      valid: v.valid,
      checked_on: today,
      program: { id: programId, ...(typeof program.name === 'string' ? { name: program.name } : {}) },
      number: cert.number as number,
      holder: { name: String(cert.name ?? '') },
      status: String(effectiveStatus(cert, today)),
      ...(s ? { standing: s } : {}),
      ...opt('certification_date'),
      ...opt('expiration_date'),
      in_grace_period: v.in_grace_period,
      ...opt('grace_period_end_date'),
    };
  }
}
