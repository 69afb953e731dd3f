import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import { ID_PATTERN } from '../core/ids.js';
import type { AppServices } from '../resources/kit/context.js';
import {
  PUBLIC_COURSE_OFFERING_FIELDS,
  STORE_EXAM_FIELDS,
  STORE_FEE_FIELDS,
  STORE_OFFERING_FIELDS,
} from '../domain/registry/storefront.js';
import { PUBLIC_PAGE_DEFAULT, PUBLIC_PAGE_MAX } from '../services/registry.js';
import { STORE_MAX_EXAMS, STORE_MAX_FEES, STORE_MAX_OFFERINGS, type OnlineStoreQuery } from '../services/storefront.js';

/**
 * The catalog's two public routes beyond the registry (no token, the public rate limit of
 * http/public.ts, which registers them with its hook):
 * - GET /courseOfferings/{tenantId}/public/event/{event_id} (listOfferingsByEventIdPublic): a conference
 *   event's published course offerings, paged;
 * - POST /examFees/{tenantId}/public/onlineStore (getFeesForOnlineStore): exams, their fees on sale and
 *   their exam offerings to come.
 * What is shown is domain/registry/storefront.ts's; the response schemas repeat the whitelists, so a
 * field outside them is never serialized.
 */
const ErrorRef = { $ref: 'Error#' } as unknown as TSchema;

/** `{ id, …fields }` with the definition's schemas of the listed fields, nothing else. */
function whitelist(services: AppServices, slug: string, fields: readonly string[], title: string) {
  const defined = services.resource(slug).resource.def.fields;
  return Type.Object(
    {
      id: Type.String(),
      ...Object.fromEntries(fields.filter((f) => f !== 'id').map((f) => [f, Type.Optional(defined[f]!)])),
    },
    { additionalProperties: false, title },
  );
}

export function registerStorefrontRoutes(app: FastifyInstance, services: AppServices, publicRequest: onRequestHookHandler) {
  const { storefront } = services;
  const tenantId = Type.String({ pattern: ID_PATTERN });
  const id = Type.String({ pattern: ID_PATTERN });

  const offering = whitelist(services, 'courseOfferings', PUBLIC_COURSE_OFFERING_FIELDS, 'PublicCourseOffering');
  app.get('/courseOfferings/:tenantId/public/event/:event_id', {
    onRequest: publicRequest,
    schema: {
      tags: ['Course Offerings'],
      // the catalog's operation names (docs/api.md: <slug>_<operation>)
      operationId: 'courseOfferings_listOfferingsByEventIdPublic',
      security: [],
      summary: "List a conference event's published course offerings (no token)",
      description: `Offerings with event_id = event_id, publish_to_portal true and is_active not false, in id order; only the fields a portal shows (${PUBLIC_COURSE_OFFERING_FIELDS.join(', ')}). fields= narrows them; limit (default ${PUBLIC_PAGE_DEFAULT}, at most ${PUBLIC_PAGE_MAX}) and exclusiveStartKey page. Limited per client address with the public registry (429 with Retry-After).`,
      params: Type.Object({ tenantId, event_id: id }),
      querystring: Type.Object(
        {
          fields: Type.Optional(Type.String({ maxLength: 4000, description: 'comma-separated fields to return (of those above)' })),
          exclusiveStartKey: Type.Optional(Type.String({ maxLength: 512, description: 'LastEvaluatedKey of the previous page' })),
          limit: Type.Optional(
            Type.String({ pattern: '^[0-9]{1,6}$', description: `page size (default ${PUBLIC_PAGE_DEFAULT}, at most ${PUBLIC_PAGE_MAX})` }),
          ),
        },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({ Count: Type.Integer(), Items: Type.Array(offering), LastEvaluatedKey: Type.Optional(Type.String()) }),
        400: ErrorRef,
        429: ErrorRef,
      },
    },
    handler: (req) => {
      const { event_id } = req.params as { event_id: string };
      return storefront.eventOfferings(req.ctx.tenantId, event_id, req.query as Record<string, string>);
    },
  });

  app.post('/examFees/:tenantId/public/onlineStore', {
    onRequest: publicRequest,
    schema: {
      tags: ['Exam Fees'],
      operationId: 'examFees_getFeesForOnlineStore',
      security: [],
      summary: 'The online store: exams, their fees on sale and their exam offerings to come (no token)',
      description: `exam_restriction include (the default): the exams named in exam_ids; exclude: every other exam; none: every exam (exam_ids ignored). Listed: exams not inactive; fees with publish_to_portal true, not inactive and inside their portal window (portal_options); exam offerings not inactive whose date is today or later. An offering names fee_id / retest_fee_id only when that fee is listed. At most ${STORE_MAX_EXAMS} exams, ${STORE_MAX_FEES} fees and ${STORE_MAX_OFFERINGS} offerings, in id order. Limited per client address with the public registry (429 with Retry-After).`,
      params: Type.Object({ tenantId }),
      body: Type.Object(
        {
          exam_ids: Type.Array(Type.String({ pattern: ID_PATTERN }), {
            maxItems: 100,
            description: 'exams (ids) the restriction applies to',
          }),
          exam_restriction: Type.Optional(Type.String({ enum: ['exclude', 'include', 'none'], default: 'include' })),
        },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object(
          {
            exams: Type.Array(whitelist(services, 'exams', STORE_EXAM_FIELDS, 'OnlineStoreExam')),
            fees: Type.Array(whitelist(services, 'examFees', STORE_FEE_FIELDS, 'OnlineStoreFee')),
            offerings: Type.Array(whitelist(services, 'examOfferings', STORE_OFFERING_FIELDS, 'OnlineStoreOffering')),
          },
          { title: 'OnlineStore' },
        ),
        400: ErrorRef,
        413: ErrorRef,
        415: ErrorRef,
        429: ErrorRef,
      },
    },
    handler: (req) => storefront.onlineStore(req.ctx.tenantId, req.body as OnlineStoreQuery),
  });
}
