import type { UserRecord } from '../model.js';
import { startAnonymousSession } from '../sessions/anonymous.js';
import type { Tenant } from '../tenants/directory.js';
import type { TokenPair } from '../tokens/issue.js';
import { authenticate } from './authenticate.js';
import type { CustomerContext } from './context.js';

/**
 * POST /auth/logout: ends the caller's session and, as the Commerce Engine API does, answers a
 * fresh anonymous session (a new shopper id: nothing of the customer's carries over).
 */
export async function logout(
  ctx: CustomerContext,
  tenant: Tenant,
  bearer: string | undefined,
): Promise<{ user: UserRecord; tokens: TokenPair }> {
  const caller = await authenticate(ctx, tenant, bearer);
  await ctx.db.revokeSession(caller.session.id, 'logout', ctx.clock.now());
  return startAnonymousSession(ctx, tenant, undefined);
}
