import { AppError } from '../errors/codes.js';
import type { Identifier } from '../model.js';
import { emitSecurityEvent } from '../sessions/events.js';
import type { Tenant } from '../tenants/directory.js';
import type { CustomerContext } from './context.js';

/**
 * The customer `userId` just proved `id` with a code: it becomes theirs (verified, unique, usable
 * to log in), and leaves every other account where it was only pending, each with a security
 * event. That is what keeps an account from being pre-hijacked: whoever put someone else's address
 * on their account first gains nothing once the owner proves it (Sudhodanan and Paverd, "Pre-hijacked
 * accounts", USENIX Security 2022). USER_EXISTS when another customer has proven it already.
 */
export async function claimProvenIdentifier(
  ctx: CustomerContext,
  tenant: Tenant,
  userId: string,
  id: Identifier,
): Promise<void> {
  const now = ctx.clock.now();
  const result = await ctx.db.claimIdentifier(userId, id, now);
  if (result.outcome === 'conflict') throw new AppError('USER_EXISTS');
  if (result.outcome === 'missing') throw new AppError('USER_NOT_FOUND');
  for (const from of result.releasedFrom) {
    await emitSecurityEvent(ctx, {
      storeId: tenant.record.id,
      type: 'pending_identifier_dropped',
      sessionId: null,
      userId: from,
      detail: { kind: 'email' in id ? 'email' : 'phone', claimed_by: userId },
      createdAt: now,
    });
  }
}
