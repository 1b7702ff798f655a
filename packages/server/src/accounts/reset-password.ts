import type { UserAccount } from '../model.js';
import type { Tenant } from '../tenants/directory.js';
import type { TokenPair } from '../tokens/issue.js';
import type { ClientInfo, CustomerContext } from './context.js';
import { setNewPassword } from './new-password.js';
import { consumeOtp, redeemOtp } from './otp.js';
import { checkNewPassword } from './passwords.js';
import { requireActiveAccount } from './records.js';

/**
 * POST /auth/reset-password: the code from forgot-password sets a new password; setNewPassword ends
 * every session of the customer (whoever knew the old password is out) and signs the caller in. In
 * one step the code comes with the new password (`otp`); in two, verify-otp checked it first and
 * `otp_token` alone names it. Either way the token sets a password once, within the code's lifetime.
 */
export async function resetPassword(
  ctx: CustomerContext,
  tenant: Tenant,
  input: { otpToken: string; otp: string | undefined; newPassword: string; confirmPassword: string },
  client: ClientInfo,
): Promise<{ account: UserAccount; tokens: TokenPair }> {
  // Checked before the code is spent, so a typo in the new password does not burn the OTP.
  checkNewPassword(input.newPassword, input.confirmPassword);
  if (input.otp !== undefined)
    await consumeOtp(ctx, tenant, 'reset-password', input.otpToken, input.otp, client);
  const otp = await redeemOtp(ctx, tenant, 'reset-password', input.otpToken);
  const account = await requireActiveAccount(ctx, otp.userId);
  return setNewPassword(ctx, tenant, account, input.newPassword, {
    via: 'reset-password',
    bearer: client.bearer,
  });
}
