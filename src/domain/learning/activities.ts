// one module per function: the date-fns index loads ~250 modules at start-up
import { addDays } from 'date-fns/addDays';
import { addMonths } from 'date-fns/addMonths';
import { addWeeks } from 'date-fns/addWeeks';
import { addYears } from 'date-fns/addYears';
import { endOfMonth } from 'date-fns/endOfMonth';
import { endOfQuarter } from 'date-fns/endOfQuarter';
import { endOfWeek } from 'date-fns/endOfWeek';
import { endOfYear } from 'date-fns/endOfYear';
import { format } from 'date-fns/format';
import { isValid } from 'date-fns/isValid';
import { parseISO } from 'date-fns/parseISO';
import { startOfMonth } from 'date-fns/startOfMonth';
import { startOfQuarter } from 'date-fns/startOfQuarter';
import { startOfWeek } from 'date-fns/startOfWeek';
import { startOfYear } from 'date-fns/startOfYear';
import { transitionError, type Transitions } from './transitions.js';

/**
 * Activities: the review workflow (draft -> under review -> verified -> processed; under review may
 * go back to draft for changes) and whether the person who reported one may still edit it.
 */
export const ACTIVITY_NEXT: Transitions = {
  draft: ['under review'],
  'under review': ['draft', 'verified'],
  verified: ['processed'],
  processed: [],
};

export const activityTransitionError = (old: { status?: unknown } | undefined, to: string | undefined) =>
  transitionError('activity', ACTIVITY_NEXT, old, to, 'draft');

/** The transition that issues an activity's credits. */
export const becomesVerified = (old: { status?: string } | undefined, next: { status?: string }) =>
  next.status === 'verified' && old?.status !== 'verified';

export interface RelativeDate {
  number: number;
  position: 'after' | 'before' | 'on';
  relative_to: string;
  unit_of_time: 'days' | 'weeks' | 'months' | 'years';
}

export interface ActivityTypeEditing {
  allow_editing_in_portal?: boolean;
  activity_editing_options?: { until?: 'forever' | 'relative date'; relative_date?: RelativeDate };
}

const ANCHORS: Record<string, (d: Date) => Date> = {
  'the beginning of the month': startOfMonth,
  'the beginning of the quarter': startOfQuarter,
  'the beginning of the week': (d) => startOfWeek(d, { weekStartsOn: 1 }),
  'the beginning of the year': startOfYear,
  'the end of the month': endOfMonth,
  'the end of the quarter': endOfQuarter,
  'the end of the week': (d) => endOfWeek(d, { weekStartsOn: 1 }),
  'the end of the year': endOfYear,
  'the reference date': (d) => d,
};
const SHIFT = { days: addDays, weeks: addWeeks, months: addMonths, years: addYears } as const;

/** The day a relative date names for a reference day (YYYY-MM-DD): anchor, then number × unit before / after. */
export function resolveRelativeDate(r: RelativeDate, reference: string): string {
  const anchor = (ANCHORS[r.relative_to] ?? ANCHORS['the reference date']!)(parseISO(reference));
  const n = r.position === 'on' ? 0 : r.position === 'before' ? -r.number : r.number;
  return format(SHIFT[r.unit_of_time](anchor, n), 'yyyy-MM-dd');
}

export interface CanEdit {
  can_edit: boolean;
  reason: string;
  /** The last day of the editing window, when it has one. */
  editable_until?: string;
}

/**
 * Whether the person who reported an activity may still edit it on `today`: a draft always; one
 * under review only when its type allows editing in the portal and the editing window (forever, or
 * until a date relative to the activity's date) is open; a verified or processed one never.
 */
export function canEditActivity(
  activity: { status?: string; date?: string; sys_created_at?: string },
  type: ActivityTypeEditing | undefined,
  today: string,
): CanEdit {
  const status = activity.status ?? 'draft';
  if (status === 'draft') return { can_edit: true, reason: 'the activity is a draft' };
  if (status !== 'under review') return { can_edit: false, reason: `the activity is ${status}; its credits are issued` };
  if (!type) return { can_edit: false, reason: 'the activity is under review and has no activity type that allows editing' };
  if (type.allow_editing_in_portal !== true)
    return { can_edit: false, reason: 'the activity is under review and its type does not allow editing in the portal' };
  const opts = type.activity_editing_options;
  if (!opts?.until || opts.until === 'forever' || !opts.relative_date)
    return { can_edit: true, reason: 'its type allows editing while under review, without a time limit' };
  const ref = [activity.date, activity.sys_created_at]
    .map((d) => d?.slice(0, 10))
    .find((d) => d && /^\d{4}-\d{2}-\d{2}$/.test(d) && isValid(parseISO(d)));
  if (!ref) return { can_edit: false, reason: 'the activity has no date to start its editing window from' };
  const until = resolveRelativeDate(opts.relative_date, ref);
  return today <= until
    ? { can_edit: true, reason: `its type allows editing until ${until}`, editable_until: until }
    : { can_edit: false, reason: `the editing window closed on ${until}`, editable_until: until };
}
