import type { SessionRecord, UserRecord } from '../model.js';
import { type Tenant, tokenPolicyOf } from '../tenants/directory.js';
import { issueTokenPair, type TokenPair } from '../tokens/issue.js';
import { randomId } from '../util/ids.js';
import type { SessionContext } from './context.js';

/** Opens a new session (a new token family at generation 0) for a user and mints its pair. */
export async function openSession(
  ctx: SessionContext,
  tenant: Tenant,
  user: UserRecord,
  anonymousId: string | null,
): Promise<{ session: SessionRecord; tokens: TokenPair }> {
  const now = ctx.clock.now();
  const absoluteExpiresAt = now + ctx.policy.sessionMaxAge * 1000;
  const session: SessionRecord = {
    id: randomId(16),
    storeId: tenant.record.id,
    userId: user.id,
    anonymousId,
    generation: 0,
    createdAt: now,
    rotatedAt: now,
    idleExpiresAt: Math.min(now + ctx.policy.refreshTokenTtl * 1000, absoluteExpiresAt),
    absoluteExpiresAt,
    revokedAt: null,
    revokedReason: null,
    // Bound only here, at creation, never by a refresh: a thief must not bind a victim's session.
    jkt: ctx.dpopJkt ?? null,
  };
  // A customer holds at most maxSessionsPerUser sessions: past it their oldest is revoked, so no
  // account can pile up rows that each later write of the account must touch (the SQLite copy of
  // the user on each session, migration 13). An anonymous user has only the session made with it.
  await ctx.db.createSession(session, user.isAnonymous ? undefined : ctx.policy.maxSessionsPerUser);
  const tokens = issueTokenPair(
    tenant.keyring,
    tokenPolicyOf(tenant, ctx.policy.accessTokenTtl),
    session,
    user,
  );
  return { session, tokens };
}
