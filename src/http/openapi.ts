import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import { RESOURCES } from '../resources/index.js';

/**
 * OpenAPI 3.1 generated from the route schemas (the same TypeBox schemas that validate and
 * serialize), served at /openapi.json, with an interactive reference at /docs.
 * Shared schemas keep their $id as component names (BillingRun, BillingRunInput, …). Every operation
 * has an operationId (`<slug>_<operation>`, see docs/api.md); `servers` is PUBLIC_BASE_URL, or `/`
 * (the host that served the document).
 */
export async function registerOpenApi(app: FastifyInstance, version: string, publicBaseUrl?: string) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'accredit — Certifications API',
        version,
        description:
          'A self-hostable implementation of the Rhythm Certifications API (v1-2025-04-18). Every route under /{resource}/{tenantId} needs a bearer JWT whose `tenants` claim names the tenant.',
        // the project's licence (package.json), as an SPDX identifier
        license: { name: 'MIT', identifier: 'MIT' },
      },
      servers: [{ url: publicBaseUrl ?? '/', description: publicBaseUrl ? 'PUBLIC_BASE_URL' : 'the server that serves this document' }],
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    // a base URL with a path must not be cut from the routes' own paths
    stripBasePath: false,
    refResolver: { buildLocalReference: (json, _base, _frag, i) => String(json.$id ?? `def-${i}`) },
    transformObject: (d) => ('openapiObject' in d ? { ...d.openapiObject, tags: tagsOf(d.openapiObject as OpenApiDoc) } : d.swaggerObject),
  });
  // /docs and everything under it: @fastify/swagger-ui in an instance of its own, built on the first
  // request and answering through inject. Loading it (with @fastify/static) at start-up cost every
  // start 65 ms for a page few requests ever ask for.
  let docs: Promise<FastifyInstance> | undefined;
  const docsApp = () =>
    (docs ??= buildDocsApp(app).catch((e) => {
      docs = undefined;
      throw e;
    }));
  const forward = async (req: FastifyRequest, reply: FastifyReply) => {
    const res = await (await docsApp()).inject({ method: 'GET', url: req.url, headers: req.headers });
    // a file the UI does not have: the API's own 404, not the instance's default body
    if (res.statusCode === 404) return reply.callNotFound();
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) reply.header(k, v);
    return reply.code(res.statusCode).send(res.rawPayload);
  };
  app.get('/docs', { schema: { hide: true } }, forward);
  app.get('/docs/*', { schema: { hide: true } }, forward);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

type OpenApiDoc = { paths?: Record<string, Record<string, { tags?: string[] }>> };
const TAG_DESCRIPTIONS = new Map([
  ...RESOURCES.flatMap((r) => (r.def.description ? [[r.def.name, r.def.description.join('\n\n')] as const] : [])),
  // the route families beyond resources
  ['Executions', "Background work a request started (a billing run's refresh or execute): its status and progress, or a stream of them."],
  ['Queries', 'Saved queries (Query Definitions) run in the background over one resource; the result is downloaded as JSON or CSV.'],
  [
    'Public registry',
    'What a tenant publishes without a token: public directories and certificate verification, limited per client address.',
  ],
  [
    'Public registry pages',
    'The public registry as HTML pages for people (text/html, not JSON): find a licensee, verify a licence. No token; the same per-address limit.',
  ],
  [
    'Public credentials',
    "What a verifier of a tenant's Open Badges 3.0 credentials reads without a token: a credential at its own URL, the revocation and suspension status lists, the tenant's did:web document, and a verification of a presented credential. The same per-address limit.",
  ],
  ['Bulk loads', 'CSV or JSON Lines files loaded into a resource in the background, and exports of a resource in the same formats.'],
]);

/** Every tag in the order the operations first name it (the order /docs shows), with its resource's description. */
function tagsOf(doc: OpenApiDoc) {
  const names = new Set<string>();
  for (const ops of Object.values(doc.paths ?? {})) for (const op of Object.values(ops)) for (const t of op.tags ?? []) names.add(t);
  return [...names].map((name) => (TAG_DESCRIPTIONS.has(name) ? { name, description: TAG_DESCRIPTIONS.get(name)! } : { name }));
}

/** Set again by the server that sends the forwarded answer. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'date', 'content-length']);

async function buildDocsApp(app: FastifyInstance): Promise<FastifyInstance> {
  const { default: swaggerUi } = await import('@fastify/swagger-ui');
  const docs = Fastify({ logger: false, exposeHeadRoutes: false });
  // swagger-ui needs @fastify/swagger on its instance: the main app's document stands in for it
  await docs.register(
    fp(async (f) => void f.decorate('swagger', ((opts?: { yaml?: boolean }) => app.swagger(opts as never)) as never), {
      name: '@fastify/swagger',
    }),
  );
  // ~500 operations: tags start collapsed (rendering them all expanded takes a browser minutes), the
  // filter box finds a tag by name, and deep links (/docs#/Billing%20Runs) open one directly
  await docs.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    uiConfig: { docExpansion: 'none', defaultModelsExpandDepth: -1, deepLinking: true, filter: true },
  });
  await docs.ready();
  return docs;
}
