/**
 * What a purchase costs: the one pure function that every order, every forecast and every billing
 * total uses (price below). Plain data in, plain data out; the day is an argument. Amounts in the
 * catalog's fee records are decimal numbers in the currency's major units (as the catalog defines
 * them); everything this module returns is an integer in minor units (cents), converted once, exactly,
 * by money.ts. No floating-point arithmetic on money after that conversion.
 *
 * Rules decided here (docs/billing.md, "Prices"):
 * - the fee line: member_price for a member when the fee has one; an exam fee's special price when
 *   enable_special_prices is on and the day is inside its window (compared by day, both ends
 *   included; the first that matches); a reinstatement at renewal pricing charges the renewal fee;
 * - another currency: each fee's foreign_currency_prices entry of that currency (its member_price for
 *   a member); special prices and the late fee exist in the base currency only;
 * - the late fee counts as part of the application it is charged with: an application-fee discount
 *   that applies to the application's fee applies to the late fee too (a percentage to both lines, a
 *   fixed amount once: off the fee, the rest off the late fee), and no other discount does;
 * - a percentage is rounded half up per line; a fixed amount is taken off each matching fee, never
 *   more than its line; maximum_discount caps the sum, taken from the lines in order.
 */
import type { Standing } from '../lifecycle/standing.js';
import { currencyDigits, exactRatio, isCurrencyCode, toMinor } from './money.js';

/** The kinds of fee a coupon can apply to (its apply_to_* switches). */
export type FeeKind = 'application' | 'course' | 'exam' | 'other';

/** A fee record of the catalog (applicationFees, courseFees, examFees, fees): the fields pricing reads. */
export interface FeeLike {
  id: string;
  name?: string;
  price?: number;
  member_price?: number;
  is_active?: boolean;
  foreign_currency_prices?: { currency_code?: string; price?: number; member_price?: number }[];
  /** exam fees: dated prices (early bird …), used when enable_special_prices is on and the day is inside the window */
  enable_special_prices?: boolean;
  special_prices?: { name?: string; price: number; member_price?: number; available_from?: string; available_until?: string }[];
}

/** A coupon record (resources/coupons.ts) plus the designed per-holder limit. */
export interface CouponLike {
  id: string;
  name?: string;
  code?: string;
  is_active?: boolean;
  start_date?: string;
  end_date?: string;
  maximum_number_of_uses?: number;
  maximum_uses_per_holder?: number;
  discount_method?: 'discount line item' | 'inline discount';
  maximum_discount?: number;
  apply_to_application_fees?: boolean;
  application_fee_discount?: FeeDiscount & { application_fee_ids?: string[] };
  apply_to_course_fees?: boolean;
  course_fee_discount?: FeeDiscount & { course_fee_ids?: string[] };
  apply_to_exam_fees?: boolean;
  exam_fee_discount?: FeeDiscount & { exam_fee_ids?: string[] };
  apply_to_fees?: boolean;
  fee_discount?: FeeDiscount & { fee_ids?: string[] };
}
export interface FeeDiscount {
  discount_type: 'percentage' | 'fixed amount';
  /** percent (0–100), or an amount in the base currency's major units */
  amount: number;
}

/** What is being bought. The service picks the records; pricing decides what they cost. */
export interface Purchase {
  kind: 'application' | 'course registration' | 'exam registration' | 'other';
  /** applications: certification | renewal | reinstatement | transfer */
  application_type?: string;
  /** exam registrations: a retake (the fee is then the offering's retest fee; informative here) */
  retest?: boolean;
  /** The fee charged: the application process's fee, the offering's course fee, the exam fee. */
  fee: FeeLike;
  /** The fee kind of `fee` (for coupons): application | course | exam | other. */
  fee_kind: FeeKind;
  /** Reinstatement at renewal pricing: the renewal process's fee, used instead of `fee` when buyer.renewal_pricing. */
  renewal_fee?: FeeLike;
  /** Further fees bought with it (fees resource, kind other). */
  extra_fees?: FeeLike[];
}

/** What is known about the buyer that changes the price. */
export interface BuyerFacts {
  /** an active member: member_price applies where a fee has one */
  member: boolean;
  /** the standing (domain/lifecycle/standing.ts) of the certification renewed or reinstated, on `date` */
  standing?: Standing;
  /** reinstatement inside the rule set's reinstatement period with give_renewal_pricing_during_reinstatement_period */
  renewal_pricing?: boolean;
}

