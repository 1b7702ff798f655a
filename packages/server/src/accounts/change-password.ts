import { AppError } from '../errors/codes.js';
import type { Tenant } from '../tenants/directory.js';
import type { TokenPair } from '../tokens/issue.js';
import { authenticateCustomer } from './authenticate.js';
import type { CustomerContext } from './context.js';
import { setNewPassword } from './new-password.js';
import { checkNewPassword, dummyHash } from './passwords.js';
import { requireActiveAccount } from './records.js';

/**
 * POST /auth/change-password: checks the old password, then setNewPassword: every session of the
 * customer ends, this one included, and the answer is the pair of a new session (OWASP ASVS V3.3.3).
 */
export async function changePassword(
  ctx: CustomerContext,
  tenant: Tenant,
  bearer: string | undefined,
  input: { oldPassword: string; newPassword: string; confirmPassword: string },
): Promise<TokenPair> {
  const caller = await authenticateCustomer(ctx, tenant, bearer);
  checkNewPassword(input.newPassword, input.confirmPassword);
  const account = await requireActiveAccount(ctx, caller.user.id);
  const hash = account.passwordHash ?? (await dummyHash(ctx.hasher));
  const matches = await ctx.hasher.verify(hash, input.oldPassword);
  if (!account.passwordHash || !matches)
    throw new AppError('INVALID_CREDENTIALS', 'The old password is not correct.');
  const { tokens } = await setNewPassword(ctx, tenant, account, input.newPassword, {
    via: 'change-password',
    session: caller.session,
  });
  return tokens;
}
