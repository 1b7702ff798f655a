import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type ClientInfo, type CustomerContext, DEFAULT_LIMITS } from '../../customers/context.js';
import type { OtpSender } from '../../customers/delivery/contract.js';
import { logSender } from '../../customers/delivery/log.js';
import { webhookSender } from '../../customers/delivery/webhook.js';
import { argon2Hasher, type PasswordHasher } from '../../customers/passwords.js';
import type { Services } from '../../http/services.js';
import { bearerToken } from '../../http/tenant.js';
import { registerChangePassword } from './change-password.js';
import { registerForgotPassword } from './forgot-password.js';
import { registerGenerateOtp } from './generate-otp.js';
import { registerLoginOtp } from './login-otp.js';
import { registerLoginPassword } from './login-password.js';
import { registerLogout } from './logout.js';
import { registerRegister } from './register.js';
import { registerResetPassword } from './reset-password.js';
import { registerUpdateUser, registerUser } from './user.js';
import { registerVerificationStatus } from './verified-email-phone.js';
import { registerVerifyOtp } from './verify-otp.js';

/** Replaceable collaborators, for tests. */
export interface CustomerOverrides {
  hasher?: PasswordHasher;
  sender?: OtpSender;
}

/** What a customer route reads from its request, beyond the body. */
export function clientOf(request: FastifyRequest): ClientInfo {
  return {
    ip: request.ip,
    debug: request.headers['x-debug-mode'] === 'true',
    bearer: bearerToken(request),
  };
}

/** Registers the customer operations (issue 4): register, login, OTPs, passwords, the user. */
export async function registerCustomerRoutes(
  app: FastifyInstance,
  services: Services,
  overrides: CustomerOverrides = {},
): Promise<void> {
  const { config } = services;
  const sender = services.metrics.countSends(
    overrides.sender ??
      (config.otpWebhookUrl && config.otpWebhookSecret
        ? webhookSender({ url: config.otpWebhookUrl, secret: config.otpWebhookSecret })
        : logSender((fields, message) => app.log.info(fields, message))),
  );
  if (sender.name === 'log' && process.env['NODE_ENV'] === 'production') {
    app.log.warn('OTP_WEBHOOK_URL is not set: OTPs are not delivered to anyone (log sender)');
  }
  const ctx: CustomerContext = {
    ...services.sessions,
    hasher: overrides.hasher ?? argon2Hasher,
    sender,
    rateLimiter: services.rateLimiter,
    limits: DEFAULT_LIMITS,
    otpDebugStoreId: config.otpDebug ? config.storeId : null,
  };
  registerRegister(app, services, ctx);
  registerLoginPassword(app, services, ctx);
  registerLoginOtp(app, services, ctx);
  registerVerifyOtp(app, services, ctx);
  registerGenerateOtp(app, services, ctx);
  registerForgotPassword(app, services, ctx);
  registerResetPassword(app, services, ctx);
  registerChangePassword(app, services, ctx);
  registerVerificationStatus(app, services, ctx);
  registerUpdateUser(app, services, ctx);
  // Operations without a body: the official SDK may still send `Content-Type: application/json`.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) => done(null, undefined));
    registerLogout(scope, services, ctx);
    registerUser(scope, services, ctx);
  });
}
