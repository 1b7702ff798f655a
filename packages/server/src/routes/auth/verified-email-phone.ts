import type { FastifyInstance } from 'fastify';
import type { CustomerContext } from '../../accounts/context.js';
import { checkVerificationStatus } from '../../accounts/verification-status.js';
import { ok } from '../../http/envelope.js';
import type { Services } from '../../http/services.js';
import { bearerToken, STORE_PREFIX, tenantOf } from '../../http/tenant.js';
import { routeSchema } from '../../openapi/document.js';

/** POST /auth/verified-email-phone: which of the caller's own email/phone are verified. */
export function registerVerificationStatus(
  app: FastifyInstance,
  services: Services,
  ctx: CustomerContext,
): void {
  app.post<{ Body: { email?: string[]; phone?: string[] } }>(
    `${STORE_PREFIX}/auth/verified-email-phone`,
    { schema: routeSchema('check-verification-status') },
    async (request) => {
      const tenant = await tenantOf(services, request);
      const content = await checkVerificationStatus(ctx, tenant, bearerToken(request), request.body);
      return ok('Verification status retrieved successfully', content);
    },
  );
}