/** A coupon offered with its redemption counts so far (not counting this order). */
export interface CouponOffer {
  coupon: CouponLike;
  /** redemptions of the coupon by anyone */
  uses: number;
  /** redemptions by this buyer */
  uses_by_holder: number;
}

export interface PricingInput {
  purchase: Purchase;
  buyer: BuyerFacts;
  /** The tenant's currency (settings.currency_code; default USD): the currency of `price` and `member_price`. */
  base_currency: string;
  /** The order's currency; default base_currency. Another one is priced from foreign_currency_prices. */
  currency?: string;
  /** The programme's late fee (programs.late_fee, base currency, major units): added to a renewal in grace. */
  late_fee?: number;
  /** At most one coupon per order (a second one is refused by the service). */
  coupon?: CouponOffer;
  /** YYYY-MM-DD */
  date: string;
}

export interface LineItem {
  type: 'fee' | 'late fee' | 'discount';
  description: string;
  fee_kind?: FeeKind;
  /** fee lines: the fee record's id; discount lines: the coupon's id in coupon_id */
  fee_id?: string;
  coupon_id?: string;
  quantity: number;
  /** minor units; negative on a discount line */
  unit_amount: number;
  /** quantity × unit_amount, minus an inline discount; minor units */
  amount: number;
  /** the inline discount taken off this line (discount_method "inline discount"); minor units, >= 0 */
  discount?: number;
}

export interface Priced {
  currency: string;
  lines: LineItem[];
  /** sum of the fee and late-fee lines before any discount */
  subtotal: number;
  /** total discount (inline and discount lines), never more than the subtotal */
  discount_total: number;
  /** subtotal − discount_total, >= 0 */
  total: number;
  coupon_id?: string;
}

/** A reason the purchase cannot be priced, naming the input field (as the API's errors do). */
export interface PricingError {
  field: string;
  reason: string;
}

export type PricingResult = { ok: true; priced: Priced } | { ok: false; errors: PricingError[] };

/** The discount block of a coupon for a fee of this kind, when it is switched on and not limited to other fees. */
function discountFor(coupon: CouponLike, kind: FeeKind, feeId: string | undefined): FeeDiscount | undefined {
  const [on, block, ids] =
    kind === 'application'
      ? [coupon.apply_to_application_fees, coupon.application_fee_discount, coupon.application_fee_discount?.application_fee_ids]
      : kind === 'course'
        ? [coupon.apply_to_course_fees, coupon.course_fee_discount, coupon.course_fee_discount?.course_fee_ids]
        : kind === 'exam'
          ? [coupon.apply_to_exam_fees, coupon.exam_fee_discount, coupon.exam_fee_discount?.exam_fee_ids]
          : [coupon.apply_to_fees, coupon.fee_discount, coupon.fee_discount?.fee_ids];
  if (!on || !block) return undefined;
  if (ids?.length && (feeId === undefined || !ids.includes(feeId))) return undefined;
  return block;
}

const couponName = (c: CouponLike) => c.code ?? c.name ?? c.id;

/** What a coupon may discount: one entry per fee that can be on the order. */
interface Target {
  kind: FeeKind;
  fee_id: string | undefined;
}

function refusal(offer: CouponOffer, targets: Target[], date: string, currency: string, base_currency: string): string | undefined {
  const c = offer.coupon;
  const name = couponName(c);
  if (c.is_active === false) return `coupon ${name} is not active`;
  if (c.start_date && date < c.start_date) return `coupon ${name} is valid from ${c.start_date}`;
  if (c.end_date && date > c.end_date) return `coupon ${name} expired on ${c.end_date}`;
  if (c.maximum_number_of_uses !== undefined && offer.uses >= c.maximum_number_of_uses)
    return `coupon ${name} has been used ${c.maximum_number_of_uses} times, its limit`;
  if (c.maximum_uses_per_holder !== undefined && offer.uses_by_holder >= c.maximum_uses_per_holder)
    return `coupon ${name} may be used ${c.maximum_uses_per_holder} times per holder, and this holder has`;
  const blocks = targets.map((t) => discountFor(c, t.kind, t.fee_id)).filter((b) => b !== undefined);
  if (!blocks.length) return `coupon ${name} applies to none of the fees of this purchase`;
  const fixed = blocks.some((b) => b.discount_type === 'fixed amount');
  // fixed amounts and the cap are amounts of the base currency: no exchange rate to apply them to another
  if (currency !== base_currency && (fixed || c.maximum_discount !== undefined))
    return `coupon ${name} gives amounts in ${base_currency} and cannot be used on an order in ${currency}`;
  for (const [what, amount] of [
    ...blocks.filter((b) => b.discount_type === 'fixed amount').map((b) => ['amount', b.amount] as const),
    ['maximum_discount', c.maximum_discount] as const,
  ]) {
    if (amount === undefined) continue;
    try {
      toMinor(amount, base_currency);
    } catch {
      return `coupon ${name}'s ${what} ${amount} is not an amount in ${base_currency} (${currencyDigits(base_currency)} decimals at most)`;
    }
  }
  return undefined;
}

