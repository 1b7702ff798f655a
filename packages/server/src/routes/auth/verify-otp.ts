import type { FastifyInstance } from 'fastify';
import type { CustomerContext } from '../../accounts/context.js';
import { verifyOtp } from '../../accounts/verify-otp.js';
import { clientOf } from '../../http/client.js';
import { bindingContext } from '../../http/dpop.js';
import { ok } from '../../http/envelope.js';
import type { Services } from '../../http/services.js';
import { STORE_PREFIX, tenantOf } from '../../http/tenant.js';
import type { OtpAction } from '../../model.js';
import { routeSchema } from '../../openapi/document.js';
import { accountView } from './user-view.js';

/** POST /auth/verify-otp: spends a code and answers the user with a new pair. */
export function registerVerifyOtp(app: FastifyInstance, services: Services, ctx: CustomerContext): void {
  app.post<{ Body: { otp: string; otp_token: string; otp_action: OtpAction } }>(
    `${STORE_PREFIX}/auth/verify-otp`,
    { schema: routeSchema('verify-otp') },
    async (request) => {
      const tenant = await tenantOf(services, request);
      const { otp, otp_token, otp_action } = request.body;
      const { metrics } = services;
      const client = clientOf(request, services.addresses);
      const bound = bindingContext(ctx, tenant, request);
      const verify = () =>
        metrics.countOutcome(
          metrics.otpVerifications,
          { action: otp_action },
          () => verifyOtp(bound, tenant, { otp, otpToken: otp_token, action: otp_action }, client),
          'verified',
        );
      // A login by one-time password completes here.
      const { account, tokens } =
        otp_action === 'login'
          ? await metrics.countOutcome(metrics.logins, { method: 'otp' }, verify)
          : await verify();
      return ok('OTP verified successfully', { user: accountView(account, request), ...tokens });
    },
  );
}
