import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Stripe from 'stripe';
import { AppError, invalid } from '../core/errors.js';
import { ID_PATTERN } from '../core/ids.js';
import type { AppServices } from '../resources/kit/context.js';

/**
 * Payment providers' webhooks: `POST /webhooks/{tenantId}/stripe`. No token: the request is
 * authenticated by its Stripe-Signature header, checked over the raw body with the endpoint's signing
 * secret (STRIPE_WEBHOOK_SECRET) by the official `stripe` package — so this scope reads the body as
 * bytes, not JSON. A bad or missing signature is a 400 and changes nothing.
 *
 * Events that pay an order (its id in the metadata's order_id, or a Checkout Session's
 * client_reference_id): `checkout.session.completed` with payment_status paid, and
 * `payment_intent.succeeded`. Each records one payment (services/commerce.ts): the event id and the
 * PaymentIntent id are unique among payments, so a replayed event, or both events of one payment,
 * record it once. Other events are acknowledged and ignored (Stripe stops resending them).
 */
const ErrorRef = { $ref: 'Error#' } as unknown as TSchema;

interface PaymentEvent {
  orderId?: string;
  tenantId?: string;
  amount: unknown;
  currency: unknown;
  paymentId?: string;
  reference?: string;
}

/** The payment an event reports, or why it reports none. */
function paymentOf(event: Stripe.Event): PaymentEvent | { ignored: string } {
  if (event.type === 'checkout.session.completed') {
    const s = event.data.object as Stripe.Checkout.Session;
    if (s.payment_status !== 'paid') return { ignored: `checkout session ${s.id} is ${s.payment_status}` };
    return {
      orderId: s.metadata?.order_id ?? s.client_reference_id ?? undefined,
      tenantId: s.metadata?.tenant_id,
      amount: s.amount_total,
      currency: s.currency,
      paymentId: typeof s.payment_intent === 'string' ? s.payment_intent : s.payment_intent?.id,
      reference: s.id,
    };
  }
  if (event.type === 'payment_intent.succeeded') {
    const pi = event.data.object as Stripe.PaymentIntent;
    return {
      orderId: pi.metadata?.order_id,
      tenantId: pi.metadata?.tenant_id,
      amount: pi.amount_received ?? pi.amount,
      currency: pi.currency,
      paymentId: pi.id,
      reference: pi.id,
    };
  }
  return { ignored: `event type ${event.type}` };
}

export function registerWebhookRoutes(app: FastifyInstance, services: AppServices, secret: string | undefined) {
  return app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    scope.post('/webhooks/:tenantId/stripe', {
      onRequest: async (req: FastifyRequest) => {
        const tenantId = (req.params as { tenantId: string }).tenantId;
        req.ctx = {
          tenantId,
          actor: { sub: 'stripe', tenants: [tenantId], scopes: new Set() },
          requestId: String(req.id),
          clientIp: req.ip,
        };
      },
      schema: {
        tags: ['Payments'],
        security: [],
        operationId: 'payments_stripeWebhook',
        summary: 'Stripe webhook: a signed event that pays an order records its payment once (no token)',
        description:
          "Configure this URL as a Stripe webhook endpoint for checkout.session.completed and payment_intent.succeeded, with the order's id in the metadata (order_id; tenant_id optional) or as the Checkout Session's client_reference_id. The Stripe-Signature header is verified with STRIPE_WEBHOOK_SECRET: a bad one is a 400 and changes nothing. The event id is the idempotency key (a replay answers recorded: false), and one PaymentIntent is recorded once whichever events report it. Other event types are acknowledged and ignored. Without STRIPE_WEBHOOK_SECRET the route is a 404.",
        params: Type.Object({ tenantId: Type.String({ pattern: ID_PATTERN }) }),
        headers: Type.Object({ 'stripe-signature': Type.Optional(Type.String()) }),
        body: Type.Unknown({ description: 'the Stripe event, exactly as Stripe sent it (its bytes are signed)' }),
        response: {
          200: Type.Object({
            received: Type.Boolean(),
            recorded: Type.Boolean({ description: 'a payment was recorded now (false: ignored, or recorded before)' }),
            ignored: Type.Optional(Type.String()),
            payment_id: Type.Optional(Type.String()),
            order_id: Type.Optional(Type.String()),
          }),
          400: ErrorRef,
          404: ErrorRef,
          409: ErrorRef,
          422: ErrorRef,
        },
      },
      handler: async (req) => {
        if (!secret) throw new AppError('not_found', 'Stripe webhooks are not configured (STRIPE_WEBHOOK_SECRET)');
        const raw = req.body;
        if (!Buffer.isBuffer(raw) || raw.length === 0)
          throw invalid([{ field: '(body)', reason: 'the signed Stripe event is required' }], 'bad_request');
        const signature = req.headers['stripe-signature'];
        if (typeof signature !== 'string' || !signature)
          throw invalid([{ field: 'stripe-signature', reason: 'is required (the header Stripe signs each event with)' }], 'bad_request');
        let event: Stripe.Event;
        try {
          event = Stripe.webhooks.constructEvent(raw, signature, secret);
        } catch (e) {
          throw invalid([{ field: 'stripe-signature', reason: `does not verify: ${(e as Error).message.split('\n')[0]}` }], 'bad_request');
        }
        const p = paymentOf(event);
        if ('ignored' in p) return { received: true, recorded: false, ignored: p.ignored };
        const at = (f: string) => `data.object.${f}`;
        const errors = [];
        if (!p.orderId)
          errors.push({ field: at('metadata.order_id'), reason: 'names no order (metadata.order_id or client_reference_id)' });
        if (p.tenantId !== undefined && p.tenantId !== req.ctx.tenantId)
          errors.push({ field: at('metadata.tenant_id'), reason: `is not this endpoint's tenant ${req.ctx.tenantId}` });
        if (!Number.isSafeInteger(p.amount) || (p.amount as number) <= 0)
          errors.push({ field: at('amount'), reason: 'must be a positive integer (minor units)' });
        if (typeof p.currency !== 'string' || !/^[a-z]{3}$/i.test(p.currency))
          errors.push({ field: at('currency'), reason: 'must be an ISO 4217 code' });
        if (errors.length) throw invalid(errors, 'unprocessable');
        const r = await services.commerce.stripePayment(req.ctx, {
          eventId: event.id,
          paymentId: p.paymentId,
          orderId: p.orderId!,
          amount: p.amount as number,
          currency: p.currency as string,
          reference: p.reference,
        });
        return { received: true, recorded: r.recorded, payment_id: r.payment.id, order_id: String(r.payment.order_id) };
      },
    });
  });
}
