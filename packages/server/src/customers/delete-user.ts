import type { Tenant } from '../stores/directory.js';
import type { CustomerContext } from './context.js';
import { ownAccount } from './own-account.js';

/**
 * DELETE /auth/user/{id}: the account, its sessions and its codes are deleted; a refresh token of
 * any of its sessions then answers SESSION_NOT_FOUND. The email and phone become free again.
 */
export async function deleteUser(
  ctx: CustomerContext,
  tenant: Tenant,
  bearer: string | undefined,
  userId: string,
): Promise<void> {
  await ownAccount(ctx, tenant, bearer, userId);
  await ctx.store.deleteUser(userId);
}
