/**
 * Seats and sale windows of offerings (course offerings and exam offerings share the shape
 * `enable_capacity` + `capacity_options.capacity`). Pure: the service counts the registrations under
 * a lock and asks these rules.
 */
export interface OfferingLike {
  id: string;
  name?: string;
  enable_capacity?: boolean;
  capacity_options?: { capacity?: number };
  sell_from?: string;
  sell_until?: string;
}

export interface RegistrationLike {
  id?: string;
  status?: string;
  cancellation_date?: string;
}

/** A registration holds a seat unless it is cancelled (status cancelled or a cancellation date). */
export function holdsSeat(r: RegistrationLike): boolean {
  return r.status !== 'cancelled' && !r.cancellation_date;
}

/** The seats of an offering, or undefined when it has no capacity limit. */
export function capacityOf(o: OfferingLike): number | undefined {
  if (o.enable_capacity !== true) return undefined;
  const c = o.capacity_options?.capacity;
  return typeof c === 'number' && Number.isFinite(c) ? Math.max(0, Math.floor(c)) : undefined;
}

/** Seats left (undefined = unlimited), given the registrations that hold one. */
export function seatsLeft(o: OfferingLike, taken: number): number | undefined {
  const cap = capacityOf(o);
  return cap === undefined ? undefined : Math.max(0, cap - taken);
}

/** Why one more registration does not fit (`taken` seats held by the others), or null. */
export function seatError(o: OfferingLike, taken: number, what = 'offering'): string | null {
  const cap = capacityOf(o);
  if (cap === undefined || taken < cap) return null;
  return `the ${what} ${o.name ? `"${o.name}" ` : ''}(${o.id}) is full: all ${cap} seats are taken`;
}

/** Why a registration made at `now` (ISO date-time) is outside the offering's sale window, or null. */
export function saleWindowError(o: OfferingLike, now: string): string | null {
  const t = Date.parse(now);
  if (o.sell_from && t < Date.parse(o.sell_from)) return `registration for the offering ${o.id} opens at ${o.sell_from} (sell_from)`;
  if (o.sell_until && t > Date.parse(o.sell_until)) return `registration for the offering ${o.id} closed at ${o.sell_until} (sell_until)`;
  return null;
}
