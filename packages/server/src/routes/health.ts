import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors/codes.js';
import { ok } from '../http/envelope.js';
import type { Services } from '../http/services.js';
import { STORE_PREFIX, tenantOf } from '../http/tenant.js';
import { openapiJson, routeSchema } from '../openapi/document.js';

/** Liveness, readiness, the OpenAPI document and each store's JWKS. */
export function registerHealthAndDocs(app: FastifyInstance, services: Services): void {
  app.get('/healthz', async () => ok('ok', { status: 'up' }));

  app.get('/readyz', async () => {
    if (!services.isReady()) {
      throw new AppError('SERVICE_UNAVAILABLE', 'Not ready: migrations or keys are still loading.', {
        headers: { 'retry-after': '1' },
      });
    }
    if (services.isDraining()) {
      throw new AppError(
        'SERVICE_UNAVAILABLE',
        'Shutting down: requests are still answered, send new ones elsewhere.',
        {
          headers: { 'retry-after': '1' },
        },
      );
    }
    return ok('ready', { status: 'ready' });
  });

  if (services.config.metricsEnabled) {
    const { registry } = services.metrics;
    app.get('/metrics', async (_request, reply) =>
      reply.type(registry.contentType).send(await registry.metrics()),
    );
  }

  app.get('/openapi.json', async (_request, reply) => reply.type('application/json').send(openapiJson));

  app.get(
    `${STORE_PREFIX}/.well-known/jwks.json`,
    { schema: routeSchema('get-jwks') },
    async (request, reply) => {
      const tenant = await tenantOf(services, request);
      // Verifiers may cache the set for a few minutes; a retiring key stays listed far longer.
      reply.header('cache-control', 'public, max-age=300');
      return tenant.keyring.jwks();
    },
  );
}
