/**
 * A status machine as data: NEXT[from] lists the statuses `from` may move to. Shared by the
 * registrations, credits and activities of the learning rules (src/domain/learning).
 */
export type Transitions = Record<string, readonly string[]>;

/**
 * Why `from -> to` is not allowed for a `what` ("course registration"), or null when it is. Staying in
 * a status is always allowed; an absent status is `initial`. Creating a record (no `old`) in any status
 * is allowed (imports, automatically verified credits): only changes are checked.
 */
export function transitionError(
  what: string,
  next: Transitions,
  old: { status?: unknown } | undefined,
  to: string | undefined,
  initial: string,
): string | null {
  if (!old) return null;
  const a = (old.status as string | undefined) ?? initial;
  const b = to ?? initial;
  if (a === b) return null;
  const allowed = Object.hasOwn(next, a) ? next[a] : undefined;
  if (!allowed) return `unknown ${what} status "${a}"`;
  if (allowed.includes(b)) return null;
  if (!allowed.length) return `the ${what} is ${a}; it can no longer change status`;
  return `a ${what} cannot go from ${a} to ${b} (from ${a}: ${allowed.join(', ')})`;
}