/**
 * Why a coupon cannot be used for this purchase (inactive, before start_date / after end_date, its
 * usage limit or the holder's reached, applies to none of the purchase's fee kinds or fee ids, a fixed
 * amount or maximum_discount on an order in another currency), or undefined when it can.
 * (Every fee the purchase may charge counts: its fee, the renewal fee of a reinstatement, its extra fees.)
 */
export function couponRefusal(
  offer: CouponOffer,
  purchase: Purchase,
  date: string,
  currency: string,
  base_currency: string,
): string | undefined {
  const targets: Target[] = [
    { kind: purchase.fee_kind, fee_id: purchase.fee.id },
    ...(purchase.renewal_fee ? [{ kind: purchase.fee_kind, fee_id: purchase.renewal_fee.id }] : []),
    ...(purchase.extra_fees ?? []).map((f) => ({ kind: 'other' as const, fee_id: f.id })),
  ];
  return refusal(offer, targets, date, currency, base_currency);
}

const feeName = (f: FeeLike) => f.name ?? f.id;

/** The amount (major units, as the catalog holds it) a fee charges this buyer in this currency, or an error. */
function feeAmount(fee: FeeLike, input: PricingInput, currency: string): { major: number } | PricingError {
  const member = input.buyer.member;
  if (currency !== input.base_currency) {
    const foreign = fee.foreign_currency_prices?.find((p) => p.currency_code === currency);
    const major = member && foreign?.member_price !== undefined ? foreign.member_price : foreign?.price;
    return major === undefined ? { field: 'currency', reason: `fee ${feeName(fee)} has no price in ${currency}` } : { major };
  }
  if (fee.enable_special_prices) {
    const special = fee.special_prices?.find(
      (s) =>
        (!s.available_from || s.available_from.slice(0, 10) <= input.date) &&
        (!s.available_until || input.date <= s.available_until.slice(0, 10)),
    );
    if (special) return { major: member && special.member_price !== undefined ? special.member_price : special.price };
  }
  const major = member && fee.member_price !== undefined ? fee.member_price : fee.price;
  return major === undefined ? { field: 'price', reason: `fee ${feeName(fee)} has no price` } : { major };
}

/** A fee as a line, or the reason it cannot be charged. */
function feeLine(fee: FeeLike, kind: FeeKind, input: PricingInput, currency: string): LineItem | PricingError {
  if (fee.is_active === false) return { field: 'fee', reason: `fee ${feeName(fee)} is not active` };
  const amount = feeAmount(fee, input, currency);
  if ('field' in amount) return amount;
  let minor: number;
  try {
    minor = toMinor(amount.major, currency);
  } catch {
    minor = -1;
  }
  if (minor < 0)
    return {
      field: 'price',
      reason: `fee ${feeName(fee)} costs ${amount.major}, not an amount in ${currency} (${currencyDigits(currency)} decimals at most)`,
    };
  return { type: 'fee', description: feeName(fee), fee_kind: kind, fee_id: fee.id, quantity: 1, unit_amount: minor, amount: minor };
}

/** amount × percent / 100, rounded half up, in integers (amount >= 0). */
function percentOf(amount: number, percent: number): number {
  const { numerator, denominator } = exactRatio(percent);
  const q = 100n * denominator;
  return Number((2n * BigInt(amount) * numerator + q) / (2n * q));
}

