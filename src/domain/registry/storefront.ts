/**
 * What the public catalog routes may show (no token): a conference event's course offerings and the
 * online store's exams, fees and exam offerings. Each answer is a whitelist of fields (the response
 * schemas are a second one), and only records their owner has published are listed:
 *
 * - a course offering: publish_to_portal true and is_active not false;
 * - an exam: is_active not false;
 * - an exam fee: publish_to_portal true, is_active not false, and now inside its portal window
 *   (portal_options.available_from / available_until, either end open);
 * - an exam offering: is_active not false, and its date (when it starts YYYY-MM-DD) today or later.
 */

type Rec = Record<string, unknown>;

/** The fields of a course offering the public event route shows (no webinar links or accounts, no custom fields, no sys_*). */
export const PUBLIC_COURSE_OFFERING_FIELDS = [
  'id',
  'name',
  'type',
  'course_id',
  'course_type_id',
  'event_id',
  'program_ids',
  'training_location_id',
  'address',
  'instructor_id',
  'additional_instructor_ids',
  'start_date',
  'end_date',
  'timezone_mode',
  'timezone',
  'timezone_offset',
  'timezone_abbreviation',
  'fee_id',
  'sell_from',
  'sell_until',
  'short_description',
  'description',
  'enable_capacity',
] as const;

/** The online store's three lists, field by field (the catalog's getFeesForOnlineStore answer). */
export const STORE_EXAM_FIELDS = ['id', 'name', 'description', 'display_in_portal_as', 'universal_shopping_cart_image_uri'] as const;
export const STORE_FEE_FIELDS = ['id', 'exam_id', 'name', 'price', 'member_price', 'enable_special_prices'] as const;
export const STORE_OFFERING_FIELDS = [
  'id',
  'name',
  'exam_id',
  'type',
  'location',
  'testing_facility_id',
  'training_location_id',
  'additional_location_info',
  'date',
  'registration_time',
  'start_time',
  'end_time',
  'description',
  'fee_id',
  'retest_fee_id',
] as const;

export type ExamRestriction = 'include' | 'exclude' | 'none';

/** The listed fields of a record that it has, nothing else. */
export function pick(rec: Rec, fields: readonly string[]): Rec {
  const out: Rec = {};
  for (const f of fields) if (rec[f] !== undefined && rec[f] !== null) out[f] = rec[f];
  return out;
}

export const courseOfferingPublished = (o: Rec) => o.publish_to_portal === true && o.is_active !== false;

export const examListed = (e: Rec) => e.is_active !== false;

/** A fee on sale at `now` (an ISO date-time). */
export function feeOnSale(fee: Rec, now: string): boolean {
  if (fee.publish_to_portal !== true || fee.is_active === false) return false;
  const w = (fee.portal_options ?? {}) as { available_from?: string; available_until?: string };
  const t = Date.parse(now);
  if (w.available_from && Date.parse(w.available_from) > t) return false;
  if (w.available_until && Date.parse(w.available_until) < t) return false;
  return true;
}

/** An exam offering still to come on `today` (YYYY-MM-DD); a date in another form cannot be placed and is listed. */
export function examOfferingListed(o: Rec, today: string): boolean {
  if (o.is_active === false) return false;
  const day = typeof o.date === 'string' && /^\d{4}-\d{2}-\d{2}/.test(o.date) ? o.date.slice(0, 10) : undefined;
  return day === undefined || day >= today;
}

/** Whether exam `id` is asked for, by the restriction: include = one of ids, exclude = none of them, none = any. */
export function examSelected(id: string, ids: ReadonlySet<string>, restriction: ExamRestriction): boolean {
  if (restriction === 'none') return true;
  return restriction === 'include' ? ids.has(id) : !ids.has(id);
}

/**
 * An exam offering as the store shows it: its fee ids only when those fees are on sale (an unpublished
 * fee is not named).
 */
export function storeOffering(o: Rec, feesOnSale: ReadonlySet<string>): Rec {
  const out = pick(o, STORE_OFFERING_FIELDS);
  if (typeof out.fee_id === 'string' && !feesOnSale.has(out.fee_id)) delete out.fee_id;
  if (typeof out.retest_fee_id === 'string' && !feesOnSale.has(out.retest_fee_id)) delete out.retest_fee_id;
  return out;
}
