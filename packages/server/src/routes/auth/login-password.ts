import type { FastifyInstance } from 'fastify';
import type { CustomerContext } from '../../accounts/context.js';
import { loginWithPassword } from '../../accounts/login-password.js';
import { identifierFrom } from '../../accounts/records.js';
import { clientOf } from '../../http/client.js';
import { bindingContext } from '../../http/dpop.js';
import { ok } from '../../http/envelope.js';
import type { Services } from '../../http/services.js';
import { STORE_PREFIX, tenantOf } from '../../http/tenant.js';
import { routeSchema } from '../../openapi/document.js';
import { accountView } from './user-view.js';

/** POST /auth/login/password: `{email, password}` or `{phone, country_code?, password}`. */
export function registerLoginPassword(app: FastifyInstance, services: Services, ctx: CustomerContext): void {
  app.post<{ Body: { email?: string; phone?: string; country_code?: string | null; password: string } }>(
    `${STORE_PREFIX}/auth/login/password`,
    { schema: routeSchema('login-with-password') },
    async (request) => {
      const tenant = await tenantOf(services, request);
      const id = identifierFrom(request.body);
      const bound = bindingContext(ctx, tenant, request);
      const { account, tokens } = await services.metrics.countOutcome(
        services.metrics.logins,
        { method: 'password' },
        () =>
          loginWithPassword(bound, tenant, id, request.body.password, clientOf(request, services.addresses)),
      );
      return ok('Logged in successfully', { user: accountView(account, request), ...tokens });
    },
  );
}
