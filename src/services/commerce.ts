import { AppError, invalid, notFound, type FieldError } from '../core/errors.js';
import type { RequestContext } from '../core/context.js';
import type { HookContext } from '../resources/kit/define.js';
import type { AppServices } from '../resources/kit/context.js';
import { fieldsOf } from '../resources/kit/service.js';
import { nextValue } from '../store/counters.js';
import type { Filter, StoredRecord } from '../store/records.js';
import type { Db } from '../store/store.js';
import { standing } from '../domain/lifecycle/standing.js';
import { DomainError, type ExpirationRuleSetLike } from '../domain/lifecycle/expiration.js';
import { renewalPricingInReinstatement } from '../domain/lifecycle/windows.js';
import { toMajor, toMinor } from '../domain/money/money.js';
import {
  BALANCE_STATUSES,
  orderFigures,
  paymentError,
  REDEEMING,
  settlement,
  type OrderLike,
  type PaymentLike,
} from '../domain/money/orders.js';
import {
  couponRefusal,
  price,
  type CouponLike,
  type CouponOffer,
  type FeeKind,
  type FeeLike,
  type LineItem,
  type PricingInput,
  type Purchase,
} from '../domain/money/pricing.js';

type Rec = Record<string, any>;

/** The registrations an order can pay for, with their order field and how their fee is found. */
const REGISTRATIONS = {
  courseRegistrations: { orderField: 'course_registration_id', feeKind: 'course' as FeeKind },
  examRegistrations: { orderField: 'exam_registration_id', feeKind: 'exam' as FeeKind },
} as const;
export type RegistrationSlug = keyof typeof REGISTRATIONS;

/** What the caller of generateOrder may add to the record it names. */
interface OrderOptions {
  coupon_code?: string;
  currency_code?: string;
  is_member?: boolean;
}

const DEFAULT_CURRENCY = 'USD';

/** The object without its undefined members (a field set to undefined is a field removed). */
const defined = (o: Rec): Rec => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** An order's fields for a write that changes what its totals come from: a status that follows the balance is left for the hook to set (the computed fields are never part of a body). */
function recomputed(order: Rec): Rec {
  const out = fieldsOf(order as StoredRecord) as Rec;
  if ((BALANCE_STATUSES as readonly string[]).includes(out.status)) delete out.status;
  return out;
}

/**
 * Orders and payments over the store (routes: the orders, payments and applications definitions'
 * actions, http/webhooks.ts): find what is bought and the buyer's facts, ask domain/money what it
 * costs, write the order; record payments; keep what an order pays for in step with it. Prices come
 * from domain/money/pricing.ts only; the arithmetic of totals and balances from domain/money/orders.ts.
 * Every write goes through the resources' services (validation, references, history) inside one
 * transaction; the coupon row is locked while its redemptions are counted, so its limits hold under
 * concurrent redemption.
 */
export class Commerce {
  constructor(private readonly s: AppServices) {}

  private table(slug: string) {
    return this.s.resource(slug).table;
  }
  private now() {
    return this.s.clock.now();
  }
  private today() {
    return this.now().toISOString().slice(0, 10);
  }
  private column(slug: string, field: string) {
    return this.table(slug).columnOf(field);
  }
  private async must(db: Db, ctx: RequestContext, slug: string, id: unknown, field: string, lock = false): Promise<Rec> {
    if (typeof id !== 'string' || !id) throw invalid([{ field, reason: 'is required' }], 'unprocessable');
    const rec = await this.table(slug).get(db, ctx.tenantId, id, { forUpdate: lock });
    if (!rec) throw invalid([{ field, reason: `${this.s.resource(slug).label} ${id} does not exist` }], 'unprocessable');
    return rec;
  }
  private async optional(db: Db, ctx: RequestContext, slug: string, id: unknown): Promise<Rec | undefined> {
    return typeof id === 'string' && id ? this.table(slug).get(db, ctx.tenantId, id) : undefined;
  }

