import type { UserAccount } from '../model.js';
import type { Tenant } from '../tenants/directory.js';
import type { TokenPair } from '../tokens/issue.js';
import type { ClientInfo, CustomerContext } from './context.js';
import { setNewPassword } from './new-password.js';
import { consumeOtp } from './otp.js';
import { checkNewPassword } from './passwords.js';
import { requireActiveAccount } from './records.js';

/**
 * POST /auth/reset-password: the code from forgot-password sets a new password; setNewPassword ends
 * every session of the customer (whoever knew the old password is out) and signs the caller in.
 */
export async function resetPassword(
  ctx: CustomerContext,
  tenant: Tenant,
  input: { otpToken: string; otp: string; newPassword: string; confirmPassword: string },
  client: ClientInfo,
): Promise<{ account: UserAccount; tokens: TokenPair }> {
  // Checked before the code is spent, so a typo in the new password does not burn the OTP.
  checkNewPassword(input.newPassword, input.confirmPassword);
  const otp = await consumeOtp(ctx, tenant, 'reset-password', input.otpToken, input.otp, client);
  const account = await requireActiveAccount(ctx, otp.userId);
  return setNewPassword(ctx, tenant, account, input.newPassword, {
    via: 'reset-password',
    bearer: client.bearer,
  });
}
