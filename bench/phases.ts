/**
 * The load phases of the benchmark (shared by run.ts and profile.ts): what each request is, against
 * which records, at how many connections. The inputs (ids, bodies, the deep-page key) are read from
 * the generated database before the server starts, deterministically.
 */
import { openStore } from '../src/store/store.js';
import { encodeKey } from '../src/resources/kit/paging.js';
import { asSystem, certificationFields, prng } from './generate.js';
import type { LoadSpec } from './lib.js';

export const PAGE_LIMIT = 100;
export const DEEP_PAGE = 5000;
/** A quarter of expirations: ~1/44 of a program's certifications, ~1.6 % of them active. */
export const SEARCH_WINDOW: [string, string] = ['2026-01-01', '2026-03-31'];
export const GET_FIELDS = 'name,status,expiration_date,program_id,certificate_name';

export interface BenchData {
  tenant: string;
  programIds: string[];
  readIds: string[];
  put: { id: string; template: string }[];
  patchIds: string[];
  createBodies: string[];
  batchBodies: string[];
  /** Page number and exclusiveStartKey of the deepest measured page (5,000, or the last full page). */
  deepPage: number;
  deepKey: string | undefined;
  certifications: number;
}

const MARK = '"@@certificate_name@@"';

/** Reads what the phases need from the tenant's generated data (before any phase writes). */
/** The placeholder of a create body's certificate number, and the next fresh number (above every seeded one). */
const NUMBER = '@@number@@';
let nextNumber = 50_000_000;
export const numbered = (body: string) => body.replaceAll(`"${NUMBER}"`, () => String(nextNumber++));

export function prepareData(
  databaseUrl: string,
  tenant: string,
  programIds: string[],
  statusReasonIds: string[],
  certifications: number,
): Promise<BenchData> {
  return asSystem(() => prepareIn(databaseUrl, tenant, programIds, statusReasonIds, certifications));
}

async function prepareIn(
  databaseUrl: string,
  tenant: string,
  programIds: string[],
  statusReasonIds: string[],
  certifications: number,
): Promise<BenchData> {
  const store = await openStore(databaseUrl);
  try {
    // A spread sample of existing certifications, by certificate number (1..N, indexed).
    const step = Math.max(1, Math.floor(certifications / 10_000));
    const numbers: number[] = [];
    for (let n = 1; n <= certifications && numbers.length < 10_000; n += step) numbers.push(n);
    const rows: { id: string; data: unknown }[] = [];
    for (let i = 0; i < numbers.length; i += 1000) {
      rows.push(
        ...((await store.db
          .selectFrom('certifications')
          .select(['id', 'data'])
          .where('tenant_id', '=', tenant)
          .where('f_number', 'in', numbers.slice(i, i + 1000))
          .execute()) as { id: string; data: unknown }[]),
      );
    }
    if (rows.length < 100) throw new Error(`tenant ${tenant} has too few certifications (${rows.length} sampled)`);
    rows.sort((a, b) => (a.id < b.id ? -1 : 1));
    const rnd = prng(7);
    // Fisher-Yates with the seeded generator: a fixed, spread-out order of ids.
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [rows[i], rows[j]] = [rows[j]!, rows[i]!];
    }
    const third = Math.floor(rows.length / 3);
    const readIds = rows.slice(0, third).map((r) => r.id);
    const put = rows.slice(third, 2 * third).map((r) => {
      const rec = (typeof r.data === 'string' ? JSON.parse(r.data) : r.data) as Record<string, unknown>;
      const fields: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(rec)) if (k !== 'id' && !k.startsWith('sys_')) fields[k] = v;
      fields.certificate_name = '@@certificate_name@@';
      return { id: r.id, template: JSON.stringify(fields) };
    });
    const patchIds = rows.slice(2 * third).map((r) => r.id);

    const reasonsByStatus = new Map<string, string[]>();
    const reasons = await store.db
      .selectFrom('status_reasons')
      .select(['id', 'f_status'])
      .where('tenant_id', '=', tenant)
      .where('id', 'in', statusReasonIds)
      .execute();
    for (const r of reasons)
      reasonsByStatus.set(r.f_status as string, [...(reasonsByStatus.get(r.f_status as string) ?? []), r.id as string]);
    // certificate numbers are unique per programme: each request gets fresh ones (NUMBER is replaced)
    const body = (n: number) => ({ ...certificationFields(rnd, 10_000_000 + n, programIds, reasonsByStatus), number: NUMBER });
    const createBodies = Array.from({ length: 1000 }, (_, n) => JSON.stringify(body(n)));
    const batchBodies = Array.from({ length: 10 }, (_, b) =>
      JSON.stringify({ operations: Array.from({ length: 100 }, (_, k) => ({ operation: 'create', object: body(100_000 + b * 100 + k) })) }),
    );

    const deepPage = Math.min(DEEP_PAGE, Math.floor(certifications / PAGE_LIMIT));
    let deepKey: string | undefined;
    if (deepPage > 1) {
      const row = await store.db
        .selectFrom('certifications')
        .select('id')
        .where('tenant_id', '=', tenant)
        .orderBy('id')
        .limit(1)
        .offset((deepPage - 1) * PAGE_LIMIT - 1)
        .executeTakeFirst();
      deepKey = row ? encodeKey(row.id as string) : undefined;
    }
    return { tenant, programIds, readIds, put, patchIds, createBodies, batchBodies, deepPage, deepKey, certifications };
  } finally {
    await store.close();
  }
}

