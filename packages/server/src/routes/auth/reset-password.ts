import type { FastifyInstance } from 'fastify';
import type { CustomerContext } from '../../accounts/context.js';
import { resetPassword } from '../../accounts/reset-password.js';
import { clientOf } from '../../http/client.js';
import { bindingContext } from '../../http/dpop.js';
import { ok } from '../../http/envelope.js';
import type { Services } from '../../http/services.js';
import { STORE_PREFIX, tenantOf } from '../../http/tenant.js';
import { routeSchema } from '../../openapi/document.js';
import { accountView } from './user-view.js';

/** POST /auth/reset-password: the new password, with the code from forgot-password or its verified otp_token. */
export function registerResetPassword(app: FastifyInstance, services: Services, ctx: CustomerContext): void {
  app.post<{ Body: { new_password: string; confirm_password: string; otp_token: string; otp?: string } }>(
    `${STORE_PREFIX}/auth/reset-password`,
    { schema: routeSchema('reset-password') },
    async (request) => {
      const tenant = await tenantOf(services, request);
      const b = request.body;
      const { account, tokens } = await resetPassword(
        bindingContext(ctx, tenant, request),
        tenant,
        {
          otpToken: b.otp_token,
          otp: b.otp,
          newPassword: b.new_password,
          confirmPassword: b.confirm_password,
        },
        clientOf(request, services.addresses),
      );
      return ok('Password reset successfully', { user: accountView(account, request), ...tokens });
    },
  );
}
