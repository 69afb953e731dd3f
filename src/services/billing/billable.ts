import type { RequestContext } from '../../core/context.js';
import { inWindow, passesOptions } from '../../domain/billing/filters.js';
import { billedItems } from '../../store/billing.js';
import type { Filter, StoredRecord } from '../../store/records.js';
import type { Db } from '../../store/store.js';
import type { BillingRecords } from './records.js';
import type { Rec } from './types.js';

/** One registration to bill, at its fee. */
export interface BillableLine {
  training_provider_id: string;
  registration_service: 'courseRegistrations' | 'examRegistrations';
  registration_id: string;
  program_id: string;
  student_id?: string;
  description: string;
  fee_type: 'course_fee' | 'live_exam_fee' | 'retest_fee';
  amount: number;
}

/** The key a line is recorded under once billed (billed_items). */
export const billedKey = (l: BillableLine) => `${l.registration_service}/${l.registration_id}`;

/**
 * The registrations to bill under a billing block: a provider's course and exam registrations (not
 * cancelled, not billed yet) dated inside the window, each at its trainingProvPrograms fee for the
 * first programme of the offering (course) or exam that the provider is linked to and the block allows.
 */
export async function billableLines(
  records: BillingRecords,
  db: Db,
  ctx: RequestContext,
  o: Rec,
  onlyProvider?: string,
): Promise<BillableLine[]> {
  const links = new Map<string, Rec>(); // provider|program -> trainingProvPrograms
  for (const l of await records.all(
    db,
    ctx.tenantId,
    'trainingProvPrograms',
    onlyProvider ? [{ column: 'f_training_provider_id', op: 'in', values: [onlyProvider] }] : [],
  )) {
    links.set(`${l.training_provider_id}|${l.program_id}`, l);
  }
  const billed = await billedItems.keys(db, ctx.tenantId);
  const lines: BillableLine[] = [];
  const cache = new Map<string, StoredRecord | undefined>();
  const get = async (slug: string, id: unknown) => {
    if (typeof id !== 'string') return undefined;
    const k = `${slug}/${id}`;
    if (!cache.has(k)) cache.set(k, await records.deps.resource(slug).table.get(db, ctx.tenantId, id));
    return cache.get(k);
  };
  const whenOf = (r: Rec) =>
    /^\d{4}-\d{2}-\d{2}/.test(String(r.date ?? '')) ? String(r.date).slice(0, 10) : String(r.sys_created_at ?? '').slice(0, 10);
  const programFor = (provider: string, programs: unknown) => {
    for (const p of (Array.isArray(programs) ? programs : []) as string[]) {
      const link = links.get(`${provider}|${p}`);
      if (link && passesOptions({ program_id: p, training_provider_ids: [provider] }, o)) return link;
    }
    return undefined;
  };
  const filters: Filter[] = onlyProvider ? [{ column: 'f_training_provider_id', op: 'in', values: [onlyProvider] }] : [];
  for await (const page of records.scan(db, ctx.tenantId, 'courseRegistrations', filters)) {
    for (const r of page) {
      const provider = r.training_provider_id as string | undefined;
      if (!provider || r.status === 'cancelled' || r.cancellation_date || billed.has(`courseRegistrations/${r.id}`)) continue;
      if (!inWindow(whenOf(r), o.expiration_date_range_start, o.expiration_date_range_end)) continue;
      const offering = await get('courseOfferings', r.course_offering_id);
      const link = programFor(provider, offering?.program_ids);
      if (!link || typeof link.course_fee !== 'number' || link.course_fee <= 0) continue;
      lines.push({
        training_provider_id: provider,
        registration_service: 'courseRegistrations',
        registration_id: r.id,
        program_id: String(link.program_id),
        ...(r.student_id ? { student_id: String(r.student_id) } : {}),
        description: `${offering?.name ?? 'course'}: ${r.name ?? r.student_id}`,
        fee_type: 'course_fee',
        amount: link.course_fee,
      });
    }
  }
  for await (const page of records.scan(db, ctx.tenantId, 'examRegistrations', filters)) {
    for (const r of page) {
      const provider = r.training_provider_id as string | undefined;
      if (!provider || r.status === 'cancelled' || r.cancellation_date || billed.has(`examRegistrations/${r.id}`)) continue;
      if (!inWindow(whenOf(r), o.expiration_date_range_start, o.expiration_date_range_end)) continue;
      const exam = await get('exams', r.exam_id);
      const link = programFor(provider, exam?.program_ids);
      const process = await get('examRegProcesses', r.process_id);
      const feeType = process?.type === 'retest' ? 'retest_fee' : 'live_exam_fee';
      if (!link || typeof link[feeType] !== 'number' || link[feeType] <= 0) continue;
      lines.push({
        training_provider_id: provider,
        registration_service: 'examRegistrations',
        registration_id: r.id,
        program_id: String(link.program_id),
        ...(r.student_id ? { student_id: String(r.student_id) } : {}),
        description: `${exam?.name ?? 'exam'}: ${r.name ?? r.student_id}`,
        fee_type: feeType,
        amount: link[feeType],
      });
    }
  }
  return lines;
}
