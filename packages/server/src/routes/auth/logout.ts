import type { FastifyInstance } from 'fastify';
import type { CustomerContext } from '../../accounts/context.js';
import { logout } from '../../accounts/logout.js';
import { bindingContext } from '../../http/dpop.js';
import { ok } from '../../http/envelope.js';
import type { Services } from '../../http/services.js';
import { bearerToken, STORE_PREFIX, tenantOf } from '../../http/tenant.js';
import { routeSchema } from '../../openapi/document.js';
import { userView } from './user-view.js';

/** POST /auth/logout (Bearer): revokes the session, answers a fresh anonymous pair with its user. */
export function registerLogout(app: FastifyInstance, services: Services, ctx: CustomerContext): void {
  app.post(`${STORE_PREFIX}/auth/logout`, { schema: routeSchema('logout') }, async (request) => {
    const tenant = await tenantOf(services, request);
    const { user, tokens } = await logout(bindingContext(ctx, tenant, request), tenant, bearerToken(request));
    return ok('Logged out successfully', { user: userView(user, request), ...tokens });
  });
}