  /** The tenant's currency (settings.currency_code), USD when it names none. */
  async baseCurrency(db: Db, ctx: RequestContext): Promise<string> {
    const settings = await this.table('settings').get(db, ctx.tenantId, ctx.tenantId);
    return typeof settings?.currency_code === 'string' ? settings.currency_code : DEFAULT_CURRENCY;
  }

  /** The orders of an item (application_id …) that are not cancelled or void: the open one, if any. */
  private async openOrder(db: Db, ctx: RequestContext, field: string, id: string): Promise<StoredRecord | undefined> {
    const orders = await this.table('orders').page(
      db,
      ctx.tenantId,
      [{ column: this.column('orders', field), op: 'in', values: [id] }],
      undefined,
      1000,
    );
    return orders.find((o) => REDEEMING(o.status as string | undefined));
  }

  private options(body: Rec): OrderOptions {
    const errors: FieldError[] = [];
    if (body.coupon_code !== undefined && (typeof body.coupon_code !== 'string' || !body.coupon_code.trim()))
      errors.push({ field: 'coupon_code', reason: 'must be a non-empty string' });
    if (body.currency_code !== undefined && (typeof body.currency_code !== 'string' || !/^[A-Z]{3}$/.test(body.currency_code)))
      errors.push({ field: 'currency_code', reason: 'must be an ISO 4217 code (three capital letters)' });
    if (body.is_member !== undefined && typeof body.is_member !== 'boolean')
      errors.push({ field: 'is_member', reason: 'must be a boolean' });
    if (errors.length) throw invalid(errors);
    return { coupon_code: body.coupon_code?.trim(), currency_code: body.currency_code, is_member: body.is_member };
  }

  private bodyOf(body: unknown): Rec {
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw invalid([{ field: 'body', reason: 'must be a JSON object' }], 'bad_request');
    return body as Rec;
  }

  /**
   * The coupon a code names, locked, with its redemptions so far (all, and by this holder): under the
   * lock two orders cannot both take the last use.
   */
  private async couponOffer(
    db: Db,
    ctx: RequestContext,
    code: string,
    holder: Filter | undefined,
    exceptOrder?: string,
  ): Promise<CouponOffer> {
    const found = await this.table('coupons').page(
      db,
      ctx.tenantId,
      [{ column: this.column('coupons', 'code'), op: 'in', values: [code] }],
      undefined,
      2,
    );
    if (!found.length) throw invalid([{ field: 'coupon_code', reason: `no coupon has the code ${code}` }], 'unprocessable');
    if (found.length > 1) throw invalid([{ field: 'coupon_code', reason: `several coupons have the code ${code}` }], 'unprocessable');
    const coupon = (await this.table('coupons').get(db, ctx.tenantId, found[0]!.id, { forUpdate: true }))!;
    const redeeming: Filter[] = [
      { column: this.column('orders', 'coupon_id'), op: 'in', values: [coupon.id] },
      { column: this.column('orders', 'status'), op: 'ne', value: 'cancelled' },
      { column: this.column('orders', 'status'), op: 'ne', value: 'void' },
      ...(exceptOrder ? [{ column: 'id', op: 'ne', value: exceptOrder } as Filter] : []),
    ];
    const uses = await this.table('orders').count(db, ctx.tenantId, redeeming);
    const usesByHolder = holder ? await this.table('orders').count(db, ctx.tenantId, [...redeeming, holder]) : 0;
    return { coupon: coupon as unknown as CouponLike, uses, uses_by_holder: usesByHolder };
  }

  private holderFilter(owner: Rec): Filter | undefined {
    const [field, value] =
      owner.owner_type === 'organization'
        ? ['organization_id', owner.organization_id]
        : owner.owner_type === 'training provider'
          ? ['training_provider_id', owner.training_provider_id]
          : ['contact_id', owner.contact_id];
    return typeof value === 'string' ? { column: this.column('orders', field), op: 'in', values: [value] } : undefined;
  }

