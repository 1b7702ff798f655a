import type { FastifyInstance } from 'fastify';
import { requireApiKey } from '../../http/api-key.js';
import { limitRequest } from '../../http/client.js';
import { bindingContext } from '../../http/dpop.js';
import { ok } from '../../http/envelope.js';
import type { Services } from '../../http/services.js';
import { bearerToken, STORE_PREFIX, tenantOf } from '../../http/tenant.js';
import type { UserRecord } from '../../model.js';
import { routeSchema } from '../../openapi/document.js';
import { startAnonymousSession } from '../../sessions/anonymous.js';

export function anonymousUserView(user: UserRecord) {
  return {
    id: user.id,
    is_anonymous: user.isAnonymous,
    is_logged_in: !user.isAnonymous,
    first_name: user.firstName,
    last_name: user.lastName,
    phone: user.phone,
    email: user.email,
    is_email_verified: user.isEmailVerified,
    is_phone_verified: user.isPhoneVerified,
    profile_image_url: null,
    created_at: new Date(user.createdAt).toISOString(),
    modified_at: new Date(user.modifiedAt).toISOString(),
  };
}

/** POST /auth/anonymous: the store's public API key in X-Api-Key; no body, any Content-Type. */
export async function registerAnonymous(app: FastifyInstance, services: Services): Promise<void> {
  await app.register(async (scope) => {
    // The official SDK sends `Content-Type: application/json` with no body; others send nothing or
    // something else. The body is ignored, but still bounded by bodyLimit.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) => done(null, undefined));

    scope.post(
      `${STORE_PREFIX}/auth/anonymous`,
      { schema: routeSchema('get-anonymous-token') },
      async (request) => {
        const tenant = await tenantOf(services, request);
        await requireApiKey(services, tenant, request, 'public');
        await limitRequest(
          services,
          tenant,
          request,
          'anonymous',
          'Too many new sessions from this address; retry later.',
        );
        const { user, tokens } = await startAnonymousSession(
          bindingContext(services.sessions, tenant, request),
          tenant,
          bearerToken(request),
        );
        return ok('Anonymous token created successfully', { user: anonymousUserView(user), ...tokens });
      },
    );
  });
}
