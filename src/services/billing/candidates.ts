import type { RequestContext } from '../../core/context.js';
import {
  applicationExpired,
  certificationDroppable,
  EXPIRABLE_APPLICATION_STATUSES,
  pricingDay,
  REMINDABLE_APPLICATION_STATUSES,
  renewingCertificationIds,
} from '../../domain/billing/eligibility.js';
import { passesOptions } from '../../domain/billing/filters.js';
import { OPEN_STATUSES } from '../../domain/lifecycle/applications.js';
import type { Filter, StoredRecord } from '../../store/records.js';
import { linesQuote, renewalQuote } from './amounts.js';
import { billableLines, type BillableLine } from './billable.js';
import { newLookups, tenantCurrency } from './lookups.js';
import type { BillingRecords } from './records.js';
import { day, jobOn, jobOptions, type ActionType, type Candidate, type Rec } from './types.js';

/** An action type's code in action ids. */
const CODE: Record<ActionType, string> = {
  'activate application': 'activate',
  'expire application': 'expire',
  'send application reminder': 'appremind',
  'send renewal reminder': 'renewremind',
  'forecast renewal': 'forecast',
  'drop certification': 'drop',
  'bill training provider': 'bill',
};

/**
 * The candidates of every job the run has switched on, in a stable order. An action's id is derived
 * from (run, job, record, reminder), so that a refresh that runs again finds the actions it wrote.
 */
