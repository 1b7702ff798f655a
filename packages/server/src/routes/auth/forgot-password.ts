import type { FastifyInstance } from 'fastify';
import type { CustomerContext } from '../../accounts/context.js';
import { forgotPassword } from '../../accounts/forgot-password.js';
import { identifierFrom } from '../../accounts/records.js';
import { clientOf } from '../../http/client.js';
import { ok } from '../../http/envelope.js';
import type { Services } from '../../http/services.js';
import { STORE_PREFIX, tenantOf } from '../../http/tenant.js';
import { routeSchema } from '../../openapi/document.js';

/** POST /auth/forgot-password: `{email}` or `{phone, country_code?}`; answers OtpContent. */
export function registerForgotPassword(app: FastifyInstance, services: Services, ctx: CustomerContext): void {
  app.post<{ Body: { email?: string; phone?: string; country_code?: string | null } }>(
    `${STORE_PREFIX}/auth/forgot-password`,
    { schema: routeSchema('forgot-password') },
    async (request) => {
      const tenant = await tenantOf(services, request);
      const id = identifierFrom(request.body);
      const content = await forgotPassword(
        ctx,
        tenant,
        id,
        'email' in id ? 'email' : 'sms',
        clientOf(request, services.addresses),
      );
      return ok('OTP sent successfully', content);
    },
  );
}
