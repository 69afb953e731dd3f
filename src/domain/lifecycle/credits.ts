import type { FieldValues } from '../../resources/kit/fields.js';
import type { applicationProcessFields } from '../../resources/applicationProcesses.js';
import type { creditFields } from '../../resources/credits.js';
import type { creditTypeFields } from '../../resources/creditTypes.js';

/**
 * Which credits count toward an application's credit requirements, and which ones it consumes: plain
 * functions over plain data (no I/O, no clock). Two kinds of requirement:
 *
 * - `credit_requirements[]`: a quantity of exactly one credit type (as the catalog's processes do);
 * - `credit_totals[]`: a total over several credit types and their sub-types, with minimums for some
 *   of them that count toward the total — "24 contact hours, of which 2 h medical errors, 2 h laws and
 *   rules, 1 h HIV/AIDS".
 *
 * The allocation (planCredits) is deterministic and counts every credit hour once:
 *  1. `credit_requirements` in their order, each from credits of its own type;
 *  2. each `credit_totals` entry in its order:
 *     a. its minimums, the most specific first (the fewest credit types once sub-types are included;
 *        equal ones in the order listed), each from credits of its credit type or sub-types;
 *     b. then the rest of the total (quantity minus what the minimums took) from any credit in the
 *        total's scope: its credit types, its minimums' credit types, and their sub-types.
 * Inside each step the credits are taken oldest first (date, then id), each at most its available
 * quantity, and only as much as the step still needs. What one step took is gone for the next ones.
 */

/** A credit as allocation reads it: the credits resource's fields (typed from its schema), with its id. */
export type CreditLike = Partial<FieldValues<typeof creditFields>> & Pick<FieldValues<typeof creditFields>, 'quantity'> & { id: string };
/** A credit type: its id and its parent (sub-types count toward their parent's totals). */
export type CreditTypeLike = Partial<FieldValues<typeof creditTypeFields>> & { id: string };

type ProcessFields = FieldValues<typeof applicationProcessFields>;
type Item<L> = NonNullable<L> extends readonly (infer T)[] ? T : never;
/** The requirements of an application process, typed from its schema. */
export type CreditRequirementLike = Item<ProcessFields['credit_requirements']>;
export type CreditTotalLike = Item<ProcessFields['credit_totals']>;
export type CreditMinimumLike = Item<CreditTotalLike['minimums']>;

export interface CreditRules {
  credit_requirements?: CreditRequirementLike[];
  credit_totals?: CreditTotalLike[];
}

export interface CreditFacts {
  /** The applicant's credits (any status; only those that count are used). */
  credits: CreditLike[];
  /** Credits count only when earned inside [from, to] (cycle window); either may be absent. */
  window: { from?: string; to?: string };
  /** Credits already applied to this application, by credit id. */
  appliedToThis: Record<string, number>;
  /** The tenant's credit types (their parents); needed only for totals over sub-types. */
  creditTypes?: CreditTypeLike[];
}

/** Credit quantities are decimals (0.7 + 0.1 must meet 0.8): compared with a tolerance. */
export const EPSILON = 1e-9;
export const atLeast = (have: number, need: number) => have + EPSILON >= need;
/** Quantities shown to people: floating-point noise rounded away. */
const shown = (x: number) => Math.round(x * 1e6) / 1e6;
const ratio = (have: number, need: number) => (need <= 0 ? 1 : Math.min(1, Math.max(0, have / need)));

/** What one credit still offers this application: its unused quantity plus what it already gave it. */
export function availableFor(c: CreditLike, appliedToThis: number): number {
  return Math.max(0, c.quantity - (c.quantity_used ?? 0)) + appliedToThis;
}

/** A credit counts when verified, not expired at the window's end, and earned inside the window. */
export function creditCounts(c: CreditLike, window: { from?: string; to?: string }): boolean {
  if (c.status !== 'verified') return false;
  if (window.from && c.date && c.date < window.from) return false;
  if (window.to && c.date && c.date > window.to) return false;
  if (c.expiration_date && window.to && c.expiration_date < window.to) return false;
  return true;
}

/** The given credit types and all their sub-types (children, grandchildren … by parent_credit_type_id); safe with cycles. */
export function withSubTypes(typeIds: Iterable<string>, types: CreditTypeLike[] = []): Set<string> {
  const children = new Map<string, string[]>();
  for (const t of types) {
    if (!t.parent_credit_type_id) continue;
    const list = children.get(t.parent_credit_type_id) ?? [];
    list.push(t.id);
    children.set(t.parent_credit_type_id, list);
  }
  const out = new Set<string>();
  const stack = [...typeIds];
  while (stack.length) {
    const id = stack.pop()!;
    if (out.has(id)) continue;
    out.add(id);
    stack.push(...(children.get(id) ?? []));
  }
  return out;
}

/** The scope of a total: its credit types and its minimums' credit types, with their sub-types. */
export function totalScope(total: CreditTotalLike, types: CreditTypeLike[] = []): Set<string> {
  return withSubTypes([...(total.credit_type_ids ?? []), ...(total.minimums ?? []).map((m) => m.credit_type_id)], types);
}

/** Every credit type some credit requirement of the process can use (which credits to load). */
export function creditTypesUsed(rules: CreditRules, types: CreditTypeLike[] = []): Set<string> {
  const out = new Set((rules.credit_requirements ?? []).map((r) => r.credit_type_id));
  for (const t of rules.credit_totals ?? []) for (const id of totalScope(t, types)) out.add(id);
  return out;
}

