import type { FastifyInstance } from 'fastify';
import { requireApiKey } from '../../http/api-key.js';
import { ok } from '../../http/envelope.js';
import type { Services } from '../../http/services.js';
import { STORE_PREFIX, tenantOf } from '../../http/tenant.js';
import { routeSchema } from '../../openapi/document.js';
import { introspect } from '../../sessions/introspect.js';
import { revokeByToken } from '../../sessions/revoke.js';

const RFC7662_TYPE = 'application/token-introspection+json';

/** True when an Accept header names the bare introspection type (with or without parameters). */
function acceptsBare(accept: string | undefined): boolean {
  return (accept ?? '')
    .split(',')
    .some((range) => range.split(';')[0]!.trim().toLowerCase() === RFC7662_TYPE);
}

type Body = { token?: string; token_type_hint?: 'refresh_token' | 'access_token'; session_id?: string };

/**
 * POST /auth/revoke (RFC 7009) and POST /auth/introspect (RFC 7662), for a storefront's
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

    scope.post<{ Body: Body & { token: string }; Querystring: { format?: 'rfc7662' } }>(
      `${STORE_PREFIX}/auth/introspect`,
      { schema: routeSchema('introspect-token') },
      async (request, reply) => {
        const tenant = await tenantOf(services, request);
        await requireApiKey(services, tenant, request, 'secret');
        const answer = await introspect(
          services.sessions,
          tenant,
          request.body.token,
          request.body.token_type_hint,
        );
        // Gateways' RFC 7662 plugins read the bare §2.2 body; everyone else keeps the envelope.
        if (request.query.format === 'rfc7662' || acceptsBare(request.headers.accept)) {
          reply.type(RFC7662_TYPE);
          return answer;
        }
        return ok('Introspected', answer);
      },
    );
  });
}