  /** The priced purchase, or a 422 naming the request's fields (pricing's `currency` is the body's currency_code). */
  private priced(input: PricingInput) {
    const r = price(input);
    if (!r.ok)
      throw invalid(
        r.errors.map((e) => (e.field === 'currency' ? { ...e, field: 'currency_code' } : e)),
        'unprocessable',
      );
    return r.priced;
  }

  // ---------------------------------------------------------------- generateOrder

  /** A new order for an item: priced today in the asked currency (the tenant's by default), with the coupon its code names. */
  private async placeOrder(
    db: Db,
    ctx: RequestContext,
    o: { owner: Rec; item: Rec; purchase: Purchase; buyer: PricingInput['buyer']; late_fee?: number; opts: OrderOptions },
  ): Promise<StoredRecord> {
    const base = await this.baseCurrency(db, ctx);
    const today = this.today();
    const code = o.opts.coupon_code;
    const priced = this.priced({
      purchase: o.purchase,
      buyer: o.buyer,
      base_currency: base,
      currency: o.opts.currency_code ?? base,
      late_fee: o.late_fee,
      coupon: code ? await this.couponOffer(db, ctx, code, this.holderFilter(o.owner)) : undefined,
      date: today,
    });
    return this.s.resource('orders').create(
      { ...ctx, via: 'generateOrder' },
      {
        ...o.owner,
        ...o.item,
        date: today,
        currency_code: priced.currency,
        lines: priced.lines,
        ...(priced.coupon_id ? { coupon_id: priced.coupon_id, coupon_code: code } : {}),
      },
      db,
    );
  }

  /**
   * POST /applications/{t}/generateOrder: the body is the application (its id names the stored one;
   * coupon_code, currency_code and is_member may be added). The open order of the application when it
   * has one (no second charge), else a new one priced from its process's fee, the programme's late fee
   * when a renewal is in grace, and the coupon.
   */
  async generateForApplication(ctx: RequestContext, body: unknown) {
    const b = this.bodyOf(body);
    const opts = this.options(b);
    if (typeof b.id !== 'string' || !b.id) throw invalid([{ field: 'id', reason: 'is required: the application to order for' }]);
    return this.s.store.transaction(async (db) => {
      const app = await this.table('applications').get(db, ctx.tenantId, b.id, { forUpdate: true });
      if (!app) throw notFound(this.s.resource('applications').label, b.id);
      const open = await this.openOrder(db, ctx, 'application_id', app.id);
      if (open) return open;
      if (['withdrawn', 'rejected'].includes(app.status as string))
        throw new AppError('conflict', `application ${app.id} is ${app.status}: nothing to pay for`);
      const process = await this.must(db, ctx, 'applicationProcesses', app.process_id, 'process_id');
      const fee = await this.must(db, ctx, 'applicationFees', process.application_fee_id, 'process_id.application_fee_id');
      const program = await this.optional(db, ctx, 'programs', app.program_id);
      const cert = await this.optional(db, ctx, 'certifications', app.certification_id);
      const today = this.today();
      const purchase: Purchase = {
        kind: 'application',
        application_type: app.type as string | undefined,
        fee: fee as unknown as FeeLike,
        fee_kind: 'application',
      };
      let renewalPricing = false;
      if (app.type === 'reinstatement' && program && cert && standing(cert, today) === 'lapsed_reinstatable') {
        const rules = await this.optional(db, ctx, 'expirationRuleSets', program.expiration_rule_set_id);
        // the facts a rule set's conditions see, as activation gives them (services/windows.ts)
        const facts = { ...app, application_type: app.type, application_id: app.id, program_id: program.id };
        let atRenewalPrice: boolean;
        try {
          atRenewalPrice = renewalPricingInReinstatement(rules as ExpirationRuleSetLike | undefined, facts);
        } catch (e) {
          if (e instanceof DomainError) throw invalid([{ field: e.field, reason: e.reason }], 'conflict');
          throw e;
        }
        const renewalFee = atRenewalPrice ? await this.renewalFee(db, ctx, String(program.id)) : undefined;
        if (renewalFee) {
          purchase.renewal_fee = renewalFee as unknown as FeeLike;
          renewalPricing = true;
        }
      }
      const owner = {
        owner_type: app.owner_type === 'organization' ? 'organization' : 'contact',
        contact_id: app.contact_id,
        ...(app.owner_type === 'organization' && app.organization_id ? { organization_id: app.organization_id } : {}),
      };
      const order = await this.placeOrder(db, ctx, {
        owner,
        item: { ...(app.program_id ? { program_id: app.program_id } : {}), application_id: app.id },
        purchase,
        buyer: { member: opts.is_member === true, standing: cert ? standing(cert, today) : undefined, renewal_pricing: renewalPricing },
        late_fee: typeof program?.late_fee === 'number' ? program.late_fee : undefined,
        opts: { ...opts, coupon_code: opts.coupon_code ?? (typeof app.coupon_code === 'string' ? app.coupon_code : undefined) },
      });
      // the order's own hook has written order_id (and, for a free order, the fee as paid)
      const fresh = (await this.table('applications').get(db, ctx.tenantId, app.id))!;
      if (fresh.order_id !== order.id)
        await this.s
          .resource('applications')
          .updateRead({ ...ctx, via: 'generateOrder' }, fresh, { ...fieldsOf(fresh), order_id: order.id }, db);
      return (await this.table('orders').get(db, ctx.tenantId, order.id))!;
    });
  }

