// The contract, served: GET /openapi.json returns the document buildApp builds (the same
// bytes as the committed openapi/openapi.json), and /docs is a reference page (Swagger UI)
// whose scripts and styles gmemd serves itself from @fastify/swagger-ui's bundled copy, so
// the page works on a host with no route to any CDN. Its "try it" requests go to the
// same origin (the document's server is `/`).
import type { FastifyInstance } from 'fastify';
import swaggerUi from '@fastify/swagger-ui';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { documentText } from './openapi-shape.js';

// The page's files, named here rather than found by the plugin from its own __dirname, which
// a bundle (src/scripts/bundle-server.ts) does not have.
const STATIC = join(dirname(createRequire(import.meta.url).resolve('@fastify/swagger-ui/package.json')), 'static');

export async function registerDocs(app: FastifyInstance) {
  let text: string | undefined;
  app.get('/openapi.json', {
    schema: {
      operationId: 'getOpenApiDocument', tags: ['host'], summary: 'This OpenAPI 3.1 document (the contract the typed client is generated from)',
      response: { 200: { description: 'The OpenAPI document', content: { 'application/json': { schema: { type: 'object' } } } } },
    },
  }, async (_req, reply) => {
    text ??= documentText(app.swagger());
    return reply.type('application/json; charset=utf-8').send(text);
  });

  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // validatorUrl null: Swagger UI would otherwise fetch a badge from validator.swagger.io.
    uiConfig: { deepLinking: true, docExpansion: 'list', tryItOutEnabled: false, displayOperationId: true, validatorUrl: null },
    theme: { title: 'gmemd API reference' },
    baseDir: STATIC,
    logo: { type: 'image/svg+xml', content: readFileSync(join(STATIC, 'logo.svg')) },
  });
}
