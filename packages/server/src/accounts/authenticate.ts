import { AppError } from '../errors/codes.js';
import type { SessionRecord, UserRecord } from '../model.js';
import type { SessionContext } from '../sessions/context.js';
import type { Tenant } from '../tenants/directory.js';
import { verifyAccessToken } from '../tokens/verify.js';

export interface Caller {
  session: SessionRecord;
  user: UserRecord;
}

/**
 * The caller of an operation that needs a signed-in session: a valid, unexpired access token of
 * this store whose session is still live. Access tokens are stateless, so the session row is read
 * too: a revoked session (logout, password change) stops working at once, not at `exp`.
 */
export async function authenticate(
  ctx: SessionContext,
  tenant: Tenant,
  bearer: string | undefined,
): Promise<Caller> {
  const now = ctx.clock.now();
  const claims = bearer ? verifyAccessToken(tenant.keyring, tenant.issuer, bearer, now) : null;
  if (!claims) throw new AppError('UNAUTHORIZED', 'A valid Bearer access token is required.');
  const found = await ctx.db.getSession(claims.sid);
  if (
    !found ||
    found.session.storeId !== tenant.record.id ||
    found.user.id !== claims.sub ||
    found.session.revokedAt !== null ||
    found.session.absoluteExpiresAt <= now
  ) {
    throw new AppError('UNAUTHORIZED', 'The session of this access token has ended.');
  }
  return found;
}

/** Like `authenticate`, for operations only a customer (not an anonymous shopper) may call. */
export async function authenticateCustomer(
  ctx: SessionContext,
  tenant: Tenant,
  bearer: string | undefined,
): Promise<Caller> {
  const caller = await authenticate(ctx, tenant, bearer);
  if (caller.user.isAnonymous)
    throw new AppError('UNAUTHORIZED', 'Log in first: this needs a customer session.');
  return caller;
}