  /**
   * The programme's renewal fee: the fee of its active renewal application process (the first by id
   * when it has several). Billing runs price forecasts and reminders with it too.
   */
  async renewalFee(db: Db, ctx: RequestContext, programId: string): Promise<StoredRecord | undefined> {
    const processes = await this.table('applicationProcesses').page(
      db,
      ctx.tenantId,
      [{ column: this.column('applicationProcesses', 'program_id'), op: 'in', values: [programId] }],
      undefined,
      1000,
    );
    const renewal = processes.find((p) => p.type === 'renewal' && p.is_active !== false && p.application_fee_id);
    return renewal ? this.table('applicationFees').get(db, ctx.tenantId, String(renewal.application_fee_id)) : undefined;
  }

  /**
   * POST /courseRegistrations/{t}/generateOrder and /examRegistrations/{t}/generateOrder: as for an
   * application, from the offering's fee (an exam retake: its retest fee); the registration's order_*
   * fields follow the order.
   */
  async generateForRegistration(ctx: RequestContext, slug: RegistrationSlug, body: unknown) {
    const b = this.bodyOf(body);
    const opts = this.options(b);
    if (typeof b.id !== 'string' || !b.id) throw invalid([{ field: 'id', reason: 'is required: the registration to order for' }]);
    const { orderField, feeKind } = REGISTRATIONS[slug];
    return this.s.store.transaction(async (db) => {
      const reg = await this.table(slug).get(db, ctx.tenantId, b.id, { forUpdate: true });
      if (!reg) throw notFound(this.s.resource(slug).label, b.id);
      const open = await this.openOrder(db, ctx, orderField, reg.id);
      if (open) return open;
      if (reg.status === 'cancelled') throw new AppError('conflict', `registration ${reg.id} is cancelled: nothing to pay for`);
      let fee: Rec;
      let retest = false;
      if (slug === 'courseRegistrations') {
        const offering = await this.must(db, ctx, 'courseOfferings', reg.course_offering_id, 'course_offering_id');
        fee = await this.must(db, ctx, 'courseFees', offering.fee_id, 'course_offering_id.fee_id');
      } else {
        const offering = await this.must(db, ctx, 'examOfferings', reg.exam_offering_id, 'exam_offering_id');
        const process = await this.optional(db, ctx, 'examRegProcesses', reg.process_id);
        retest = process?.type === 'retest';
        fee = await this.must(
          db,
          ctx,
          'examFees',
          retest ? offering.retest_fee_id : offering.fee_id,
          `exam_offering_id.${retest ? 'retest_fee_id' : 'fee_id'}`,
        );
      }
      const owner = {
        owner_type: 'contact',
        contact_id: reg.student_id,
      };
      const order = await this.placeOrder(db, ctx, {
        owner,
        item: { ...(reg.training_provider_id ? { training_provider_id: reg.training_provider_id } : {}), [orderField]: reg.id },
        purchase: {
          kind: slug === 'courseRegistrations' ? 'course registration' : 'exam registration',
          retest,
          fee: fee as unknown as FeeLike,
          fee_kind: feeKind,
        },
        buyer: { member: opts.is_member === true },
        opts,
      });
      return (await this.table('orders').get(db, ctx.tenantId, order.id))!;
    });
  }

