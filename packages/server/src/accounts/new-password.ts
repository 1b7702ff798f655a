import type { SessionRecord, UserAccount } from '../model.js';
import { openSession } from '../sessions/create.js';
import { emitSecurityEvent } from '../sessions/events.js';
import type { Tenant } from '../tenants/directory.js';
import type { TokenPair } from '../tokens/issue.js';
import type { CustomerContext } from './context.js';
import { addMethod, requireActiveAccount } from './records.js';
import { signIn } from './sign-in.js';

/** Who set the new password: a signed-in customer's session, or a reset code (with the request's Bearer, if any). */
export type PasswordSetter =
  | { via: 'change-password'; session: SessionRecord }
  | { via: 'reset-password'; bearer: string | undefined };

/**
 * Where every password change ends (change-password, reset-password, and any flow that sets a
 * password on a proven account): the new hash is stored, EVERY session of the customer is revoked,
 * the caller's own included, and the caller goes on in a brand-new session. A refresh token from
 * before the change then answers SESSION_REVOKED for good, never a grace replay (RFC 9700 §4.14.2:
 * a credential change ends the old grants), and presenting it touches only its dead session, so
 * it cannot take the new one down with it. `newPassword` must have passed checkNewPassword.
 */
export async function setNewPassword(
  ctx: CustomerContext,
  tenant: Tenant,
  account: UserAccount,
  newPassword: string,
  setter: PasswordSetter,
): Promise<{ account: UserAccount; tokens: TokenPair }> {
  const hash = await ctx.hasher.hash(newPassword);
  const now = ctx.clock.now();
  const userId = account.user.id;
  await ctx.db.setPasswordHash(userId, hash, now);
  const revoked = await ctx.db.revokeUserSessions(
    userId,
    setter.via === 'change-password' ? 'password_change' : 'password_reset',
    now,
  );
  await emitSecurityEvent(ctx, {
    storeId: tenant.record.id,
    type: 'password_changed',
    sessionId: setter.via === 'change-password' ? setter.session.id : null,
    userId,
    detail: { via: setter.via, sessions_revoked: revoked },
    createdAt: now,
  });
  if (!account.loginMethods.includes('password')) {
    await ctx.db.updateUser(userId, { loginMethods: addMethod(account.loginMethods, 'password') }, now);
  }
  const fresh = await requireActiveAccount(ctx, userId);
  if (setter.via === 'reset-password') return signIn(ctx, tenant, fresh, setter.bearer);
  // The shopper's cart id, if this session grew from an anonymous one, goes on with them.
  const { tokens } = await openSession(ctx, tenant, fresh.user, setter.session.anonymousId);
  return { account: fresh, tokens };
}
