import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import { ID_PATTERN } from '../core/ids.js';
import { STATUS_PURPOSES, type StatusPurpose } from '../domain/credentials/openbadge.js';
import type { AppServices } from '../resources/kit/context.js';

/**
 * The routes of portable credentials (services/credentials/):
 * - with a token: a certification's current credential (JSON-LD, or as a download), e-mailing it to
 *   the holder, the tenant's issuer keys (public halves) and their rotation;
 * - public (no token, the public rate limit of http/public.ts, which registers them with its hook):
 *   a credential by id (its own URL), the status lists, the tenant's did:web document and a
 *   verification of a presented credential.
 */
const ErrorRef = { $ref: 'Error#' } as unknown as TSchema;
const anyJson = (description: string) => ({ description, type: 'object', additionalProperties: true }) as unknown as TSchema;
const origin = (req: FastifyRequest) => `${req.protocol}://${req.host}`;

const issuerKey = Type.Object(
  {
    id: Type.String(),
    publicKeyMultibase: Type.String({ description: 'the Ed25519 public key, multibase (z6Mk…)' }),
    did: Type.String({ description: 'the issuer DID this key signs as (did:web with PUBLIC_BASE_URL, else did:key)' }),
    createdAt: Type.String(),
    retiredAt: Type.Union([Type.String(), Type.Null()], { description: 'null for the active key' }),
  },
  { title: 'IssuerKey' },
);
const check = Type.Object({ ok: Type.Boolean(), reason: Type.Optional(Type.String()) });
const verification = Type.Object(
  {
    verified: Type.Boolean({ description: 'every check passed' }),
    checks: Type.Object({
      signature: check,
      issuer: check,
      dates: check,
      status: Type.Object({
        ok: Type.Boolean(),
        reason: Type.Optional(Type.String()),
        revocation: Type.Optional(Type.Boolean({ description: 'the revocation bit is set' })),
        suspension: Type.Optional(Type.Boolean({ description: 'the suspension bit is set' })),
      }),
    }),
    credential_id: Type.Optional(Type.String()),
  },
  { title: 'CredentialVerification' },
);

