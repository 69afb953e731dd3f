import type { RequestContext } from '../core/context.js';
import type { AppServices } from '../resources/kit/context.js';
import { APPLICATION_STATUSES, CERTIFICATION_STATUSES } from '../resources/blocks.js';
import { BILLING_RUN_STATUSES } from '../domain/billing/runs.js';
import { AUDIT_STATUSES } from '../domain/lifecycle/audits.js';
import { countBy, programQueries, programRows, sumBy, type ExpiringWindow, type StatisticsTables } from '../store/statistics.js';
import { formatMoneyIfValid } from '../domain/money/money.js';
import { STANDINGS } from '../domain/lifecycle/standing.js';
import { type STATISTICS_IDS, countKey } from '../domain/statistics.js';

/**
 * The statistics the server computes (GET /statistics/{tenantId}/programs and …/billing), served as
 * built-in records of the statistics resource. Every figure is a GROUP BY count over the extracted
 * (indexed) columns, never a read of the records themselves:
 * - certifications: one pass over the (tenant_id, program_id, status, expiration_date) index, and a
 *   range of the (tenant_id, status, expiration_date, program_id) index for those expiring soon;
 * - applications: one pass over the (tenant_id, program_id, status) index;
 * - billing runs and their actions: the (tenant_id, status) and (tenant_id, type) indexes.
 * The cost grows with the tenant's rows but stays an index-only scan (bench/statistics.ts measures it:
 * ~35 ms at 100,000 certifications, ~0.5 s at 1,000,000 on SQLite). Concurrent reads of a tenant's
 * figures share one computation, and slow ones are reused for a short while (Statistics.shared), so
 * that dashboards cannot keep the database busy with them. `as_of` says when they were computed.
 */
export const EXPIRING_WINDOWS = [30, 60, 90] as const;
/** Figures over REUSE_FROM_ROWS records or more are reused for REUSE_FACTOR times their computing time (at most REUSE_MAX_MS); see Statistics.shared. */
export const REUSE_FROM_ROWS = 100_000;
export const REUSE_FACTOR = 20;
export const REUSE_MAX_MS = 60_000;

type Counts = Record<string, number>;
const zeros = (values: readonly string[]): Counts => Object.fromEntries([['total', 0], ...values.map((v) => [countKey(v), 0])]);

const addDays = (day: string, n: number) => {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
};

export interface ProgramFigures {
  certifications: Counts;
  /** Certifications by standing today (domain/lifecycle/standing.ts); total = those with a standing (not suspended or retired). */
  standing: Counts;
  expiring: Counts;
  applications: Counts;
  /** CE audit draws by status (not selected, requested, submitted, passed, failed). */
  audits: Counts;
}

const emptyFigures = (): ProgramFigures => ({
  certifications: zeros(CERTIFICATION_STATUSES),
  standing: zeros(STANDINGS),
  expiring: Object.fromEntries(EXPIRING_WINDOWS.map((d) => [`next_${d}_days`, 0])),
  applications: zeros(APPLICATION_STATUSES),
  audits: zeros(AUDIT_STATUSES),
});

const total = (block: unknown) => Number((block as { total?: number } | undefined)?.total ?? 0);

function addTo(target: Counts, key: string, n: number) {
  target.total = (target.total ?? 0) + n;
  if (Object.hasOwn(target, key)) target[key]! += n;
}

export class Statistics {
  constructor(private readonly s: AppServices) {}

  private table(slug: string) {
    return this.s.resource(slug).table.spec.name;
  }

  private tables(): StatisticsTables {
    const t = (slug: string) => this.table(slug);
    return {
      certifications: t('certifications'),
      applications: t('applications'),
      programs: t('programs'),
      billingRuns: t('billingRuns'),
      billingRunActions: t('billingRunActions'),
    };
  }

  private static windows(today: string): ExpiringWindow[] {
    return EXPIRING_WINDOWS.map((days) => ({ as: `e${days}`, until: addDays(today, days) }));
  }

