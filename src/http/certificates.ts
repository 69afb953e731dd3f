import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import { ID_PATTERN } from '../core/ids.js';
import type { AppServices } from '../resources/kit/context.js';
import { certificateFacts, renderCertificatePdf, renderWalletCardPdf, verifyPageUrl } from '../services/certificates.js';

/**
 * GET /certifications/{tenantId}/certificate/{id}: a certification's PDF certificate (read scope),
 * laid out by domain/registry/certificate-layout.ts and drawn by services/certificates.ts. The QR code encodes the licence's public verify page under
 * PUBLIC_BASE_URL, or under the origin the request came to when it is not set.
 */
const ErrorRef = { $ref: 'Error#' } as unknown as TSchema;

export function registerCertificateRoutes(app: FastifyInstance, services: AppServices, auth: onRequestHookHandler, publicBaseUrl?: string) {
  app.get('/certifications/:tenantId/certificate/:id', {
    onRequest: auth,
    config: { scope: 'read' },
    schema: {
      tags: ['Certifications'],
      security: [{ bearerAuth: [] }],
      operationId: 'certifications_certificate',
      summary: "A certification's certificate as a PDF",
      description:
        "One A4 page in the programme's certificate_design (title, else the programme's name; statement; body with placeholders filled; signatory; accent colour; orientation): the board's logo and name (settings.board_logo; settings.board_name, else the tenant id), the holder (certificate_name, else name), the certificate number, the certification and expiration dates, and a QR code that opens the licence's public verify page (/registry/{tenantId}/verify/{programId}/{number}, under PUBLIC_BASE_URL or the request's origin). A suspended or lapsed certification's PDF states its standing; a retired one, or one without a number yet, is a 409. format=card: the wallet card instead, one bank-card-sized page (85.6 × 54 mm) with the board, programme, holder, number, expiration, standing when not valid, and the same QR code.",
      params: Type.Object({
        tenantId: Type.String({ pattern: ID_PATTERN }),
        id: Type.String({ pattern: services.resource('certifications').resource.idPattern }),
      }),
      querystring: Type.Object({
        format: Type.Optional(
          Type.Union([Type.Literal('certificate'), Type.Literal('card')], {
            description: 'certificate (A4, the default) or card (the wallet card)',
          }),
        ),
      }),
      response: {
        200: { description: 'the certificate', content: { 'application/pdf': { schema: { type: 'string', format: 'binary' } } } },
        400: ErrorRef,
        401: ErrorRef,
        403: ErrorRef,
        404: ErrorRef,
        409: ErrorRef,
      },
    },
    handler: async (req, reply) => {
      const { id } = req.params as { id: string };
      const facts = await certificateFacts(services, req.ctx.tenantId, id);
      const base = publicBaseUrl ?? `${req.protocol}://${req.host}`;
      const card = (req.query as { format?: string }).format === 'card';
      const render = card ? renderWalletCardPdf : renderCertificatePdf;
      const pdf = await render(facts, verifyPageUrl(base, req.ctx.tenantId, facts.programId, facts.number));
      return reply
        .type('application/pdf')
        .header('content-disposition', `inline; filename="${card ? 'wallet-card' : 'certificate'}-${facts.number}.pdf"`)
        .header('cache-control', 'private, no-store')
        .send(pdf);
    },
  });
}
