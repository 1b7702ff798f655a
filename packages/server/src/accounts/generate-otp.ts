import { AppError } from '../errors/codes.js';
import type { OtpAction } from '../model.js';
import type { Tenant } from '../tenants/directory.js';
import { authenticateCustomer } from './authenticate.js';
import type { ClientInfo, CustomerContext } from './context.js';
import type { OtpMessage } from './delivery/contract.js';
import { forgotPassword } from './forgot-password.js';
import { type IssuedOtp, issueOtp, limitOtpSend } from './otp.js';
import { findAccount, type Identifier } from './records.js';
import { startRegistration } from './register.js';

/**
 * POST /auth/generate-otp: a code for `register`, `reset-password`, or, for the signed-in customer,
 * to verify their current email/phone or to change it to a new one. The code is then spent at
 * verify-otp (or reset-password).
 */
export async function generateOtp(
  ctx: CustomerContext,
  tenant: Tenant,
  input: { id: Identifier; channel: OtpMessage['channel']; action: OtpAction },
  client: ClientInfo,
): Promise<IssuedOtp> {
  const { id, channel, action } = input;
  const byEmail = 'email' in id;
  if (byEmail !== (channel === 'email') || action === 'login') {
    throw new AppError(
      'BAD_REQUEST',
      `Invalid request: otp_action ${action} does not go with channel ${channel}.`,
    );
  }
  if (action === 'register') {
    return startRegistration(
      ctx,
      tenant,
      byEmail ? { channel, email: id.email } : { channel, phone: id.phone, countryCode: id.countryCode },
      client,
    );
  }
  if (action === 'reset-password') return forgotPassword(ctx, tenant, id, channel, client);

  if ((action === 'verify-email' || action === 'update-email') !== byEmail) {
    throw new AppError(
      'BAD_REQUEST',
      `Invalid request: otp_action ${action} does not go with channel ${channel}.`,
    );
  }
  const caller = await authenticateCustomer(ctx, tenant, client.bearer);
  const to = byEmail ? { email: id.email } : id;
  const user = caller.user;
  if (action === 'verify-email' || action === 'verify-phone') {
    const current = byEmail
      ? user.email === id.email
      : user.phone === (id as { phone: string }).phone &&
        user.countryCode === (id as { countryCode: string }).countryCode;
    if (!current) {
      throw new AppError(
        'BAD_REQUEST',
        `Invalid request: that is not your current ${byEmail ? 'email' : 'phone'}.`,
      );
    }
  }
  await limitOtpSend(ctx, tenant, to, client);
  if (action === 'update-email' || action === 'update-phone') {
    const owner = await findAccount(ctx, tenant, id);
    if (owner && owner.user.id !== user.id) throw new AppError('USER_EXISTS');
  }
  return issueOtp(ctx, tenant, { action, channel, to, userId: user.id }, client);
}