export async function candidates(records: BillingRecords, ctx: RequestContext, run: StoredRecord): Promise<Candidate[]> {
  const { deps } = records;
  const out: Candidate[] = [];
  const db = deps.store.db;
  const today = records.now().slice(0, 10);
  const make = (type: ActionType, service: string, rec: StoredRecord, extra: Partial<Candidate> = {}): Candidate => ({
    id: `${run.id}|${CODE[type]}|${rec.id}${extra.reminder_id !== undefined ? `|${extra.reminder_id}` : ''}`,
    type,
    candidate_service: service,
    candidate_id: rec.id,
    name: String(rec.name ?? rec.id),
    ...(rec.contact_id ? { contact_id: String(rec.contact_id) } : {}),
    ...extra,
  });
  const appFacts = (a: Rec) => ({
    program_id: a.program_id,
    training_provider_ids: [a.training_provider_id],
    status_reason_id: a.status_reason_id,
    application_type: a.type ?? 'certification',
  });
  const certFacts = (c: Rec) => ({
    program_id: c.program_id,
    training_provider_ids: [c.issuing_training_provider_id, c.renewal_training_provider_id],
    status_reason_id: c.status_reason_id,
  });
  const appExtra = (a: Rec): Partial<Candidate> => ({
    application_id: a.id,
    ...(day(a.expiration_date) ? { expiration_date: day(a.expiration_date) } : {}),
  });
  const certExtra = (c: Rec): Partial<Candidate> => ({
    certification_id: c.id,
    ...(day(c.expiration_date) ? { expiration_date: day(c.expiration_date) } : {}),
  });
  const byStatus = (values: string[]): Filter => ({ column: 'f_status', op: 'in', values });
  const expiring = (start?: string, end?: string): Filter[] => [
    ...(start ? [{ column: 'f_expiration_date', op: 'gte', value: start } as Filter] : []),
    ...(end ? [{ column: 'f_expiration_date', op: 'lte', value: end } as Filter] : []),
  ];
  const scan = (slug: string, filters: Filter[]) => records.scan(db, ctx.tenantId, slug, filters);
  // what a renewal costs on the run's day (a certification in grace then pays the late fee too); none when it cannot be priced
  const lookups = newLookups();
  const priceDay = pricingDay(run, today);
  const renewalAmount = async (c: Rec): Promise<Partial<Candidate>> => {
    const q = await renewalQuote(records, db, ctx, lookups, c, priceDay);
    return 'error' in q ? {} : q;
  };

  if (jobOn(run, 'activate_applications')) {
    const o = jobOptions(run, 'activate_applications');
    for await (const page of scan('applications', [byStatus(['approved'])])) {
      for (const a of page) {
        if (!passesOptions(appFacts(a), o)) continue;
        const evaluation = await deps.lifecycle.requirements(ctx, a.id);
        if (evaluation.met) out.push(make('activate application', 'applications', a, appExtra(a)));
      }
    }
  }
  if (jobOn(run, 'expire_applications')) {
    const o = jobOptions(run, 'expire_applications');
    for await (const page of scan('applications', [
      byStatus(EXPIRABLE_APPLICATION_STATUSES),
      ...expiring(o.expiration_date_range_start, o.expiration_date_range_end),
    ])) {
      for (const a of page)
        if (applicationExpired(a, today) && passesOptions(appFacts(a), o))
          out.push(make('expire application', 'applications', a, appExtra(a)));
    }
  }
  if (jobOn(run, 'send_application_reminders')) {
    const o = jobOptions(run, 'send_application_reminders');
    for (const [i, r] of ((o.reminders ?? []) as Rec[]).entries()) {
      const reminder_id = typeof r.id === 'number' ? r.id : i + 1;
      for await (const page of scan('applications', [
        byStatus(REMINDABLE_APPLICATION_STATUSES),
        ...expiring(r.expiration_date_range_start, r.expiration_date_range_end),
      ])) {
        for (const a of page)
          if (passesOptions(appFacts(a), o))
            out.push(make('send application reminder', 'applications', a, { ...appExtra(a), reminder_id }));
      }
    }
  }
  if (jobOn(run, 'send_renewal_reminders')) {
    const o = jobOptions(run, 'send_renewal_reminders');
    const renewing = new Set<string>();
    for await (const page of scan('applications', [byStatus(OPEN_STATUSES)])) {
      for (const id of renewingCertificationIds(page)) renewing.add(id);
    }
    for (const [i, r] of ((o.reminders ?? []) as Rec[]).entries()) {
      const reminder_id = typeof r.id === 'number' ? r.id : i + 1;
      for await (const page of scan('certifications', [
        byStatus(['active']),
        ...expiring(r.expiration_date_range_start, r.expiration_date_range_end),
      ])) {
        for (const c of page) {
          if (renewing.has(c.id) || !passesOptions(certFacts(c), o)) continue;
          out.push(make('send renewal reminder', 'certifications', c, { ...certExtra(c), reminder_id, ...(await renewalAmount(c)) }));
        }
      }
    }
  }
  if (jobOn(run, 'forecast_renewals')) {
    const o = jobOptions(run, 'forecast_renewals');
    for await (const page of scan('certifications', [
      byStatus(['active']),
      ...expiring(o.expiration_date_range_start, o.expiration_date_range_end),
    ])) {
      for (const c of page)
        if (passesOptions(certFacts(c), o))
          out.push(make('forecast renewal', 'certifications', c, { ...certExtra(c), ...(await renewalAmount(c)) }));
    }
  }
  if (jobOn(run, 'perform_drops')) {
    const o = jobOptions(run, 'perform_drops');
    for await (const page of scan('certifications', [
      byStatus(['active']),
      ...expiring(o.expiration_date_range_start, o.expiration_date_range_end),
    ])) {
      for (const c of page)
        if (certificationDroppable(c, today) && passesOptions(certFacts(c), o))
          out.push(make('drop certification', 'certifications', c, certExtra(c)));
    }
  }
  if (jobOn(run, 'bill_training_providers')) {
    const o = jobOptions(run, 'bill_training_providers');
    const lines = await billableLines(records, db, ctx, o);
    const providers = new Map<string, BillableLine[]>();
    for (const l of lines) {
      const own = providers.get(l.training_provider_id);
      if (own) own.push(l);
      else providers.set(l.training_provider_id, [l]);
    }
    const currency = await tenantCurrency(records, db, ctx, lookups);
    for (const [providerId, own] of [...providers].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
      const p = await deps.resource('trainingProviders').table.get(db, ctx.tenantId, providerId);
      if (p) out.push(make('bill training provider', 'trainingProviders', p, { training_provider_id: p.id, ...linesQuote(own, currency) }));
    }
  }
  return out;
}
