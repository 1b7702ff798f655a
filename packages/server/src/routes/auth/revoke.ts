import type { FastifyInstance } from 'fastify';
import { requireApiKey } from '../../http/api-key.js';
import { ok } from '../../http/envelope.js';
import type { Services } from '../../http/services.js';
import { STORE_PREFIX, tenantOf } from '../../http/tenant.js';
import { routeSchema } from '../../openapi/document.js';
import { introspect } from '../../sessions/introspect.js';
import { revokeByToken } from '../../sessions/revoke.js';

type Body = { token?: string; token_type_hint?: 'refresh_token' | 'access_token'; session_id?: string };

/**
 * POST /auth/revoke (RFC 7009) and POST /auth/introspect (RFC 7662 style), for a storefront's
 * back end: both need a secret API key of the store. Bodies are JSON or, as the RFCs send them,
 * application/x-www-form-urlencoded.
 */
export async function registerRevokeAndIntrospect(app: FastifyInstance, services: Services): Promise<void> {
  await app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );

    scope.post<{ Body: Body }>(
      `${STORE_PREFIX}/auth/revoke`,
      { schema: routeSchema('revoke-token') },
      async (request) => {
        const tenant = await tenantOf(services, request);
        await requireApiKey(services, tenant, request, 'secret');
        const { token, token_type_hint: hint, session_id: sessionId } = request.body;
        await revokeByToken(services.sessions, tenant, {
          ...(token !== undefined ? { token } : {}),
          ...(hint ? { hint } : {}),
          ...(sessionId !== undefined ? { sessionId } : {}),
        });
        // RFC 7009 §2.2: the same answer whether or not there was anything to revoke.
        return ok('Revoked', {});
      },
    );

    scope.post<{ Body: Body & { token: string } }>(
      `${STORE_PREFIX}/auth/introspect`,
      { schema: routeSchema('introspect-token') },
      async (request) => {
        const tenant = await tenantOf(services, request);
        await requireApiKey(services, tenant, request, 'secret');
        return ok(
          'Introspected',
          await introspect(services.sessions, tenant, request.body.token, request.body.token_type_hint),
        );
      },
    );
  });
}