  /**
   * A training provider's invoice (a billing run's bill_training_providers) as the provider's order:
   * one line per billed registration, in the tenant's currency, awaiting payment.
   */
  async invoiceOrder(db: Db, ctx: RequestContext, invoice: Rec, currency: string): Promise<StoredRecord> {
    const kind: Record<string, FeeKind> = { course_fee: 'course', live_exam_fee: 'exam', retest_fee: 'exam' };
    const lines = (invoice.lines as Rec[]).map((l) => {
      const amount = toMinor(Number(l.amount), currency);
      return {
        type: 'registration',
        description: String(l.description ?? `${l.registration_service} ${l.registration_id}`),
        fee_kind: kind[l.fee_type] ?? 'other',
        registration_service: l.registration_service,
        registration_id: l.registration_id,
        quantity: 1,
        unit_amount: amount,
        amount,
      };
    });
    return this.s.resource('orders').create(
      { ...ctx, via: 'billing run' },
      {
        owner_type: 'training provider',
        training_provider_id: invoice.training_provider_id,
        invoice_id: invoice.id,
        date: invoice.date,
        currency_code: currency,
        lines,
      },
      db,
    );
  }

  // ---------------------------------------------------------------- coupons

  /** POST /orders/{t}/applyCoupon/{id}: the order priced again with the coupon (an unpaid order only). */
  async applyCoupon(ctx: RequestContext, id: string, body: unknown) {
    const b = this.bodyOf(body);
    if (typeof b.coupon_code !== 'string' || !b.coupon_code.trim()) throw invalid([{ field: 'coupon_code', reason: 'is required' }]);
    const code = b.coupon_code.trim();
    return this.s.store.transaction(async (db) => {
      const order = await this.table('orders').get(db, ctx.tenantId, id, { forUpdate: true });
      if (!order) throw notFound(this.s.resource('orders').label, id);
      if (!REDEEMING(order.status as string | undefined)) throw new AppError('conflict', `order ${id} is ${order.status}`);
      if (order.amount_paid) throw new AppError('conflict', `order ${id} has payments: refund them before the price changes`);
      if (order.coupon_id)
        throw new AppError('conflict', `order ${id} has a coupon already (${order.coupon_code ?? order.coupon_id}): one coupon per order`);
      const offer = await this.couponOffer(db, ctx, code, this.holderFilter(order), order.id);
      const lines = (order.lines as LineItem[]).filter((l) => l.type !== 'discount');
      const repriced = this.reprice(order, lines, offer, await this.baseCurrency(db, ctx));
      return this.s
        .resource('orders')
        .updateRead(
          { ...ctx, via: 'applyCoupon' },
          order,
          { ...recomputed(order), lines: repriced.lines, coupon_id: offer.coupon.id, coupon_code: code },
          db,
        );
    });
  }

