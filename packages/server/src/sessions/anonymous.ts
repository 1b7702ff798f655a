import { AppError } from '../errors/codes.js';
import type { SessionWithUser, UserRecord } from '../model.js';
import type { Tenant } from '../tenants/directory.js';
import type { TokenPair } from '../tokens/issue.js';
import { type AccessClaims, verifyAccessToken } from '../tokens/verify.js';
import { ulid } from '../util/ids.js';
import type { SessionContext } from './context.js';
import { openSession } from './create.js';
import { isLive } from './live.js';

/**
 * POST /auth/anonymous: a new anonymous session. When the caller presents the access token of an
 * earlier anonymous session of this store, the same user id is kept (a cart lives on it), but only
 * while that session lives (see continuedAnonymousSession): an old leaked access token cannot be
 * turned into a fresh session.
 */
export async function startAnonymousSession(
  ctx: SessionContext,
  tenant: Tenant,
  bearer: string | undefined,
): Promise<{ user: UserRecord; tokens: TokenPair }> {
  const now = ctx.clock.now();
  let user = bearer ? await continuingUser(ctx, tenant, bearer, now) : null;
  if (!user) {
    user = newAnonymousUser(tenant.record.id, now);
    await ctx.db.createUser(user);
  }
  const { tokens } = await openSession(ctx, tenant, user, null);
  return { user, tokens };
}

/** A new anonymous user of store `storeId`, created at `now`: no contact, no name, nothing verified. */
export function newAnonymousUser(storeId: string, now: number): UserRecord {
  return {
    id: ulid(now),
    storeId,
    isAnonymous: true,
    email: null,
    phone: null,
    countryCode: null,
    firstName: null,
    lastName: null,
    customerId: null,
    customerGroupId: null,
    isEmailVerified: false,
    isPhoneVerified: false,
    createdAt: now,
    modifiedAt: now,
  };
}

async function continuingUser(
  ctx: SessionContext,
  tenant: Tenant,
  bearer: string,
  now: number,
): Promise<UserRecord | null> {
  // A token we cannot verify is ignored, not an error: the caller simply gets a new identity.
  const claims = verifyAccessToken(tenant.keyring, tenant.issuer, bearer, now, { allowExpired: true });
  if (!claims) return null;
  const expired = now >= claims.exp * 1000;
  if (claims.is_logged_in) {
    if (!expired) throw new AppError('USER_ALREADY_AUTHENTICATED');
    return null;
  }
  return (await continuedAnonymousSession(ctx, tenant, claims, now))?.user ?? null;
}

/**
 * The anonymous session an anonymous access token (expired or not) may hand its user id on from,
 * at POST /auth/anonymous and when a shopper signs in: this store's, this user's, and live, that is
 * neither revoked nor past its idle or absolute lifetime. A dead session hands on nothing, whatever
 * its access token says.
 */
export async function continuedAnonymousSession(
  ctx: SessionContext,
  tenant: Tenant,
  claims: AccessClaims,
  now: number,
): Promise<SessionWithUser | null> {
  if (!claims.is_anonymous || now - claims.exp * 1000 >= ctx.policy.refreshTokenTtl * 1000) return null;
  const found = await ctx.db.getSession(claims.sid);
  if (!found || found.session.storeId !== tenant.record.id || !isLive(found.session, now)) return null;
  if (found.user.id !== claims.ulid || !found.user.isAnonymous) return null;
  return found;
}
