import type { UserAccount } from '../model.js';
import { emitSecurityEvent } from '../sessions/events.js';
import type { Tenant } from '../tenants/directory.js';
import type { TokenPair } from '../tokens/issue.js';
import type { ClientInfo, CustomerContext } from './context.js';
import { consumeOtp, redeemOtp } from './otp.js';
import { checkNewPassword } from './passwords.js';
import { requireActiveAccount } from './records.js';
import { signIn } from './sign-in.js';

/**
 * POST /auth/reset-password: the code from forgot-password sets a new password, ends every session
 * of the customer (whoever knew the old password is out) and signs the caller in. In one step the
 * code comes with the new password (`otp`); in two, verify-otp checked it first and `otp_token`
 * alone names it. Either way the token sets a password once, within the code's lifetime.
 */
export async function resetPassword(
  ctx: CustomerContext,
  tenant: Tenant,
  input: { otpToken: string; otp: string | undefined; newPassword: string; confirmPassword: string },
  client: ClientInfo,
): Promise<{ account: UserAccount; tokens: TokenPair }> {
  // Checked before the code is spent, so a typo in the new password does not burn the OTP.
  checkNewPassword(input.newPassword, input.confirmPassword);
  if (input.otp !== undefined) await consumeOtp(ctx, tenant, 'reset-password', input.otpToken, input.otp);
  const otp = await redeemOtp(ctx, tenant, 'reset-password', input.otpToken);
  const account = await requireActiveAccount(ctx, otp.userId);
  const hash = await ctx.hasher.hash(input.newPassword);
  const now = ctx.clock.now();
  await ctx.db.setPasswordHash(account.user.id, hash, now);
  const revoked = await ctx.db.revokeUserSessions(account.user.id, 'password_reset', now);
  await emitSecurityEvent(ctx, {
    storeId: tenant.record.id,
    type: 'password_changed',
    sessionId: null,
    userId: account.user.id,
    detail: { via: 'reset-password', sessions_revoked: revoked },
    createdAt: now,
  });
  const methods = account.loginMethods.includes('password')
    ? account.loginMethods
    : [...account.loginMethods, 'password' as const];
  await ctx.db.updateUser(account.user.id, { loginMethods: methods }, now);
  const fresh = await requireActiveAccount(ctx, account.user.id);
  return signIn(ctx, tenant, fresh, client.bearer);
}
