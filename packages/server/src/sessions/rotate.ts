import { AppError } from '../errors/codes.js';
import { enforceLimit } from '../ratelimit/enforce.js';
import type { RotateResult } from '../storage/contract.js';
import { type Tenant, tokenPolicyOf } from '../tenants/directory.js';
import { invalidProof } from '../tokens/dpop.js';
import { issueTokenPair, type TokenPair } from '../tokens/issue.js';
import { verifyRefreshToken } from '../tokens/verify.js';
import type { SessionContext } from './context.js';
import { emitSecurityEvent } from './events.js';

/**
 * POST /auth/refresh-token, the heart of the service.
 *
 * A session is a token family; each refresh token carries the generation it was minted at.
 * Presenting generation g:
 *   - g is current: compare-and-swap g -> g+1 and answer the new pair;
 *   - g was replaced within the grace window: answer the same successor again (lost responses,
 *     retries, racing tabs), minting no new branch;
 *   - g is older, or the grace window has passed: reuse. Revoke the family (RFC 9700 §4.14.2).
 *
 * A DPoP-bound session (RFC 9449, `jkt` on its row) first needs a proof of its key (`jkt` here,
 * the thumbprint of the request's verified proof, or null): without it the answer is
 * DPOP_PROOF_INVALID and nothing changes, neither rotation nor revocation nor event, so a thief
 * holding only the token can neither use nor end the session. With the key, the just-replaced
 * generation replays the same successor for as long as the row stays at g+1 inside its idle and
 * absolute lifetime, not only within the grace window: the key tells the honest client whose
 * answer was lost from a thief, so a lost answer followed by a long time offline costs nothing.
 */
export interface RefreshResult extends TokenPair {
  /** `replayed`: the grace window answered the successor already issued; nothing rotated. */
  outcome: 'rotated' | 'replayed';
}

export async function refreshSession(
  ctx: SessionContext,
  tenant: Tenant,
  refreshToken: string,
  jkt: string | null = null,
): Promise<RefreshResult> {
  const now = ctx.clock.now();
  const claims = verifyRefreshToken(tenant.keyring, tenant.issuer, refreshToken, now);
  const policy = ctx.policy;
  // Counted after the signature check, so forged tokens naming someone's session cannot use up
  // that session's allowance. Grace replays count too: a client looping on one token is throttled.
  if (ctx.rateLimiter) {
    await enforceLimit(
      ctx.rateLimiter,
      tenant.limits,
      'refreshPerSession',
      claims.sid,
      'Too many refreshes of this session; retry later.',
    );
  }
  const tokenPolicy = tokenPolicyOf(tenant, policy.accessTokenTtl);

  // Two attempts: a backend whose read can trail a concurrent winner (PostgreSQL's statement
  // snapshot) may report the presented generation as current after losing the swap.
  for (let attempt = 0; attempt < 2; attempt++) {
    const result: RotateResult | null = await ctx.db.rotateSession({
      sessionId: claims.sid,
      storeId: tenant.record.id,
      userId: claims.sub,
      generation: claims.gen,
      now,
      idleExpiresAt: now + policy.refreshTokenTtl * 1000,
      jkt,
    });
    // A validly signed token whose session is gone (purged, user deleted): the seed's NotFound.
    if (!result || result.session.storeId !== tenant.record.id || result.user.id !== claims.sub) {
      throw new AppError('SESSION_NOT_FOUND');
    }
    const { session, user } = result;
    if (result.rotated)
      return { ...issueTokenPair(tenant.keyring, tokenPolicy, session, user), outcome: 'rotated' };
    // Before anything the row says: without the bound key nothing about the session is revealed or changed.
    if (session.jkt !== null && session.jkt !== jkt) {
      throw invalidProof(
        jkt === null
          ? 'this session is DPoP-bound; a proof of its key is required'
          : "the proof's key is not the session's",
      );
    }

    if (session.revokedAt !== null) throw new AppError('SESSION_REVOKED');
    if (session.absoluteExpiresAt <= now || session.idleExpiresAt <= now)
      throw new AppError('SESSION_EXPIRED');

    if (session.generation === claims.gen + 1) {
      // Negative when the winner stamped the rotation later than this request read its clock: it
      // started first but lost the race, or runs on an instance whose clock is behind. Either way
      // the rotation is as recent as can be, so that is inside the window, not reuse.
      const sinceRotation = now - session.rotatedAt;
      const bound = session.jkt !== null;
      if (bound || (policy.refreshReuseGrace > 0 && sinceRotation <= policy.refreshReuseGrace * 1000)) {
        return { ...issueTokenPair(tenant.keyring, tokenPolicy, session, user), outcome: 'replayed' };
      }
    } else if (session.generation === claims.gen) {
      continue;
    } else if (session.generation < claims.gen) {
      // Signed by us for a generation the row never reached: the database went back in time
      // (restored from a backup). Refuse the token, leave the session alone.
      throw new AppError('INVALID_REFRESH_TOKEN');
    }

    // Reuse: an old generation came back after its successor was issued and the grace window
    // passed. One of the two holders may be a thief, and we cannot tell which: end the family.
    const revoked = await ctx.db.revokeSession(session.id, 'reuse', now);
    if (revoked) {
      const event = {
        storeId: tenant.record.id,
        type: 'refresh_token_reused' as const,
        sessionId: session.id,
        userId: user.id,
        detail: { presented_generation: claims.gen, current_generation: session.generation },
        createdAt: now,
      };
      await emitSecurityEvent(ctx, event);
    }
    throw new AppError('REFRESH_TOKEN_REUSED');
  }
  throw new AppError('SERVICE_UNAVAILABLE', 'The session is being refreshed concurrently; retry.', {
    headers: { 'retry-after': '1' },
  });
}
