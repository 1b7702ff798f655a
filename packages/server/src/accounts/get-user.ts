import type { UserAccount } from '../model.js';
import type { Tenant } from '../tenants/directory.js';
import type { CustomerContext } from './context.js';
import { ownAccount } from './own-account.js';

/** GET /auth/user/{id}. */
export async function getUserDetail(
  ctx: CustomerContext,
  tenant: Tenant,
  bearer: string | undefined,
  userId: string,
): Promise<UserAccount> {
  return (await ownAccount(ctx, tenant, bearer, userId)).account;
}
