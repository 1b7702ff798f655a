import type { RevokeReason } from '../model.js';
import type { Tenant } from '../tenants/directory.js';
import { verifyAccessToken, verifyRefreshToken } from '../tokens/verify.js';
import type { SessionContext } from './context.js';
import { emitSecurityEvent } from './events.js';

export interface TokenOwner {
  sid: string;
  sub: string;
  type: 'refresh_token' | 'access_token';
  iat: number;
  exp: number;
  /** Refresh tokens only: the generation it was minted at. */
  gen?: number;
  /** Access tokens only: their audience. */
  aud?: string;
}

/** Which session an unexpired token of this store (refresh or access) belongs to, or null. */
export function sessionOfToken(
  tenant: Tenant,
  token: string,
  hint: 'refresh_token' | 'access_token' | undefined,
  now: number,
): TokenOwner | null {
  const asRefresh = (): TokenOwner | null => {
    try {
      const c = verifyRefreshToken(tenant.keyring, tenant.issuer, token, now);
      return { sid: c.sid, sub: c.sub, type: 'refresh_token', iat: c.iat, exp: c.exp, gen: c.gen };
    } catch {
      return null;
    }
  };
  const asAccess = (): TokenOwner | null => {
    const c = verifyAccessToken(tenant.keyring, tenant.issuer, token, now);
    if (!c) return null;
    const owner: TokenOwner = {
      sid: c.sid,
      sub: c.sub,
      type: 'access_token',
      iat: Number(c['iat']),
      exp: c.exp,
    };
    // Tokens minted before access tokens carried `aud` have none.
    if (typeof c['aud'] === 'string') owner.aud = c['aud'];
    return owner;
  };
  // RFC 7009 §2.1: the hint only orders the look-ups; a wrong hint still finds the token.
  return hint === 'access_token' ? (asAccess() ?? asRefresh()) : (asRefresh() ?? asAccess());
}

/**
 * RFC 7009 revocation: ends the session a token belongs to (revoking a refresh token ends its
 * family; revoking an access token ends its session too, RFC 7009 §2.1 "MAY"). Unknown, invalid or
 * already-revoked tokens are not an error (§2.2): the caller learns nothing from the answer.
 */
export async function revokeByToken(
  ctx: SessionContext,
  tenant: Tenant,
  input: { token?: string; hint?: 'refresh_token' | 'access_token'; sessionId?: string },
  reason: RevokeReason = 'admin',
): Promise<void> {
  const now = ctx.clock.now();
  const sid =
    input.sessionId ?? (input.token ? sessionOfToken(tenant, input.token, input.hint, now)?.sid : undefined);
  if (!sid) return;
  const found = await ctx.db.getSession(sid);
  if (!found || found.session.storeId !== tenant.record.id) return;
  if (await ctx.db.revokeSession(sid, reason, now)) {
    const event = {
      storeId: tenant.record.id,
      type: 'session_revoked' as const,
      sessionId: sid,
      userId: found.user.id,
      detail: { reason, via: input.sessionId ? 'session_id' : 'token' },
      createdAt: now,
    };
    await emitSecurityEvent(ctx, event);
  }
}
