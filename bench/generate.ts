/**
 * Deterministic data generator for the benchmarks: programs, status reasons and N certifications of
 * one tenant, written straight into the store through the project's own code (openStore, migrate,
 * tableSpecs, RecordTable.insert for the small resources; batched multi-row INSERTs through Kysely for
 * certifications, with the extracted f_* columns computed by the store's own encodeColumn and the
 * reference index rows computed by the resource's own collectRefs). Every certification is checked
 * against the resource definition (resource.validate) before it is written, so the data is exactly
 * what the server would have stored for the same bodies.
 *
 * CLI: node --import tsx bench/generate.ts --tenant t --certifications 100000 --database-url sqlite:/tmp/x.db
 *      [--programs 20] [--seed 42]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { sql } from 'kysely';
import { openStore, type Db, type Store } from '../src/store/store.js';
import { migrate, syncTable } from '../src/store/migrate.js';
import * as tenantScope from '../src/store/tenant-scope.js';
import { RESOURCES, tableSpecs } from '../src/resources/index.js';
import { RecordTable, encodeColumn, type StoredRecord, type TableSpec } from '../src/store/records.js';
import { refsIndex } from '../src/store/refs.js';
import type { Resource } from '../src/resources/kit/define.js';

/** mulberry32: small, fast, good enough for test data; same seed -> same data. */
export function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
type Rng = ReturnType<typeof prng>;

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
/** A UUIDv7 for a given millisecond with seeded random bits: ordered like the server's ids, reproducible. */
export function uuidv7At(ms: number, rnd: Rng): string {
  const t = hex(ms, 12);
  const r16 = () => hex(Math.floor(rnd() * 0x10000), 4);
  const randA = hex(Math.floor(rnd() * 0x1000), 3);
  const variant = hex(0x8 | Math.floor(rnd() * 4), 1) + hex(Math.floor(rnd() * 0x1000), 3);
  return `${t.slice(0, 8)}-${t.slice(8)}-7${randA}-${variant}-${r16()}${r16()}${r16()}`;
}

