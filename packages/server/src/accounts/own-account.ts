import { AppError } from '../errors/codes.js';
import type { UserAccount } from '../model.js';
import type { Tenant } from '../tenants/directory.js';
import { authenticateCustomer, type Caller } from './authenticate.js';
import type { CustomerContext } from './context.js';
import { requireActiveAccount } from './records.js';

/**
 * The caller, when `userId` is their own id. Another user's id answers USER_NOT_FOUND, the same as
 * an id that does not exist, so ids cannot be probed.
 */
export async function ownAccount(
  ctx: CustomerContext,
  tenant: Tenant,
  bearer: string | undefined,
  userId: string,
): Promise<{ caller: Caller; account: UserAccount }> {
  const caller = await authenticateCustomer(ctx, tenant, bearer);
  if (caller.user.id !== userId) throw new AppError('USER_NOT_FOUND');
  return { caller, account: await requireActiveAccount(ctx, userId) };
}

/**
 * An operation on the caller's own account, as a use case `(ctx, tenant, bearer, userId)`: `act`
 * runs once ownAccount has let the caller through.
 */
export function onOwnAccount(
  act: (ctx: CustomerContext, userId: string) => Promise<unknown>,
): (ctx: CustomerContext, tenant: Tenant, bearer: string | undefined, userId: string) => Promise<void> {
  return async (ctx, tenant, bearer, userId) => {
    await ownAccount(ctx, tenant, bearer, userId);
    await act(ctx, userId);
  };
}
