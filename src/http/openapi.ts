import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';

/**
 * OpenAPI 3.1 generated from the route schemas (the same TypeBox schemas that validate and
 * serialize), served at /openapi.json, with an interactive reference at /docs.
 * Shared schemas keep their $id as component names (BillingRun, BillingRunInput, …).
 */
export async function registerOpenApi(app: FastifyInstance, version: string) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'accredit — Certifications API',
        version,
        description:
          'A self-hostable implementation of the Rhythm Certifications API (v1-2025-04-18). Every route under /{resource}/{tenantId} needs a bearer JWT whose `tenants` claim names the tenant.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    refResolver: { buildLocalReference: (json, _base, _frag, i) => String(json.$id ?? `def-${i}`) },
  });
  // ~500 operations: tags start collapsed (rendering them all expanded takes a browser minutes), the
  // filter box finds a tag by name, and deep links (/docs#/Billing%20Runs) open one directly
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    uiConfig: { docExpansion: 'none', defaultModelsExpandDepth: -1, deepLinking: true, filter: true },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
