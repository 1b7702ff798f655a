import type { FastifyInstance } from 'fastify';
import { registerDpop } from '../http/dpop.js';
import type { Services } from '../http/services.js';
import { registerAnonymous } from './auth/anonymous.js';
import { registerChangePassword } from './auth/change-password.js';
import { registerForgotPassword } from './auth/forgot-password.js';
import { registerGenerateOtp } from './auth/generate-otp.js';
import { registerLoginOtp } from './auth/login-otp.js';
import { registerLoginPassword } from './auth/login-password.js';
import { registerLogout } from './auth/logout.js';
import { registerProfileImage, registerProfileImageUploads } from './auth/profile-image.js';
import { registerRefreshToken } from './auth/refresh-token.js';
import { registerRegister } from './auth/register.js';
import { registerResetPassword } from './auth/reset-password.js';
import { registerRevokeAndIntrospect } from './auth/revoke.js';
import { registerUpdateUser, registerUser } from './auth/user.js';
import { registerVerificationStatus } from './auth/verified-email-phone.js';
import { registerVerifyOtp } from './auth/verify-otp.js';
import { registerDocs } from './docs.js';
import { registerHealthAndDocs } from './health.js';

/** Registers every operation: sessions, then the customer operations, then the back-end ones. */
export async function registerRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const ctx = services.customers;
  registerDpop(app, services);
  registerHealthAndDocs(app, services);
  registerDocs(app);
  registerRefreshToken(app, services);
  await registerAnonymous(app, services);
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
  await registerProfileImageUploads(app, services, ctx);
  // Operations without a body: the official SDK may still send `Content-Type: application/json`.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) => done(null, undefined));
    registerLogout(scope, services, ctx);
    registerUser(scope, services, ctx);
    registerProfileImage(scope, services, ctx);
  });
  await registerRevokeAndIntrospect(app, services);
}
