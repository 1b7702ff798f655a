import type { FastifyInstance } from 'fastify';
import type { CustomerContext } from '../../accounts/context.js';
import { startOtpLogin } from '../../accounts/login-otp.js';
import { identifierFrom } from '../../accounts/records.js';
import { clientOf } from '../../http/client.js';
import { ok } from '../../http/envelope.js';
import type { Services } from '../../http/services.js';
import { STORE_PREFIX, tenantOf } from '../../http/tenant.js';
import { routeSchema } from '../../openapi/document.js';

type Body = {
  email?: string;
  phone?: string;
  country_code?: string | null;
  register_if_not_exists?: boolean;
};

/** POST /auth/login/{email,phone,whatsapp}: sends a login code (OtpContent); then verify-otp. */
export function registerLoginOtp(app: FastifyInstance, services: Services, ctx: CustomerContext): void {
  const routes = [
    ['email', 'login-with-email', 'email'],
    ['phone', 'login-with-phone', 'sms'],
    ['whatsapp', 'login-with-whatsapp', 'whatsapp'],
  ] as const;
  for (const [kind, operationId, channel] of routes) {
    app.post<{ Body: Body }>(
      `${STORE_PREFIX}/auth/login/${kind}`,
      { schema: routeSchema(operationId) },
      async (request) => {
        const tenant = await tenantOf(services, request);
        const b = request.body;
        const id = identifierFrom(
          kind === 'email' ? { email: b.email } : { phone: b.phone, country_code: b.country_code },
        );
        const content = await startOtpLogin(
          ctx,
          tenant,
          id,
          channel,
          b.register_if_not_exists === true,
          clientOf(request, services.addresses),
        );
        return ok('OTP sent successfully', content);
      },
    );
  }
}
