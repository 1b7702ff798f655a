import type { FastifyInstance } from 'fastify';
import type { CustomerContext } from '../../accounts/context.js';
import { startRegistration } from '../../accounts/register.js';
import { clientOf } from '../../http/client.js';
import { ok } from '../../http/envelope.js';
import type { Services } from '../../http/services.js';
import { STORE_PREFIX, tenantOf } from '../../http/tenant.js';
import { routeSchema } from '../../openapi/document.js';

type RegisterBody = {
  email?: string | null;
  phone?: string | null;
  country_code?: string | null;
  first_name?: string | null;
  last_name?: string | null;
  password?: string;
  confirm_password?: string;
};

/** POST /auth/register/{password,email,phone,whatsapp}: answers OtpContent; verify-otp creates the account. */
export function registerRegister(app: FastifyInstance, services: Services, ctx: CustomerContext): void {
  const routes = [
    ['password', 'register-with-password'],
    ['email', 'register-with-email'],
    ['phone', 'register-with-phone'],
    ['whatsapp', 'register-with-whatsapp'],
  ] as const;
  for (const [kind, operationId] of routes) {
    app.post<{ Body: RegisterBody }>(
      `${STORE_PREFIX}/auth/register/${kind}`,
      { schema: routeSchema(operationId) },
      async (request) => {
        const tenant = await tenantOf(services, request);
        const b = request.body;
        const channel =
          kind === 'password'
            ? typeof b.email === 'string'
              ? 'email'
              : 'sms'
            : kind === 'phone'
              ? 'sms'
              : kind;
        const content = await startRegistration(
          ctx,
          tenant,
          {
            channel,
            email: b.email,
            phone: b.phone,
            countryCode: b.country_code,
            firstName: b.first_name,
            lastName: b.last_name,
            password:
              kind === 'password'
                ? { password: b.password ?? '', confirmPassword: b.confirm_password ?? '' }
                : undefined,
          },
          clientOf(request, services.addresses),
        );
        return ok('OTP sent successfully', content);
      },
    );
  }
}
