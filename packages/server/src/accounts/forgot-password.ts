import type { Tenant } from '../tenants/directory.js';
import type { ClientInfo, CustomerContext } from './context.js';
import { type IssuedOtp, issueOtp, limitOtpSend } from './otp.js';
import { findAccount, type Identifier } from './records.js';

/**
 * POST /auth/forgot-password (and generate-otp for `reset-password`): sends a reset code. For an
 * unknown or deactivated account it stores a code for nobody, queues nothing, and answers the same
 * shape after the same work (one write), so neither the answer nor its timing reveals which
 * accounts exist; spending that code finds no account (USER_NOT_FOUND).
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
  const known = account?.status === 'active';
  return issueOtp(
    ctx,
    tenant,
    { action: 'reset-password', channel, to, userId: known ? account.user.id : null },
    client,
    { deliver: known },
  );
}
