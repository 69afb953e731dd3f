import type { AppServices } from '../resources/kit/context.js';
import { decodeKey, pageLimit, parseProjection, project, toPage } from '../resources/kit/paging.js';
import type { Filter, StoredRecord } from '../store/records.js';
import {
  courseOfferingPublished,
  type ExamRestriction,
  examListed,
  examOfferingListed,
  examSelected,
  feeOnSale,
  pick,
  PUBLIC_COURSE_OFFERING_FIELDS,
  STORE_EXAM_FIELDS,
  STORE_FEE_FIELDS,
  storeOffering,
} from '../domain/registry/storefront.js';
import { PUBLIC_PAGE_DEFAULT, PUBLIC_PAGE_MAX } from './registry.js';

/**
 * The public catalog (routes: http/storefront.ts): a conference event's published course offerings,
 * and the online store's exams, fees and upcoming exam offerings. What is shown is
 * domain/registry/storefront.ts's; the reads are the resources' tables (keyset pages).
 */

/** The online store answers at most this many exams (by id), and fees and offerings of those exams. */
export const STORE_MAX_EXAMS = 500;
export const STORE_MAX_FEES = 1000;
export const STORE_MAX_OFFERINGS = 1000;

const PUBLIC_OFFERING_SET = new Set<string>(PUBLIC_COURSE_OFFERING_FIELDS);

export interface OnlineStoreQuery {
  exam_ids: string[];
  exam_restriction?: ExamRestriction;
}

export class Storefront {
  constructor(private readonly s: AppServices) {}

  private table(slug: string) {
    return this.s.resource(slug).table;
  }

  /** The extracted column of a definition's lookup or search field. */
  private column(slug: string, field: string): string {
    return this.table(slug).columnOf(field);
  }

  /** GET /courseOfferings/{tenantId}/public/event/{event_id}: one page of the event's published offerings. */
  async eventOfferings(tenantId: string, eventId: string, query: { limit?: string; exclusiveStartKey?: string; fields?: string }) {
    const limit = pageLimit(query.limit, PUBLIC_PAGE_DEFAULT, PUBLIC_PAGE_MAX);
    const after = decodeKey(query.exclusiveStartKey);
    const projection = parseProjection(query.fields, PUBLIC_OFFERING_SET, 'fields');
    const slug = 'courseOfferings';
    // published = publish_to_portal true and is_active not false, in SQL so that pages stay full
    const filters: Filter[] = [
      { column: this.column(slug, 'event_id'), op: 'in', values: [eventId] },
      { column: this.column(slug, 'publish_to_portal'), op: 'in', values: [true] },
      { column: this.column(slug, 'is_active'), op: 'ne', value: false },
    ];
    const rows = await this.table(slug).page(this.s.store.db, tenantId, filters, after, limit + 1);
    const { items, lastKey } = toPage(rows, limit);
    const Items = items.filter(courseOfferingPublished).map((o) => project(pick(o, PUBLIC_COURSE_OFFERING_FIELDS), projection));
    return { Count: Items.length, Items, ...(lastKey ? { LastEvaluatedKey: lastKey } : {}) };
  }

  /** Up to `max` records matching `filters` that `keep` accepts, in id order. */
  private async collect(slug: string, tenantId: string, filters: Filter[], keep: (r: StoredRecord) => boolean, max: number) {
    const out: StoredRecord[] = [];
    for await (const page of this.table(slug).scan(this.s.store.db, tenantId, filters, 200)) {
      for (const r of page) {
        if (!keep(r)) continue;
        out.push(r);
        if (out.length >= max) return out;
      }
    }
    return out;
  }

  /** POST /examFees/{tenantId}/public/onlineStore: the exams asked for, their fees on sale and their offerings to come. */
  async onlineStore(tenantId: string, q: OnlineStoreQuery) {
    const restriction = q.exam_restriction ?? 'include';
    const ids = new Set(q.exam_ids);
    const now = this.s.clock.now();
    const today = now.toISOString().slice(0, 10);
    const examFilters: Filter[] = restriction === 'include' ? [{ column: 'id', op: 'in', values: [...ids] }] : [];
    const exams =
      restriction === 'include' && !ids.size
        ? []
        : await this.collect('exams', tenantId, examFilters, (e) => examListed(e) && examSelected(e.id, ids, restriction), STORE_MAX_EXAMS);
    const examIds = exams.map((e) => e.id);
    if (!examIds.length) return { exams: [], fees: [], offerings: [] };
    const byExam = (slug: string): Filter[] => [{ column: this.column(slug, 'exam_id'), op: 'in', values: examIds }];
    const fees = await this.collect('examFees', tenantId, byExam('examFees'), (f) => feeOnSale(f, now.toISOString()), STORE_MAX_FEES);
    const onSale = new Set(fees.map((f) => f.id));
    const offerings = await this.collect(
      'examOfferings',
      tenantId,
      byExam('examOfferings'),
      (o) => examOfferingListed(o, today),
      STORE_MAX_OFFERINGS,
    );
    return {
      exams: exams.map((e) => pick(e, STORE_EXAM_FIELDS)),
      fees: fees.map((f) => pick(f, STORE_FEE_FIELDS)),
      offerings: offerings.map((o) => storeOffering(o, onSale)),
    };
  }
}
