import type { Tenant } from '../stores/directory.js';
import type { CustomerContext } from './context.js';
import { ownAccount } from './own-account.js';

/** PUT /auth/user/{id}/deactivate: the account can no longer sign in and every session ends now. */
export async function deactivateUser(
  ctx: CustomerContext,
  tenant: Tenant,
  bearer: string | undefined,
  userId: string,
): Promise<void> {
  await ownAccount(ctx, tenant, bearer, userId);
  await ctx.store.deactivateUser(userId, ctx.clock.now());
}