/** Why a process's credit_totals are inconsistent (dotted field paths), or [] when they are fine. */
export function creditTotalProblems(totals: CreditTotalLike[] | undefined): { field: string; reason: string }[] {
  const problems: { field: string; reason: string }[] = [];
  (totals ?? []).forEach((t, i) => {
    const sum = (t.minimums ?? []).reduce((s, m) => s + m.quantity, 0);
    if (sum > t.quantity + EPSILON) {
      problems.push({
        field: `credit_totals.${i}.minimums`,
        reason: `the minimums add up to ${shown(sum)}, more than the total's quantity ${t.quantity}; they count toward it`,
      });
    }
  });
  return problems;
}

export interface MinimumProgress {
  credit_type_id: string;
  required: number;
  /** Countable quantity of this credit type (and its sub-types) left for this minimum. */
  earned: number;
  met: boolean;
  progress: number;
  /** What is still needed of this credit type. */
  missing: number;
}

export interface TotalProgress {
  kind: 'credit_total';
  /** The index of the total in the process's credit_totals. */
  index: number;
  name?: string;
  credit_type_ids: string[];
  required: number;
  /** Countable quantity in the total's scope (each credit once, after the credit requirements). */
  earned: number;
  /** Met when the total is reached and every minimum is. */
  met: boolean;
  progress: number;
  /** The least further quantity that meets it: the minimums' shortfall, or the total's when larger. */
  missing: number;
  minimums: MinimumProgress[];
}

export interface PlanLine {
  credit_id: string;
  credit_type_id?: string;
  /** The requirement it counts for: a JSON pointer into the process (/credit_requirements/0, /credit_totals/0/minimums/1, /credit_totals/0). */
  requirement: string;
  quantity: number;
}

export interface CreditPlan {
  /** Every credit requirement and every total (with its minimums) is covered. */
  met: boolean;
  /** The quantity taken from each credit (what the application holds once submitted). */
  allocation: Record<string, number>;
  /** The same quantities by requirement, in allocation order. */
  lines: PlanLine[];
  /** Progress of each credit total, in the process's order. */
  totals: TotalProgress[];
}

/**
 * The allocation described at the top of this file. Always runs to the end (a shortfall takes what
 * there is and goes on), so that it serves both the progress view and the consumption on submit.
 */
export function planCredits(rules: CreditRules, facts: CreditFacts): CreditPlan {
  const usable = facts.credits
    .filter((c) => c.type_id && creditCounts(c, facts.window))
    .sort((a, b) => (a.date ?? '').localeCompare(b.date ?? '') || a.id.localeCompare(b.id));
  const left = new Map(usable.map((c) => [c.id, availableFor(c, facts.appliedToThis[c.id] ?? 0)]));
  const allocation: Record<string, number> = {};
  const lines: PlanLine[] = [];

  const available = (scope: Set<string>) => usable.reduce((s, c) => (scope.has(c.type_id!) ? s + left.get(c.id)! : s), 0);
  const take = (requirement: string, scope: Set<string>, need: number): number => {
    let got = 0;
    for (const c of usable) {
      if (need - got <= EPSILON) break;
      if (!scope.has(c.type_id!)) continue;
      const q = Math.min(need - got, left.get(c.id)!);
      if (q <= EPSILON) continue;
      left.set(c.id, left.get(c.id)! - q);
      allocation[c.id] = (allocation[c.id] ?? 0) + q;
      lines.push({ credit_id: c.id, credit_type_id: c.type_id, requirement, quantity: q });
      got += q;
    }
    return got;
  };

  let met = true;
  (rules.credit_requirements ?? []).forEach((r, i) => {
    if (!atLeast(take(`/credit_requirements/${i}`, new Set([r.credit_type_id]), r.quantity), r.quantity)) met = false;
  });

  const types = facts.creditTypes ?? [];
  const totals = (rules.credit_totals ?? []).map((t, i): TotalProgress => {
    const scope = totalScope(t, types);
    const earned = available(scope);
    const minimums = (t.minimums ?? []).map((m, j) => ({ m, j, scope: withSubTypes([m.credit_type_id], types) }));
    const progress: MinimumProgress[] = new Array(minimums.length);
    let fromMinimums = 0;
    for (const { m, j, scope: ms } of [...minimums].sort((a, b) => a.scope.size - b.scope.size || a.j - b.j)) {
      const there = available(ms);
      const got = take(`/credit_totals/${i}/minimums/${j}`, ms, m.quantity);
      fromMinimums += got;
      const ok = atLeast(got, m.quantity);
      progress[j] = {
        credit_type_id: m.credit_type_id,
        required: m.quantity,
        earned: shown(there),
        met: ok,
        progress: ok ? 1 : shown(ratio(got, m.quantity)),
        missing: ok ? 0 : shown(m.quantity - got),
      };
    }
    const counted = fromMinimums + take(`/credit_totals/${i}`, scope, t.quantity - fromMinimums);
    const minimumsShort = progress.reduce((s, p) => s + p.missing, 0);
    const missing = Math.max(minimumsShort, t.quantity - earned, 0);
    const ok = atLeast(counted, t.quantity) && progress.every((p) => p.met);
    if (!ok) met = false;
    return {
      kind: 'credit_total',
      index: i,
      ...(t.name !== undefined ? { name: t.name } : {}),
      credit_type_ids: [...t.credit_type_ids],
      required: t.quantity,
      earned: shown(earned),
      met: ok,
      progress: ok ? 1 : shown(ratio(t.quantity - missing, t.quantity)),
      missing: ok ? 0 : shown(missing),
      minimums: progress,
    };
  });
  return { met, allocation, lines, totals };
}