  /**
   * The order's fee lines priced again with a coupon: each line is offered to pricing as a fee of its
   * kind at its own unit amount (in the order's currency, which pricing then takes as its base), so
   * the coupon sees what was priced. Whether the coupon may be used at all is asked with the tenant's
   * real currency first (a fixed amount is in that currency only).
   */
  private reprice(order: Rec, lines: LineItem[], offer: CouponOffer, base: string) {
    const currency = String(order.currency_code);
    const asFee = (l: LineItem): FeeLike => ({
      id: l.fee_id ?? l.description,
      name: l.description,
      price: toMajor(l.unit_amount, currency),
    });
    const feeLines = lines.filter((l) => l.type === 'fee');
    const late = lines.find((l) => l.type === 'late fee');
    const [first, ...rest] = feeLines;
    if (!first) throw new AppError('conflict', `order ${order.id} has no fee line a coupon could discount`);
    const purchase: Purchase = {
      kind: 'other',
      application_type: late ? 'renewal' : undefined,
      fee: asFee(first),
      fee_kind: first.fee_kind ?? 'other',
      extra_fees: rest.map(asFee),
    };
    const refusal = couponRefusal(offer, purchase, this.today(), currency, base);
    if (refusal) throw invalid([{ field: 'coupon_code', reason: refusal }], 'unprocessable');
    return this.priced({
      purchase,
      buyer: { member: false, standing: late ? 'in_grace' : undefined },
      base_currency: currency,
      currency,
      late_fee: late ? toMajor(late.unit_amount, currency) : undefined,
      coupon: offer,
      date: this.today(),
    });
  }

  // ---------------------------------------------------------------- hooks: orders

  /** Before an order is written: its number, date and status on create; its totals from the lines and its payments. */
  async orderValidate(h: HookContext) {
    const next = h.next as Rec | undefined;
    if (h.op === 'delete') {
      if (h.old?.amount_paid) throw new AppError('conflict', `order ${h.old.id} has payments: cancel it instead (and refund)`);
      return;
    }
    if (!next) return;
    const paid =
      h.op === 'create'
        ? 0
        : (
            await this.table('payments').page(
              h.db,
              h.ctx.tenantId,
              [{ column: this.column('payments', 'order_id'), op: 'in', values: [next.id] }],
              undefined,
              100_000,
            )
          ).reduce((sum, p) => sum + Number(p.amount), 0);
    const figures = orderFigures(next as OrderLike, paid, h.old as OrderLike | undefined, this.now().toISOString(), h.op === 'patch');
    if (figures.errors.length) throw invalid(figures.errors, h.op === 'patch' ? 'unprocessable' : 'validation');
    Object.assign(next, figures.values);
    if (h.op === 'create') {
      if (next.number === undefined) next.number = await nextValue(h.db, h.ctx.tenantId, 'orders', 1);
      if (next.date === undefined) next.date = this.today();
    }
  }

  /** After an order is written: what it pays for follows it (an application's fee, a registration's order fields). */
  async orderAfter(h: HookContext) {
    const order = h.next as Rec | undefined;
    if (!order) return;
    const ctx = { ...h.ctx, via: 'order' };
    if (typeof order.application_id === 'string') {
      const app = await this.table('applications').get(h.db, h.ctx.tenantId, order.application_id, { forUpdate: true });
      if (!app) return;
      const change = settlement(order as OrderLike, app.fee_paid_date as string | undefined, app.order_id as string | undefined);
      if (change) await this.s.resource('applications').updateRead(ctx, app, defined({ ...fieldsOf(app), ...change }), h.db);
    }
    for (const [slug, { orderField }] of Object.entries(REGISTRATIONS)) {
      const id = order[orderField];
      if (typeof id !== 'string') continue;
      const reg = await this.table(slug).get(h.db, h.ctx.tenantId, id, { forUpdate: true });
      if (!reg) continue;
      const currency = String(order.currency_code);
      const copy: Rec = {
        order_id: order.id,
        order_number: order.number,
        order_status: order.status,
        order_total: toMajor(order.total, currency),
        order_amount_paid: Math.max(0, toMajor(order.amount_paid, currency)),
        order_balance_due: toMajor(order.balance_due, currency),
        order_currency_code: currency,
      };
      // Exam registrations carry fewer order_* copies than course registrations: only theirs are written.
      const fields = this.s.resource(slug).resource.def.fields;
      for (const k of Object.keys(copy)) if (!(k in fields)) delete copy[k];
      if (Object.entries(copy).every(([k, v]) => reg[k] === v)) continue;
      await this.s.resource(slug).updateRead(ctx, reg, { ...fieldsOf(reg), ...copy }, h.db);
    }
  }

