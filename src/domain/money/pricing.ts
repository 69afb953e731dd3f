/**
 * What a purchase costs: the one pure function that every order, every forecast and every billing
 * total uses (price below). Plain data in, plain data out; the day is an argument. Amounts in the
 * catalog's fee records are decimal numbers in the currency's major units (as the catalog defines
 * them); everything this module returns is an integer in minor units (cents), converted once, exactly,
 * by money.ts. No floating-point arithmetic on money after that conversion.
 *
 * CONTRACT (implemented by the pricing helper; see the unit tests beside it).
 */
import type { Standing } from '../lifecycle/standing.js';

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

export declare function price(input: PricingInput): PricingResult;

/**
 * Why a coupon cannot be used for this purchase (inactive, before start_date / after end_date, its
 * usage limit or the holder's reached, applies to none of the purchase's fee kinds or fee ids, a fixed
 * amount or maximum_discount on an order in another currency), or undefined when it can.
 */
export declare function couponRefusal(offer: CouponOffer, purchase: Purchase, date: string, currency: string, base_currency: string): string | undefined;

/** The totals of a list of lines (an order written by staff, a regenerated one): subtotal, discount_total, total. */
export declare function totalsOf(lines: LineItem[]): { subtotal: number; discount_total: number; total: number };
