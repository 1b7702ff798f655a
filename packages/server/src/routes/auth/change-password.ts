import type { FastifyInstance } from 'fastify';
import { changePassword } from '../../accounts/change-password.js';
import type { CustomerContext } from '../../accounts/context.js';
import { bindingContext } from '../../http/dpop.js';
import { ok } from '../../http/envelope.js';
import type { Services } from '../../http/services.js';
import { bearerToken, STORE_PREFIX, tenantOf } from '../../http/tenant.js';
import { routeSchema } from '../../openapi/document.js';

/** POST /auth/change-password (Bearer of a customer session): answers the rotated pair. */
export function registerChangePassword(app: FastifyInstance, services: Services, ctx: CustomerContext): void {
  app.post<{ Body: { old_password: string; new_password: string; confirm_password: string } }>(
    `${STORE_PREFIX}/auth/change-password`,
    { schema: routeSchema('change-password') },
    async (request) => {
      const tenant = await tenantOf(services, request);
      const b = request.body;
      const tokens = await changePassword(
        bindingContext(ctx, tenant, request),
        tenant,
        bearerToken(request),
        {
          oldPassword: b.old_password,
          newPassword: b.new_password,
          confirmPassword: b.confirm_password,
        },
      );
      return ok('Password changed successfully', tokens);
    },
  );
}
