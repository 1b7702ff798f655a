import type { Tenant } from '../tenants/directory.js';
import type { ClientInfo, CustomerContext } from './context.js';
import { decoyOtp, type IssuedOtp, issueOtp, limitOtpSend } from './otp.js';
import { findAccount, type Identifier } from './records.js';

/**
 * POST /auth/forgot-password (and generate-otp for `reset-password`): sends a reset code. For an
 * unknown or deactivated account it answers a decoy otp_token of the same shape and sends nothing,
 * so this endpoint does not reveal which accounts exist; the decoy never verifies.
 */
export async function forgotPassword(
  ctx: CustomerContext,
  tenant: Tenant,
  id: Identifier,
  channel: 'email' | 'sms' | 'whatsapp',
  client: ClientInfo,
): Promise<IssuedOtp> {
  const to = 'email' in id ? { email: id.email } : id;
  await limitOtpSend(ctx, tenant, to, client);
  const account = await findAccount(ctx, tenant, id);
  if (account?.status !== 'active') return decoyOtp(ctx, tenant, 'reset-password', client);
  return issueOtp(ctx, tenant, { action: 'reset-password', channel, to, userId: account.user.id }, client);
}