const pick = <T>(rnd: Rng, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const DAY = 86_400_000;
const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

const FIRST = [
  'Ada',
  'Ben',
  'Chloe',
  'David',
  'Emma',
  'Farid',
  'Grace',
  'Hugo',
  'Ines',
  'Jamal',
  'Keiko',
  'Liam',
  'Maya',
  'Noah',
  'Olga',
  'Pablo',
  'Quinn',
  'Rosa',
  'Sami',
  'Tara',
  'Uma',
  'Victor',
  'Wen',
  'Yusuf',
  'Zoe',
];
const LAST = [
  'Smith',
  'Garcia',
  'Nguyen',
  'Okafor',
  'Müller',
  'Rossi',
  'Kowalski',
  'Tanaka',
  'Dubois',
  'Silva',
  'Johansson',
  'Haddad',
  'Kim',
  'Patel',
  'Novak',
  'Brown',
  'Lopez',
  'Ivanova',
  'Mensah',
  'Cohen',
];
const PLACES: [string, string, string][] = [
  ['Boston', 'MA', 'US'],
  ['Austin', 'TX', 'US'],
  ['Denver', 'CO', 'US'],
  ['Seattle', 'WA', 'US'],
  ['Toronto', 'ON', 'CA'],
  ['Chicago', 'IL', 'US'],
  ['Miami', 'FL', 'US'],
  ['Portland', 'OR', 'US'],
  ['Vancouver', 'BC', 'CA'],
  ['Phoenix', 'AZ', 'US'],
];
const JOBS = ['Registered Nurse', 'Nurse Practitioner', 'Clinical Educator', 'Charge Nurse', 'Case Manager', undefined];
const PROGRAMS = [
  'Registered Nurse',
  'Critical Care',
  'Pediatric',
  'Oncology',
  'Emergency',
  'Gerontology',
  'Neonatal',
  'Perioperative',
  'Cardiac',
  'Informatics',
];
/** Status mix: mostly active, as in a live registry. */
const STATUS_WEIGHTS: [string, number][] = [
  ['active', 0.7],
  ['inactive', 0.15],
  ['suspended', 0.05],
  ['retired', 0.1],
];

/** Expiration dates are spread uniformly over these years (so a one-quarter window holds ~1/44 of them). */
export const EXPIRATION_FROM = Date.UTC(2020, 0, 1);
export const EXPIRATION_TO = Date.UTC(2030, 11, 31);
/** Ids of generated records are UUIDv7 at these instants (one ms apart), long before anything the server creates. */
const ID_EPOCH = Date.UTC(2024, 0, 1);

export interface GenerateOptions {
  databaseUrl: string;
  tenant: string;
  certifications: number;
  programs?: number;
  seed?: number;
  /** Rows per INSERT statement and statements per transaction. */
  rowsPerInsert?: number;
  insertsPerTransaction?: number;
  log?: (line: string) => void;
}

export interface Generated {
  tenant: string;
  programIds: string[];
  statusReasonIds: string[];
  certifications: number;
  seconds: number;
}

const resource = (slug: string): Resource => {
  const r = RESOURCES.find((x) => x.def.slug === slug);
  if (!r) throw new Error(`no resource ${slug}`);
  return r;
};

function valueAt(record: Record<string, unknown>, p: string[]): unknown {
  let v: unknown = record;
  for (const k of p) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/** The row RecordTable.insert writes for a record (same columns, same encodings). */
export function rowOf(spec: TableSpec, dialect: Store['dialect'], tenantId: string, record: StoredRecord): Record<string, unknown> {
  const row: Record<string, unknown> = {
    tenant_id: tenantId,
    id: record.id,
    sys_version: record.sys_version,
    data: JSON.stringify(record),
  };
  for (const c of spec.columns) row[c.name] = encodeColumn(valueAt(record, c.path), c.type, dialect);
  return row;
}

/** The server-managed fields of a record created at `ms` by the generator (same keys and order as ResourceService.create). */
function sysFields(ms: number, n: number) {
  const at = new Date(ms).toISOString();
  return {
    sys_created_at: at,
    sys_created_by_id: 'bench-generator',
    sys_last_modified_at: at,
    sys_last_modified_by_id: 'bench-generator',
    sys_last_security_context: { user_id: 'bench-generator', client_ip: '127.0.0.1', request_id: `gen-${n}`, via: 'create' },
    sys_version: 1,
    sys_locked: false,
  };
}

function check(r: Resource, fields: Record<string, unknown>, what: string) {
  const errors = r.validate(fields);
  if (errors.length) throw new Error(`generated ${what} is invalid: ${JSON.stringify(errors)}`);
}

/** The client-owned fields of certification number n (a valid create body). */
export function certificationFields(
  rnd: Rng,
  n: number,
  programIds: string[],
  reasonsByStatus: Map<string, string[]>,
): Record<string, unknown> {
  const first = pick(rnd, FIRST);
  const last = pick(rnd, LAST);
  const [city, state, country] = pick(rnd, PLACES);
  const byOrg = rnd() < 0.1;
  let u = rnd();
  let status = 'active';
  for (const [s, w] of STATUS_WEIGHTS) {
    if (u < w) {
      status = s;
      break;
    }
    u -= w;
  }
  const expiration = EXPIRATION_FROM + Math.floor(rnd() * ((EXPIRATION_TO - EXPIRATION_FROM) / DAY + 1)) * DAY;
  const certified = expiration - (2 + Math.floor(rnd() * 3)) * 365 * DAY;
  const contact = `contact-${Math.floor(rnd() * 1e9).toString(36)}`;
  const org = `org-${Math.floor(rnd() * 1e6).toString(36)}`;
  const job = pick(rnd, JOBS);
  const f: Record<string, unknown> = {
    number: n + 1,
    owner_type: byOrg ? 'organization' : 'contact',
    contact_id: contact,
    ...(byOrg ? { organization_id: org } : {}),
    customer_id: byOrg ? org : contact,
    program_id: pick(rnd, programIds),
    status,
    status_reason_id: pick(rnd, reasonsByStatus.get(status)!),
    certification_date: isoDate(certified),
    expiration_date: isoDate(expiration),
    ...(rnd() < 0.5 ? { renewal_date: isoDate(certified + 365 * DAY) } : {}),
    certificate_name: `${first} ${last}, ${n + 1}`,
    grandfathered: rnd() < 0.05,
    name: `${first} ${last}`,
    first_name: first,
    last_name: last,
    email_address: `${first}.${last}.${n}@example.org`.toLowerCase(),
    ...(job ? { job_title: job } : {}),
    city,
    state,
    country,
  };
  return f;
}

/** Writes the tenant's data. The database is migrated first; an existing tenant is not cleared. */
export function generate(opts: GenerateOptions): Promise<Generated> {
  return asSystem(() => generateIn(opts));
}

async function generateIn(opts: GenerateOptions): Promise<Generated> {
  const log = opts.log ?? (() => {});
  const t0 = performance.now();
  const rnd = prng(opts.seed ?? 42);
  const store = await openStore(opts.databaseUrl);
  try {
    await migrate(store, tableSpecs());
    const dialect = store.dialect;
    // A bigger page cache for this loading connection only (the server's settings are not touched):
    // nine indexes per certification are updated in key order that is random for most of them.
    if (dialect === 'sqlite') await sql`pragma cache_size = -524288`.execute(store.db);
    let clock = ID_EPOCH;
    let seq = 0;
    const nextRecord = (fields: Record<string, unknown>): StoredRecord => {
      const ms = clock++;
      return { id: uuidv7At(ms, rnd), ...fields, ...sysFields(ms, seq++) } as StoredRecord;
    };

    // Small resources: one RecordTable.insert each, exactly as the service does (no references).
    const programsR = resource('programs');
    const reasonsR = resource('statusReasons');
    const certR = resource('certifications');
    const programIds: string[] = [];
    const reasonsByStatus = new Map<string, string[]>();
    const statusReasonIds: string[] = [];
    await store.transaction(async (trx) => {
      const programs = new RecordTable(programsR.table, dialect);
      for (let i = 0; i < (opts.programs ?? 20); i++) {
        const fields = {
          name: `${PROGRAMS[i % PROGRAMS.length]} Certification${i >= PROGRAMS.length ? ` ${Math.floor(i / PROGRAMS.length) + 1}` : ''}`,
          abbreviation: `P${i + 1}`,
          certificate_mode: 'create manually',
          customer_type: 'both',
          display_in_portal: true,
          display_order: i + 1,
          is_active: true,
          next_certification_number: 1,
        };
        check(programsR, fields, 'program');
        const rec = nextRecord(fields);
        await programs.insert(trx, opts.tenant, rec);
        programIds.push(rec.id);
      }
      const reasons = new RecordTable(reasonsR.table, dialect);
      for (const [status] of STATUS_WEIGHTS) {
        for (const why of ['standard', 'administrative']) {
          const fields = { name: `${status} (${why})`, status, is_active: true, display_order: statusReasonIds.length + 1 };
          check(reasonsR, fields, 'status reason');
          const rec = nextRecord(fields);
          await reasons.insert(trx, opts.tenant, rec);
          statusReasonIds.push(rec.id);
          reasonsByStatus.set(status, [...(reasonsByStatus.get(status) ?? []), rec.id]);
        }
      }
    });

    // Certifications: multi-row INSERTs of the rows RecordTable.insert would write, plus their refs rows.
    const rowsPerInsert = opts.rowsPerInsert ?? 500;
    const perTx = opts.insertsPerTransaction ?? 20;
    const spec = certR.table;
    // Bulk load: drop the certification table's f_* indexes and let migrate() (syncTable) create them
    // again afterwards: a sorted build instead of random inserts into eight B-trees. Same indexes.
    const before = await indexNames(store, spec.name);
    for (const c of spec.columns)
      for (const suffix of ['idx', 'set']) await store.db.schema.dropIndex(`${spec.name}_${c.name}_${suffix}`).ifExists().execute();
    let written = 0;
    let lastLog = performance.now();
    while (written < opts.certifications) {
      await store.transaction(async (trx: Db) => {
        for (let s = 0; s < perTx && written < opts.certifications; s++) {
          const rows: Record<string, unknown>[] = [];
          const refRows: Record<string, unknown>[] = [];
          const n = Math.min(rowsPerInsert, opts.certifications - written);
          for (let k = 0; k < n; k++) {
            const fields = certificationFields(rnd, written + k, programIds, reasonsByStatus);
            check(certR, fields, 'certification');
            const rec = nextRecord(fields);
            rows.push(rowOf(spec, dialect, opts.tenant, rec));
            // As refsIndex.replace does for a new record: one row per distinct (target, id, field).
            for (const r of certR.collectRefs(fields)) {
              refRows.push({
                tenant_id: opts.tenant,
                target: r.target,
                target_id: r.id,
                source: certR.def.slug,
                source_id: rec.id,
                field: r.field,
              });
            }
          }
          await trx.insertInto(spec.name).values(rows).execute();
          if (refRows.length) await trx.insertInto('refs').values(refRows).execute();
          written += n;
        }
      });
      if (performance.now() - lastLog > 5000) {
        lastLog = performance.now();
        log(`  generated ${written.toLocaleString('en-US')} / ${opts.certifications.toLocaleString('en-US')} certifications`);
      }
    }
    log('  building the search indexes');
    // syncTable, not migrate(): migrate may skip the resource tables when their specs are unchanged.
    await syncTable(store.db, dialect, spec);
    const after = await indexNames(store, spec.name);
    if (after.join() !== before.join())
      throw new Error(`indexes of ${spec.name} differ after the load: ${before.join()} -> ${after.join()}`);
    // Planner statistics: PostgreSQL's autovacuum would gather them on any live database; SQLite's
    // are left as the server leaves them (it never runs ANALYZE), see bench/README.md.
    if (dialect === 'postgres') await sql`analyze`.execute(store.db);
    return { tenant: opts.tenant, programIds, statusReasonIds, certifications: written, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await store.close();
  }
}

async function indexNames(store: Store, table: string): Promise<string[]> {
  const q =
    store.dialect === 'sqlite'
      ? sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = ${table} order by name`
      : sql<{
          name: string;
        }>`select indexname as name from pg_indexes where schemaname = current_schema() and tablename = ${table} order by indexname`;
  return (await q.execute(store.db)).rows.map((r) => r.name);
}

/** Reads back what an earlier generate() wrote (for BENCH_REUSE). */
export function describeTenant(databaseUrl: string, tenant: string) {
  return asSystem(() => describeIn(databaseUrl, tenant));
}

async function describeIn(databaseUrl: string, tenant: string) {
  const store = await openStore(databaseUrl);
  try {
    const count = async (table: string) =>
      Number(
        (
          await store.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .where('tenant_id', '=', tenant)
            .executeTakeFirst()
        )?.n ?? 0,
      );
    const ids = async (table: string) =>
      (await store.db.selectFrom(table).select('id').where('tenant_id', '=', tenant).orderBy('id').execute()).map((r) => r.id as string);
    return {
      certifications: await count('certifications'),
      programIds: await ids('programs'),
      statusReasonIds: await ids('status_reasons'),
    };
  } catch {
    return undefined;
  } finally {
    await store.close();
  }
}

/**
 * Runs fn in the store's system scope when the store has one (PostgreSQL row-level security reads the
 * tenant of the connection from it); the generator and the bench's reads span tenants' tables.
 */
export function asSystem<T>(fn: () => Promise<T>): Promise<T> {
  const s = (tenantScope as { asSystem?: <U>(f: () => U) => U }).asSystem;
  return s ? s(fn) : fn();
}

// Kept referenced so that a change of the reference index's API shows up here at type-check time.
void refsIndex;

async function cli() {
  const { values } = parseArgs({
    options: {
      tenant: { type: 'string', default: 'bench' },
      certifications: { type: 'string', default: '100000' },
      programs: { type: 'string', default: '20' },
      seed: { type: 'string', default: '42' },
      'database-url': { type: 'string' },
    },
  });
  const databaseUrl = values['database-url'] ?? process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('--database-url sqlite:<file> | postgres://… is required');
  const g = await generate({
    databaseUrl,
    tenant: values.tenant!,
    certifications: Number(values.certifications),
    programs: Number(values.programs),
    seed: Number(values.seed),
    log: (l) => process.stderr.write(`${l}\n`),
  });
  process.stdout.write(
    `${g.certifications.toLocaleString('en-US')} certifications, ${g.programIds.length} programs, ${g.statusReasonIds.length} status reasons for tenant ${g.tenant} in ${g.seconds.toFixed(1)} s\n`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  cli().catch((e) => {
    process.stderr.write(`generate: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