  /**
   * The queries behind `programs` (exposed for bench/statistics.ts, which shows their plans):
   * certifications per programme, status and standing today, over the (program_id, status,
   * expiration_date, grace_period_end_date, reinstatement_end_date) index;
   * active certifications expiring from today to today + 90 days per programme, a range of the
   * (status, expiration_date, program_id) index; applications per programme and status.
   */
  queries(tenantId: string, today: string) {
    return programQueries(this.s.store.db, this.tables(), tenantId, today, Statistics.windows(today));
  }

  /**
   * Concurrent reads of the same figures of a tenant (a dashboard opened by many people at once) share
   * one computation. Figures counting REUSE_FROM_ROWS records or more (a tenant with hundreds of
   * thousands of records, where a computation takes tens to hundreds of milliseconds) are then reused
   * for REUSE_FACTOR times as long as they took, at most REUSE_MAX_MS: however often dashboards poll,
   * computing them keeps the database busy at most about 1 / (REUSE_FACTOR + 1) of the time (on
   * SQLite one statement holds the only connection). Smaller tenants' figures are computed on every
   * read. `as_of` always says when they were computed.
   */
  private readonly inflight = new Map<string, Promise<Record<string, unknown>>>();
  private readonly recent = new Map<string, { until: number; value: Record<string, unknown> }>();
  private shared(
    key: string,
    compute: () => Promise<Record<string, unknown>>,
    rows: (value: Record<string, unknown>) => number,
  ): Promise<Record<string, unknown>> {
    const hit = this.recent.get(key);
    if (hit && Date.now() < hit.until) return Promise.resolve(hit.value);
    let p = this.inflight.get(key);
    if (!p) {
      const started = Date.now();
      p = compute()
        .then((value) => {
          const took = Date.now() - started;
          if (rows(value) >= REUSE_FROM_ROWS) {
            if (this.recent.size >= 10_000) this.recent.delete(this.recent.keys().next().value!);
            this.recent.delete(key);
            this.recent.set(key, { until: Date.now() + Math.min(REUSE_MAX_MS, took * REUSE_FACTOR), value });
          } else {
            this.recent.delete(key);
          }
          return value;
        })
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  programs(ctx: RequestContext): Promise<Record<string, unknown>> {
    return this.shared(
      `${ctx.tenantId}\u0000programs`,
      () => this.computePrograms(ctx),
      (v) => total(v.certifications) + total(v.applications),
    );
  }

  billing(ctx: RequestContext): Promise<Record<string, unknown>> {
    return this.shared(
      `${ctx.tenantId}\u0000billing`,
      () => this.computeBilling(ctx),
      (v) => total(v.billing_runs) + total(v.billing_run_actions),
    );
  }

  /** The figures computed afresh, never shared or reused (bench/statistics.ts measures this). */
  compute(ctx: RequestContext, id: (typeof STATISTICS_IDS)[number]): Promise<Record<string, unknown>> {
    return id === 'programs' ? this.computePrograms(ctx) : this.computeBilling(ctx);
  }

  /** Certifications, expiring certifications and applications, per programme and for the tenant. */
  private async computePrograms(ctx: RequestContext): Promise<Record<string, unknown>> {
    const now = this.s.clock.now();
    const today = now.toISOString().slice(0, 10);
    const rows = await programRows(this.s.store.db, this.tables(), ctx.tenantId, today, Statistics.windows(today));

    const byProgram = new Map<string, ProgramFigures>();
    const names = new Map<string, string | undefined>();
    for (const p of rows.programs) {
      names.set(p.id, p.name);
      byProgram.set(p.id, emptyFigures());
    }
    const totals = emptyFigures();
    const figuresOf = (programId: unknown) => {
      const id = String(programId ?? '');
      let f = byProgram.get(id);
      if (!f) byProgram.set(id, (f = emptyFigures()));
      return f;
    };
    for (const r of rows.certifications) {
      for (const f of [figuresOf(r.program_id), totals]) {
        addTo(f.certifications, countKey(String(r.status ?? '')), Number(r.n));
        if (r.standing) addTo(f.standing, String(r.standing), Number(r.n));
      }
    }
    for (const r of rows.expiring) {
      for (const f of [figuresOf(r.program_id), totals]) {
        for (const d of EXPIRING_WINDOWS) f.expiring[`next_${d}_days`]! += Number(r[`e${d}`] ?? 0);
      }
    }
    for (const r of rows.applications) {
      const n = Number(r.n);
      // an application without a status is a draft (see the applications resource)
      const status = r.status === null || r.status === undefined ? 'draft' : String(r.status);
      for (const f of [figuresOf(r.program_id), totals]) addTo(f.applications, countKey(status), n);
    }
    for (const r of rows.audits) {
      for (const f of [figuresOf(r.program_id), totals]) addTo(f.audits, countKey(String(r.status)), Number(r.n));
    }

    const programs = [...byProgram.entries()]
      .map(([program_id, f]) => ({ program_id, ...(names.get(program_id) !== undefined ? { name: names.get(program_id) } : {}), ...f }))
      .sort((a, b) => String(a.name ?? '\uffff').localeCompare(String(b.name ?? '\uffff')) || a.program_id.localeCompare(b.program_id));
    return { id: 'programs', name: 'All programs', as_of: now.toISOString(), ...totals, programs };
  }

  /** Billing runs by status; their actions by status and by type. */
  private async computeBilling(ctx: RequestContext): Promise<Record<string, unknown>> {
    const db = this.s.store.db;
    const now = this.s.clock.now();
    const groupCount = (table: string, field: string, only?: { field: string; value: string }) =>
      countBy(db, table, ctx.tenantId, field, only);
    const actionsDef = this.s.resource('billingRunActions').resource.def.fields;
    const enumOf = (field: string) => ((actionsDef[field] as { enum?: string[] }).enum ?? []) as string[];
    const [runs, actionStatus, actionType, pendingType, pendingSums] = await Promise.all([
      groupCount(this.table('billingRuns'), 'status'),
      groupCount(this.table('billingRunActions'), 'status'),
      groupCount(this.table('billingRunActions'), 'type'),
      // what executing the runs would do: their pending actions by type
      groupCount(this.table('billingRunActions'), 'type', { field: 'status', value: 'pending' }),
      // and what it would charge or forecast: their amounts (minor units) by type and currency
      sumBy(db, this.table('billingRunActions'), ctx.tenantId, ['type', 'currency_code'], 'amount', { field: 'status', value: 'pending' }),
    ]);
    const fold = (rows: { value: unknown; n: unknown }[], values: readonly string[]) => {
      const out = zeros(values);
      for (const r of rows) addTo(out, countKey(String(r.value ?? '')), Number(r.n));
      return out;
    };
    const byStatus = fold(actionStatus, enumOf('status'));
    const byType = fold(actionType, enumOf('type'));
    const { total: runTotal, ...runStatus } = fold(runs, BILLING_RUN_STATUSES);
    const { total: actionTotal, ...actionsByStatus } = byStatus;
    const { total: _t, ...actionsByType } = byType;
    const { total: _p, ...pendingByType } = fold(pendingType, enumOf('type'));
    const pendingAmounts = pendingSums
      .filter((r) => typeof r.b === 'string')
      .map((r) => {
        const total = Number(r.sum);
        // formatted when it can be (actions a client wrote may name no currency Intl knows)
        const formatted = formatMoneyIfValid(total, String(r.b));
        return { type: String(r.a), currency: String(r.b), total, count: Number(r.n), ...(formatted !== undefined ? { formatted } : {}) };
      })
      .sort((x, y) => (x.type < y.type ? -1 : x.type > y.type ? 1 : x.currency < y.currency ? -1 : x.currency > y.currency ? 1 : 0));
    return {
      id: 'billing',
      name: 'Billing',
      as_of: now.toISOString(),
      billing_runs: { total: runTotal, by_status: runStatus },
      billing_run_actions: {
        total: actionTotal,
        by_status: actionsByStatus,
        by_type: actionsByType,
        pending_by_type: pendingByType,
        pending_amounts: pendingAmounts,
      },
    };
  }

  /** A built-in record of the statistics resource by id (resources/statistics.ts); undefined for others. */
  async get(ctx: RequestContext, id: string): Promise<Record<string, unknown> | undefined> {
    if (id === 'programs') return this.programs(ctx);
    if (id === 'billing') return this.billing(ctx);
    return undefined;
  }

  /** Every built-in record, first on the list's first page. */
  async list(ctx: RequestContext): Promise<Record<string, unknown>[]> {
    return [await this.programs(ctx), await this.billing(ctx)];
  }
}
