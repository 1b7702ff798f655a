import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors/codes.js';
import { limitRequest } from '../../http/client.js';
import { proofOf } from '../../http/dpop.js';
import { ok } from '../../http/envelope.js';
import type { Services } from '../../http/services.js';
import { STORE_PREFIX, tenantOf } from '../../http/tenant.js';
import { routeSchema } from '../../openapi/document.js';
import { refreshSession } from '../../sessions/rotate.js';

/** Response header of every refresh answer: the grace window in seconds (0: none). */
export const GRACE_HEADER = 'x-refresh-grace-seconds';

/**
 * POST /auth/refresh-token. Needs neither an API key nor a Bearer token: the refresh token is the
 * credential. A Bearer header, if sent (the official SDK does on manual calls), is ignored.
 */
export function registerRefreshToken(app: FastifyInstance, services: Services): void {
  app.post<{ Body: { refresh_token: string } }>(
    `${STORE_PREFIX}/auth/refresh-token`,
    { schema: routeSchema('refresh-token') },
    async (request, reply) => {
      const { refreshes } = services.metrics;
      // A client whose answer was lost may replay the same token only this long after the server
      // rotated it (RFC 9700 §4.14.2 otherwise counts the replay as reuse): it needs the number.
      reply.header(GRACE_HEADER, String(services.sessions.policy.refreshReuseGrace));
      try {
        const tenant = await tenantOf(services, request);
        await limitRequest(
          services,
          tenant,
          request,
          'refreshPerAddress',
          'Too many refreshes from this address; retry later.',
        );
        const result = await refreshSession(
          services.sessions,
          tenant,
          request.body.refresh_token,
          proofOf(request)?.jkt ?? null,
        );
        refreshes.inc({ outcome: result.outcome });
        return ok('Token refreshed successfully', {
          access_token: result.access_token,
          refresh_token: result.refresh_token,
        });
      } catch (error) {
        refreshes.inc({ outcome: error instanceof AppError ? error.code : 'INTERNAL_ERROR' });
        throw error;
      }
    },
  );
}