export function registerCredentialRoutes(app: FastifyInstance, services: AppServices, auth: onRequestHookHandler) {
  const { credentials } = services;
  const tenantId = Type.String({ pattern: ID_PATTERN });
  const certificationId = Type.String({ pattern: services.resource('certifications').resource.idPattern });

  app.get('/certifications/:tenantId/credential/:id', {
    onRequest: auth,
    config: { scope: 'read' },
    schema: {
      tags: ['Certifications'],
      security: [{ bearerAuth: [] }],
      operationId: 'certifications_credential',
      summary: "A certification's digital credential (Open Badges 3.0, signed)",
      description:
        "The OpenBadgeCredential of the certification's current term, signed with the tenant's key (Data Integrity, eddsa-rdfc-2022), with entries in the tenant's revocation and suspension status lists. Issued the first time it is asked for and then the same until the term or its content changes (a renewal or reinstatement, a new name); a new one revokes the one it replaces. A certification that is not valid today (suspended, lapsed, retired) gets no new credential: its latest one is answered, or a 409 when it never had one. download=true answers it as a file (credential-{number}.json).",
      params: Type.Object({ tenantId, id: certificationId }),
      querystring: Type.Object({
        download: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')], { description: 'true: as an attachment' })),
      }),
      response: {
        200: anyJson('the signed OpenBadgeCredential (JSON-LD)'),
        400: ErrorRef,
        401: ErrorRef,
        403: ErrorRef,
        404: ErrorRef,
        409: ErrorRef,
      },
    },
    handler: async (req, reply) => {
      const { id } = req.params as { id: string };
      const row = await credentials.current(req.ctx.tenantId, id, origin(req));
      reply.header('cache-control', 'private, no-store');
      if ((req.query as { download?: string }).download === 'true') {
        const n = String((row.document.credentialSubject as { licenseNumber?: string } | undefined)?.licenseNumber ?? row.id);
        reply
          .type('application/vc+ld+json')
          .header('content-disposition', `attachment; filename="credential-${n.replace(/[^\w.-]/g, '_')}.json"`);
      }
      return row.document;
    },
  });

  app.post('/certifications/:tenantId/credential/:id/email', {
    onRequest: auth,
    config: { scope: 'write' },
    schema: {
      tags: ['Certifications'],
      security: [{ bearerAuth: [] }],
      operationId: 'certifications_emailCredential',
      summary: "E-mail a certification's digital credential to its holder",
      description:
        "Queues an e-mail to the certification's email_address (or email_address given here) with the current credential attached as credential-{number}.json: the e-mail of notice_id when given (its placeholders filled from the certification and its programme), else a short default letter. 409 when there is no address or no credential can be issued.",
      params: Type.Object({ tenantId, id: certificationId }),
      body: Type.Optional(
        Type.Object(
          {
            notice_id: Type.Optional(
              Type.String({ pattern: services.resource('notices').resource.idPattern, description: 'a notice whose e-mail to send' }),
            ),
            email_address: Type.Optional(Type.String({ format: 'email', maxLength: 254, description: "instead of the certification's" })),
          },
          { additionalProperties: false },
        ),
      ),
      response: {
        202: Type.Object({ queued: Type.Boolean(), to: Type.String(), credential_id: Type.String() }),
        400: ErrorRef,
        401: ErrorRef,
        403: ErrorRef,
        404: ErrorRef,
        409: ErrorRef,
      },
    },
    handler: async (req, reply) => {
      const { id } = req.params as { id: string };
      const out = await credentials.email(req.ctx, id, origin(req), (req.body ?? {}) as { notice_id?: string; email_address?: string });
      return reply.code(202).send(out);
    },
  });

  const keyView = (tenant: string) => (k: Awaited<ReturnType<typeof credentials.keys.list>>[number]) => ({
    ...k,
    did: credentials.issuerDid(tenant, k),
  });

  app.get('/settings/:tenantId/issuerKeys', {
    onRequest: auth,
    config: { scope: 'read' },
    schema: {
      tags: ['Settings'],
      security: [{ bearerAuth: [] }],
      operationId: 'settings_issuerKeys',
      summary: "The tenant's credential issuer keys (public halves), newest first",
      description:
        'The Ed25519 keys the tenant signs credentials and status lists with: the active one (retiredAt null), made on first use, and the retired ones, which still verify what they signed. Private keys are stored encrypted under CREDENTIAL_KEY_SECRET and never answered.',
      params: Type.Object({ tenantId }),
      response: { 200: Type.Object({ Count: Type.Integer(), Items: Type.Array(issuerKey) }), 400: ErrorRef, 401: ErrorRef, 403: ErrorRef },
    },
    handler: async (req) => {
      const t = req.ctx.tenantId;
      await credentials.keys.active(t);
      const items = (await credentials.keys.list(t)).map(keyView(t));
      return { Count: items.length, Items: items };
    },
  });

  app.post('/settings/:tenantId/issuerKeys/rotate', {
    onRequest: auth,
    config: { scope: 'admin' },
    schema: {
      tags: ['Settings'],
      security: [{ bearerAuth: [] }],
      operationId: 'settings_rotateIssuerKey',
      summary: 'Rotate the credential issuer key',
      description:
        'A new Ed25519 key becomes the active one (new credentials and status lists are signed with it); the one before is retired but kept, so credentials it signed still verify (did:key is self-contained; the did:web document lists every key).',
      params: Type.Object({ tenantId }),
      response: { 201: issuerKey, 400: ErrorRef, 401: ErrorRef, 403: ErrorRef },
    },
    handler: async (req, reply) => {
      const t = req.ctx.tenantId;
      return reply.code(201).send(keyView(t)(await credentials.rotate(t)));
    },
  });
}

