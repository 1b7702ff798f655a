import { AppError } from '../errors/codes.js';
import type { Tenant } from '../tenants/directory.js';
import type { ClientInfo, CustomerContext } from './context.js';
import type { OtpMessage } from './delivery/contract.js';
import { type IssuedOtp, issueOtp, limitOtpSend } from './otp.js';
import { findAccount, type Identifier } from './records.js';

/**
 * POST /auth/login/{email,phone,whatsapp}: sends a login code. An unknown (or deactivated) account
 * is USER_NOT_FOUND, as the contract has it, unless `register_if_not_exists`: then verify-otp
 * creates the account.
 */
export async function startOtpLogin(
  ctx: CustomerContext,
  tenant: Tenant,
  id: Identifier,
  channel: OtpMessage['channel'],
  registerIfNotExists: boolean,
  client: ClientInfo,
): Promise<IssuedOtp> {
  const to = 'email' in id ? { email: id.email } : id;
  await limitOtpSend(ctx, tenant, to, client);
  const account = await findAccount(ctx, tenant, id);
  if (account?.status === 'deactivated' || (!account && !registerIfNotExists))
    throw new AppError('USER_NOT_FOUND');
  return issueOtp(
    ctx,
    tenant,
    { action: 'login', channel, to, userId: account?.user.id ?? null, payload: { channel } },
    client,
  );
}
