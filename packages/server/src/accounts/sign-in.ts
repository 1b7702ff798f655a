import type { UserAccount } from '../model.js';
import { continuedAnonymousSession } from '../sessions/anonymous.js';
import { openSession } from '../sessions/create.js';
import type { Tenant } from '../tenants/directory.js';
import type { TokenPair } from '../tokens/issue.js';
import { verifyAccessToken } from '../tokens/verify.js';
import { ulid } from '../util/ids.js';
import type { CustomerContext } from './context.js';

/**
 * Opens a customer session after a successful login or registration. When the request carried
 * the access token of a live anonymous session of this store, that shopper's id is carried into
 * the new session as `anonymous_id` (their cart follows them) and the anonymous session is revoked:
 * authentication always yields a brand-new session, never an upgraded one (no session fixation,
 * OWASP ASVS V3.2.1).
 */
export async function signIn(
  ctx: CustomerContext,
  tenant: Tenant,
  account: UserAccount,
  bearer: string | undefined,
): Promise<{ account: UserAccount; tokens: TokenPair }> {
  const now = ctx.clock.now();
  let anonymousId: string | null = null;
  const claims = bearer
    ? verifyAccessToken(tenant.keyring, tenant.issuer, bearer, now, { allowExpired: true })
    : null;
  const found = claims ? await continuedAnonymousSession(ctx, tenant, claims, now) : null;
  if (found && (await ctx.db.revokeSession(found.session.id, 'login', now))) anonymousId = found.user.id;
  // The Commerce Engine SDK types `anonymous_id` as always a string: a sign-in that carried no
  // anonymous shopper starts a lineage of its own, as if it had begun as one.
  const { tokens } = await openSession(ctx, tenant, account.user, anonymousId ?? ulid(now));
  return { account, tokens };
}
