import type { FastifyInstance } from 'fastify';
import type { CustomerContext } from '../../accounts/context.js';
import { generateOtp } from '../../accounts/generate-otp.js';
import { identifierFrom } from '../../accounts/records.js';
import { clientOf } from '../../http/client.js';
import { ok } from '../../http/envelope.js';
import type { Services } from '../../http/services.js';
import { STORE_PREFIX, tenantOf } from '../../http/tenant.js';
import type { OtpAction } from '../../model.js';
import { routeSchema } from '../../openapi/document.js';

type Body = {
  channel: 'sms' | 'whatsapp' | 'email';
  email?: string;
  phone?: string;
  country_code?: string | null;
  otp_action: OtpAction;
};

/** POST /auth/generate-otp. */
export function registerGenerateOtp(app: FastifyInstance, services: Services, ctx: CustomerContext): void {
  app.post<{ Body: Body }>(
    `${STORE_PREFIX}/auth/generate-otp`,
    { schema: routeSchema('generate-otp') },
    async (request) => {
      const tenant = await tenantOf(services, request);
      const b = request.body;
      const id = identifierFrom(
        b.channel === 'email' ? { email: b.email } : { phone: b.phone, country_code: b.country_code },
      );
      const content = await generateOtp(
        ctx,
        tenant,
        { id, channel: b.channel, action: b.otp_action },
        clientOf(request, services.addresses),
      );
      return ok('OTP sent successfully', content);
    },
  );
}