  // ---------------------------------------------------------------- hooks: payments

  /** First in a payment's write: its order locked (two payments of one order queue; see WriteHooks.lock). */
  async paymentLock(h: HookContext) {
    const orderId = (h.next as Rec | undefined)?.order_id;
    if (typeof orderId === 'string') await this.table('orders').get(h.db, h.ctx.tenantId, orderId, { forUpdate: true });
  }

  /** Before a payment is written: append-only; the order exists, takes payments, in its currency; a refund has a reason and does not pay back more than was paid. */
  async paymentValidate(h: HookContext) {
    if (h.op !== 'create') return; // appendOnly: only its sys_* fields (sys_locked) can change
    const p = h.next as Rec;
    const order = await this.table('orders').get(h.db, h.ctx.tenantId, String(p.order_id), { forUpdate: true });
    if (!order) throw invalid([{ field: 'order_id', reason: `order ${p.order_id} does not exist` }]);
    const why = paymentError(p as PaymentLike, order as OrderLike);
    if (why) throw invalid([why], 'unprocessable');
    if (p.date === undefined) p.date = this.now().toISOString();
    if (p.contact_id === undefined && typeof order.contact_id === 'string') p.contact_id = order.contact_id;
  }

  /** After a payment: its order is written again (the order's hook sums its payments; what it pays for follows). */
  async paymentAfter(h: HookContext) {
    const p = h.next as Rec;
    const order = (await this.table('orders').get(h.db, h.ctx.tenantId, String(p.order_id), { forUpdate: true }))!;
    await this.s.resource('orders').updateRead({ ...h.ctx, via: 'payment' }, order, recomputed(order), h.db);
  }

  // ---------------------------------------------------------------- Stripe

  /**
   * A payment reported by Stripe (a verified event, http/webhooks.ts): recorded once. The event id and
   * the PaymentIntent id are unique among payments, so a replay, or the same payment reported by two
   * events (checkout.session.completed, then payment_intent.succeeded), finds the first one.
   */
  async stripePayment(
    ctx: RequestContext,
    e: { eventId: string; paymentId?: string; orderId: string; amount: number; currency: string; reference?: string },
  ): Promise<{ recorded: boolean; payment: StoredRecord }> {
    const seen = async (db: Db) => {
      for (const [field, value] of [
        ['provider_event_id', e.eventId],
        ['provider_payment_id', e.paymentId],
      ] as const) {
        if (!value) continue;
        const [p] = await this.table('payments').page(
          db,
          ctx.tenantId,
          [{ column: this.column('payments', field), op: 'in', values: [value] }],
          undefined,
          1,
        );
        if (p) return p;
      }
      return undefined;
    };
    try {
      return await this.s.store.transaction(async (db) => {
        const before = await seen(db);
        if (before) return { recorded: false, payment: before };
        const payment = await this.s.resource('payments').create(
          { ...ctx, via: 'stripe' },
          {
            order_id: e.orderId,
            amount: e.amount,
            currency_code: e.currency.toUpperCase(),
            method: 'stripe',
            provider: 'stripe',
            provider_event_id: e.eventId,
            ...(e.paymentId ? { provider_payment_id: e.paymentId } : {}),
            ...(e.reference ? { reference: e.reference } : {}),
          },
          db,
        );
        return { recorded: true, payment };
      });
    } catch (err) {
      // the same event delivered twice at once: the unique index let one in; the other finds it
      if (err instanceof AppError && err.kind === 'conflict') {
        const first = await this.s.store.transaction(seen);
        if (first) return { recorded: false, payment: first };
      }
      throw err;
    }
  }
}