export function price(input: PricingInput): PricingResult {
  const currency = input.currency ?? input.base_currency;
  const errors: PricingError[] = [];
  if (!isCurrencyCode(input.base_currency))
    errors.push({ field: 'base_currency', reason: `${String(input.base_currency)} is not an ISO 4217 currency code` });
  if (!isCurrencyCode(currency)) errors.push({ field: 'currency', reason: `${String(currency)} is not an ISO 4217 currency code` });
  if (errors.length) return { ok: false, errors };

  const { purchase, buyer } = input;
  const lines: LineItem[] = [];
  const add = (line: LineItem | PricingError) => ('field' in line ? errors.push(line) : lines.push(line));
  const reinstatedAtRenewalPrice = purchase.application_type === 'reinstatement' && buyer.renewal_pricing && purchase.renewal_fee;
  const mainFee = reinstatedAtRenewalPrice ? purchase.renewal_fee! : purchase.fee;
  add(feeLine(mainFee, purchase.fee_kind, input, currency));
  for (const extra of purchase.extra_fees ?? []) add(feeLine(extra, 'other', input, currency));

  const late = input.late_fee ?? 0;
  if (purchase.kind === 'application' && purchase.application_type === 'renewal' && buyer.standing === 'in_grace' && late > 0) {
    if (currency !== input.base_currency)
      errors.push({ field: 'currency', reason: `the late fee has no price in ${currency} (it is charged in ${input.base_currency} only)` });
    else {
      let minor: number | undefined;
      try {
        minor = toMinor(late, currency);
      } catch {
        errors.push({
          field: 'late_fee',
          reason: `the late fee ${late} is not an amount in ${currency} (${currencyDigits(currency)} decimals at most)`,
        });
      }
      // the late fee goes with the application's fee: its kind and, for coupons limited to some fees, its id
      if (minor !== undefined)
        lines.push({
          type: 'late fee',
          description: 'Late fee',
          fee_kind: purchase.fee_kind,
          quantity: 1,
          unit_amount: minor,
          amount: minor,
        });
    }
  }

  const offer = input.coupon;
  if (offer) {
    const reason = refusal(
      offer,
      [
        { kind: purchase.fee_kind, fee_id: mainFee.id },
        ...(purchase.extra_fees ?? []).map((f) => ({ kind: 'other' as const, fee_id: f.id })),
      ],
      input.date,
      currency,
      input.base_currency,
    );
    if (reason) errors.push({ field: 'coupon_code', reason });
  }
  if (errors.length) return { ok: false, errors };

  const subtotal = lines.reduce((s, l) => s + l.amount, 0);
  if (!offer) return { ok: true, priced: { currency, lines, subtotal, discount_total: 0, total: subtotal } };

  // Each line's discount, then the cap taken from the lines in order.
  const c = offer.coupon;
  const discounts = lines.map((l) => {
    const block = discountFor(c, l.fee_kind!, l.type === 'late fee' ? mainFee.id : l.fee_id);
    if (!block) return 0;
    if (block.discount_type === 'percentage') return Math.min(Math.max(percentOf(l.amount, block.amount), 0), l.amount);
    // a fixed amount is taken once per fee; the late fee is part of the application's (line 0): what its fee left
    const fixed = toMinor(block.amount, input.base_currency) - (l.type === 'late fee' ? lines[0]!.amount : 0);
    return Math.min(Math.max(fixed, 0), l.amount);
  });
  let room = c.maximum_discount === undefined ? Number.POSITIVE_INFINITY : toMinor(c.maximum_discount, input.base_currency);
  for (let i = 0; i < discounts.length; i++) {
    discounts[i] = Math.min(discounts[i]!, room);
    room -= discounts[i]!;
  }
  const discount_total = discounts.reduce((s, d) => s + d, 0);

  if (c.discount_method === 'discount line item') {
    if (discount_total > 0)
      lines.push({
        type: 'discount',
        description: `Coupon ${couponName(c)}`,
        coupon_id: c.id,
        quantity: 1,
        unit_amount: -discount_total,
        amount: -discount_total,
      });
  } else {
    lines.forEach((l, i) => {
      if (discounts[i]! > 0) Object.assign(l, { discount: discounts[i]!, amount: l.amount - discounts[i]! });
    });
  }
  return { ok: true, priced: { currency, lines, subtotal, discount_total, total: subtotal - discount_total, coupon_id: c.id } };
}

/** The totals of a list of lines (an order written by staff, a regenerated one): subtotal, discount_total, total. */
export function totalsOf(lines: LineItem[]): { subtotal: number; discount_total: number; total: number } {
  let subtotal = 0;
  let discount = 0;
  for (const l of lines) {
    if (l.type === 'discount') discount -= l.amount;
    else {
      subtotal += l.quantity * l.unit_amount;
      discount += l.discount ?? 0;
    }
  }
  // a discount never takes the total below zero
  const discount_total = Math.min(Math.max(discount, 0), subtotal);
  return { subtotal, discount_total, total: subtotal - discount_total };
}
