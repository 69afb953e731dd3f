import { transitionError, type Transitions } from './transitions.js';
import type { FieldValues } from '../../resources/kit/fields.js';
import type { creditFields } from '../../resources/credits.js';

/**
 * Credits: the review workflow (draft -> submitted -> under review -> verified | rejected; any
 * status but archived -> archived, which is final) and the balance, which every write keeps:
 * quantity_used = the sum of usages[] (when there are usages), quantity_available = quantity -
 * quantity_used, 0 <= quantity_used <= quantity.
 */
export const CREDIT_NEXT: Transitions = {
  draft: ['submitted', 'archived'],
  submitted: ['under review', 'draft', 'archived'],
  'under review': ['verified', 'rejected', 'submitted', 'archived'],
  verified: ['archived'],
  rejected: ['archived'],
  archived: [],
};

/** A credit as these rules read it: the credits resource's fields, typed from its schema. */
export type CreditLike = Partial<FieldValues<typeof creditFields>> & { id?: string };

const EPS = 1e-9;
const round = (n: number) => Math.round(n * 1e9) / 1e9;

export function creditTransitionError(old: CreditLike | undefined, next: CreditLike): string | null {
  const why = transitionError('credit', CREDIT_NEXT, old, next.status, 'draft');
  if (why) return why;
  // A credit applied to an application cannot stop counting under it: release it first.
  if (old && old.status === 'verified' && next.status !== 'verified' && (old.quantity_used ?? 0) > EPS) {
    const apps = [...new Set((old.usages ?? []).map((u) => u.application_id).filter(Boolean))];
    return `the credit is used by ${apps.length ? `application ${apps.join(', ')}` : 'an application'} (quantity_used ${old.quantity_used}); it cannot become ${next.status} until it is released (withdraw or reject the application)`;
  }
  return null;
}

/**
 * The balance a write stores, derived whatever was sent: quantity_used is the sum of usages[] when
 * the credit has usages (else as sent, 0 when absent); quantity_available is quantity - quantity_used.
 * Returns only the fields that differ from the record.
 */
export function impliedCreditFields(c: CreditLike): Partial<CreditLike> {
  const out: Partial<CreditLike> = {};
  const used = c.usages ? round(c.usages.reduce((s, u) => s + u.quantity, 0)) : (c.quantity_used ?? 0);
  if (c.quantity_used !== used) out.quantity_used = used;
  if (typeof c.quantity === 'number') {
    const avail = round(c.quantity - used);
    if (c.quantity_available !== avail) out.quantity_available = avail;
  }
  return out;
}

/** Why the balance of a credit cannot hold (more used than the quantity, or a negative use), or null. */
export function creditBalanceError(c: CreditLike): string | null {
  const q = c.quantity ?? 0;
  const used = c.usages ? c.usages.reduce((s, u) => s + u.quantity, 0) : (c.quantity_used ?? 0);
  if (used < -EPS) return `quantity_used (${round(used)}) cannot be negative`;
  if (used > q + EPS) return `quantity_used (${round(used)}${c.usages ? ', the sum of usages[]' : ''}) cannot exceed quantity (${q})`;
  return null;
}

/** The rule of every credit write (resources/credits.ts beforeWrite): the workflow, then the balance. */
export const creditWriteError = (old: CreditLike | undefined, next: CreditLike) =>
  creditTransitionError(old, next) ?? creditBalanceError(next);
