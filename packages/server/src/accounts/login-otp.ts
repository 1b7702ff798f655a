import type { Tenant } from '../tenants/directory.js';
import type { ClientInfo, CustomerContext } from './context.js';
import type { OtpMessage } from './delivery/contract.js';
import { type IssuedOtp, issueOtp, limitOtpSend } from './otp.js';
import type { Identifier } from './records.js';

/**
 * POST /auth/login/{email,phone,whatsapp}: sends a login code to the identifier, whether or not an
 * account has proven it, so the answer tells nobody which accounts exist. verify-otp decides, once
 * the caller has proven they hold it: the account that has proven it, or with
 * `register_if_not_exists` a new one, or USER_NOT_FOUND.
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
  return issueOtp(
    ctx,
    tenant,
    { action: 'login', channel, to, userId: null, payload: { channel, registerIfNotExists } },
    client,
  );
}