export function registerPublicCredentialRoutes(app: FastifyInstance, services: AppServices, publicRequest: onRequestHookHandler) {
  const { credentials } = services;
  const tenantId = Type.String({ pattern: ID_PATTERN });
  const tags = ['Public credentials'];

  app.get('/credentials/:tenantId/:id', {
    onRequest: publicRequest,
    schema: {
      tags,
      security: [],
      operationId: 'public_credential',
      summary: 'A credential by id, as issued (no token)',
      description:
        "The credential's own URL (its id): the signed OpenBadgeCredential as it was issued. Whether it is valid today is for its status lists to say (or POST /credentials/{tenantId}/verify).",
      params: Type.Object({
        tenantId,
        id: Type.String({
          pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
          description: 'the credential id (a UUID)',
        }),
      }),
      response: { 200: anyJson('the signed OpenBadgeCredential'), 400: ErrorRef, 404: ErrorRef, 429: ErrorRef },
    },
    handler: async (req, reply) => {
      const { id } = req.params as { id: string };
      reply.header('cache-control', 'public, max-age=300');
      return credentials.hosted(req.ctx.tenantId, id);
    },
  });

  app.get('/credentials/:tenantId/status/:purpose/:list', {
    onRequest: publicRequest,
    schema: {
      tags,
      security: [],
      operationId: 'public_statusList',
      summary: 'A status list of the tenant (no token)',
      description:
        'A BitstringStatusListCredential (purpose revocation or suspension; 131,072 entries a list), signed by the tenant, with the bits of today: computed when fetched from the certifications the credentials were issued for, and signed again whenever a bit changed (a suspension, a reinstatement, a lapse, a retirement). Revocation is never undone.',
      params: Type.Object({
        tenantId,
        purpose: Type.Union(STATUS_PURPOSES.map((p) => Type.Literal(p))),
        list: Type.String({ pattern: '^[0-9]{1,6}$', description: 'the list number (0 first)' }),
      }),
      response: { 200: anyJson('the signed BitstringStatusListCredential'), 400: ErrorRef, 404: ErrorRef, 429: ErrorRef },
    },
    handler: async (req, reply) => {
      const p = req.params as { purpose: StatusPurpose; list: string };
      reply.header('cache-control', 'no-cache');
      return credentials.statusList(req.ctx.tenantId, p.purpose, Number(p.list), origin(req));
    },
  });

  app.post('/credentials/:tenantId/verify', {
    onRequest: publicRequest,
    schema: {
      tags,
      security: [],
      operationId: 'public_verifyCredential',
      summary: 'Verify a presented credential (no token)',
      description:
        "The body is a credential as presented (JSON-LD). Each check on its own: signature (the Data Integrity proof over the document as presented), issuer (one of this tenant's DIDs on this server, the proof made by its key), dates (validFrom and validUntil around now) and status (its entries in this tenant's revocation and suspension lists, today). verified: all four passed. Nothing is fetched from the network.",
      params: Type.Object({ tenantId }),
      body: Type.Object({}, { additionalProperties: true, description: 'the credential' }),
      response: { 200: verification, 400: ErrorRef, 429: ErrorRef },
    },
    handler: async (req) => credentials.verify(req.ctx.tenantId, req.body),
  });

  app.get('/issuers/:tenantId/did.json', {
    onRequest: publicRequest,
    schema: {
      tags,
      security: [],
      operationId: 'public_didDocument',
      summary: "The tenant's did:web document (no token)",
      description:
        'With PUBLIC_BASE_URL set, a tenant issues as did:web:{host}:issuers:{tenantId}, which resolves here: every key the tenant has had (Multikey), each an assertion method. Without PUBLIC_BASE_URL, 404 (the issuer is the did:key of its key).',
      params: Type.Object({ tenantId }),
      response: { 200: anyJson('the DID document'), 400: ErrorRef, 404: ErrorRef, 429: ErrorRef },
    },
    handler: async (req, reply) => {
      reply.type('application/did+json');
      return credentials.didDocument(req.ctx.tenantId);
    },
  });
}
