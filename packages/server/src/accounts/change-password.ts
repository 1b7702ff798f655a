import { AppError } from '../errors/codes.js';
import { emitSecurityEvent } from '../sessions/events.js';
import { type Tenant, tokenPolicyOf } from '../tenants/directory.js';
import { issueTokenPair, type TokenPair } from '../tokens/issue.js';
import { authenticateCustomer } from './authenticate.js';
import type { CustomerContext } from './context.js';
import { checkNewPassword, dummyHash } from './passwords.js';
import { requireActiveAccount } from './records.js';

/**
 * POST /auth/change-password: checks the old password, stores the new one, revokes every other
 * session of the customer (a thief holding one loses it) and rotates the caller's own session, so
 * the tokens it held before the change stop refreshing too (OWASP ASVS V3.3.3).
 */
export async function changePassword(
  ctx: CustomerContext,
  tenant: Tenant,
  bearer: string | undefined,
  input: { oldPassword: string; newPassword: string; confirmPassword: string },
): Promise<TokenPair> {
  const caller = await authenticateCustomer(ctx, tenant, bearer);
  checkNewPassword(input.newPassword, input.confirmPassword);
  const account = await requireActiveAccount(ctx, caller.user.id);
  const hash = account.passwordHash ?? (await dummyHash(ctx.hasher));
  const matches = await ctx.hasher.verify(hash, input.oldPassword);
  if (!account.passwordHash || !matches)
    throw new AppError('INVALID_CREDENTIALS', 'The old password is not correct.');

  const newHash = await ctx.hasher.hash(input.newPassword);
  const now = ctx.clock.now();
  await ctx.db.setPasswordHash(account.user.id, newHash, now);
  const revoked = await ctx.db.revokeUserSessions(account.user.id, 'password_change', now, caller.session.id);
  await emitSecurityEvent(ctx, {
    storeId: tenant.record.id,
    type: 'password_changed',
    sessionId: caller.session.id,
    userId: account.user.id,
    detail: { via: 'change-password', other_sessions_revoked: revoked },
    createdAt: now,
  });
  const rotated = await ctx.db.rotateSession({
    sessionId: caller.session.id,
    generation: caller.session.generation,
    now,
    idleExpiresAt: now + ctx.policy.refreshTokenTtl * 1000,
  });
  if (!rotated?.rotated) {
    // A refresh of this session won the race: the password is changed, but this session's pair
    // moved on. Ending it is the safe answer; the client logs in with the new password.
    await ctx.db.revokeSession(caller.session.id, 'password_change', now);
    throw new AppError('SESSION_REVOKED', 'The password was changed; log in again.');
  }
  return issueTokenPair(
    tenant.keyring,
    tokenPolicyOf(tenant, ctx.policy.accessTokenTtl),
    rotated.session,
    rotated.user,
  );
}