export interface PhaseOptions {
  base: string;
  token: string;
  duration: number;
  warmup: number;
  /** Connections of the throughput phases (64). */
  connections: number;
  /** Connections of the latency phases (search / lookup p95, paging). */
  latencyConnections: number;
}

export type PhaseName =
  | 'get'
  | 'list'
  | 'search'
  | 'lookup'
  | 'searchLatency'
  | 'lookupLatency'
  | 'page1'
  | 'pageDeep'
  | 'put'
  | 'patch'
  | 'create'
  | 'batch';

/** The phases in the order run.ts runs them: reads on the pristine data first, then writes. */
export const PHASE_ORDER: PhaseName[] = [
  'get',
  'list',
  'search',
  'lookup',
  'searchLatency',
  'lookupLatency',
  'page1',
  'pageDeep',
  'put',
  'patch',
  'create',
  'batch',
];

export function phases(d: BenchData, o: PhaseOptions): Record<PhaseName, LoadSpec> {
  const t = encodeURIComponent(d.tenant);
  const auth = { authorization: `Bearer ${o.token}` };
  const json = { ...auth, 'content-type': 'application/json' };
  const common = { url: o.base, duration: o.duration, warmupSeconds: o.warmup };
  const searchBody = (i: number) =>
    JSON.stringify({ program_id: [d.programIds[i % d.programIds.length]], status: ['active'], expiration_date: SEARCH_WINDOW });
  const search = (i: number) => ({ path: `/certifications/${t}/search`, body: searchBody(i) });
  const lookup = (i: number) => ({ path: `/certifications/${t}/program/${d.programIds[i % d.programIds.length]}` });
  return {
    get: {
      ...common,
      title: 'GET by id',
      connections: o.connections,
      headers: auth,
      next: (i) => ({ path: `/certifications/${t}/${d.readIds[i % d.readIds.length]}?fields=${GET_FIELDS}` }),
    },
    list: {
      ...common,
      title: 'list page',
      connections: o.connections,
      headers: auth,
      next: () => ({ path: `/certifications/${t}?limit=${PAGE_LIMIT}` }),
    },
    search: { ...common, title: 'search', connections: o.connections, method: 'POST', headers: json, next: search },
    lookup: { ...common, title: 'lookup', connections: o.connections, headers: auth, next: lookup },
    searchLatency: { ...common, title: 'search latency', connections: o.latencyConnections, method: 'POST', headers: json, next: search },
    lookupLatency: { ...common, title: 'lookup latency', connections: o.latencyConnections, headers: auth, next: lookup },
    page1: {
      ...common,
      title: 'page 1',
      connections: o.latencyConnections,
      headers: auth,
      next: () => ({ path: `/certifications/${t}?limit=${PAGE_LIMIT}` }),
    },
    pageDeep: {
      ...common,
      title: `page ${d.deepPage}`,
      connections: o.latencyConnections,
      headers: auth,
      next: () => ({ path: `/certifications/${t}?limit=${PAGE_LIMIT}${d.deepKey ? `&exclusiveStartKey=${d.deepKey}` : ''}` }),
    },
    put: {
      ...common,
      title: 'PUT',
      connections: o.connections,
      method: 'PUT',
      headers: json,
      next: (i) => {
        const p = d.put[i % d.put.length]!;
        return { path: `/certifications/${t}/${p.id}`, body: p.template.replace(MARK, JSON.stringify(`put ${i}`)) };
      },
    },
    patch: {
      ...common,
      title: 'PATCH',
      connections: o.connections,
      method: 'PATCH',
      headers: json,
      next: (i) => ({
        path: `/certifications/${t}/${d.patchIds[i % d.patchIds.length]}`,
        body: JSON.stringify([{ op: 'replace', path: '/certificate_name', value: `patch ${i}` }]),
      }),
    },
    create: {
      ...common,
      title: 'create',
      connections: o.connections,
      method: 'POST',
      headers: json,
      next: (i) => ({ path: `/certifications/${t}`, body: numbered(d.createBodies[i % d.createBodies.length]!) }),
    },
    batch: {
      ...common,
      title: 'batch (100 creates)',
      connections: Math.min(8, o.connections),
      method: 'POST',
      headers: json,
      next: (i) => ({ path: `/certifications/${t}/batch`, body: numbered(d.batchBodies[i % d.batchBodies.length]!) }),
    },
  };
}
