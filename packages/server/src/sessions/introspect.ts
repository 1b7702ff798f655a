import type { Tenant } from '../tenants/directory.js';
import type { SessionContext } from './context.js';
import { isLive } from './live.js';
import { sessionOfToken } from './revoke.js';

export type Introspection =
  | { active: false }
  | {
      active: true;
      token_type: 'refresh_token' | 'access_token';
      iss: string;
      sub: string;
      aud?: string;
      sid: string;
      store_id: string;
      is_anonymous: boolean;
      customer_id: string | null;
      iat: number;
      exp: number;
    };

/**
 * RFC 7662-style introspection for services that need an answer now rather than when an access
 * token expires. Active means: signed by this store, unexpired, its session live, and for a
 * refresh token, still the one the session would accept (the current generation). Anything else
 * answers only `{active: false}` (RFC 7662 §2.2).
 */
export async function introspect(
  ctx: SessionContext,
  tenant: Tenant,
  token: string,
  hint?: 'refresh_token' | 'access_token',
): Promise<Introspection> {
  const now = ctx.clock.now();
  const found = sessionOfToken(tenant, token, hint, now);
  if (!found) return { active: false };
  const row = await ctx.db.getSession(found.sid);
  if (!row || row.session.storeId !== tenant.record.id || row.user.id !== found.sub) return { active: false };
  const { session, user } = row;
  if (!isLive(session, now)) return { active: false };
  if (found.type === 'refresh_token' && found.gen !== session.generation) return { active: false };
  return {
    active: true,
    token_type: found.type,
    iss: tenant.issuer,
    sub: user.id,
    ...(found.aud !== undefined ? { aud: found.aud } : {}),
    sid: session.id,
    store_id: tenant.record.id,
    is_anonymous: user.isAnonymous,
    customer_id: user.customerId,
    iat: found.iat,
    exp: found.exp,
  };
}
