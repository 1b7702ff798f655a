import { rateLimited } from '../ratelimit/enforce.js';
import type { Tenant } from '../tenants/directory.js';
import type { CustomerContext } from './context.js';

/** The verifications a key gets before the back-off starts, and its first wait. */
export const OTP_BACKOFF = {
  freeFailuresPerIdentifier: 10,
  freeFailuresPerAddress: 20,
  baseMs: 60_000,
} as const;

/**
 * The wait after the `failures`-th verification of a key: none within its free allowance, then a
 * minute, doubling with each further one, up to the maximum.
 */
export function backoffWaitMs(maxMs: number, failures: number, free: number): number {
  if (failures <= free) return 0;
  return Math.min(OTP_BACKOFF.baseMs * 2 ** (failures - free - 1), maxMs);
}

/**
 * Takes one verification slot of `key` or throws RATE_LIMITED with Retry-After. The attempt is
 * charged before the code is checked (a right code then clears it: clearGuesses), so concurrent
 * guesses cannot all slip through on one read: each takes its slot by compare-and-swap. Over time
 * this bounds the codes anyone can try against one email or phone, however many codes they have
 * had sent.
 */
export async function takeGuess(
  ctx: CustomerContext,
  tenant: Tenant,
  key: string,
  free: number,
  now: number,
): Promise<void> {
  const maxMs = tenant.limits.otpBackoffMax * 1000;
  if (maxMs <= 0) return;
  const storeId = tenant.record.id;
  for (let attempt = 0; attempt < 3; attempt++) {
    const state = await ctx.db.getBackoff(storeId, key);
    if (state.nextAttemptAt > now) {
      const retryAfterSeconds = Math.ceil((state.nextAttemptAt - now) / 1000);
      throw rateLimited({ allowed: false, retryAfterSeconds }, 'Too many codes tried; retry later.');
    }
    const failures = state.failures + 1;
    const next = { failures, nextAttemptAt: now + backoffWaitMs(maxMs, failures, free) };
    if (await ctx.db.setBackoff(storeId, key, state.failures, next)) return;
  }
  // Others took the slots this one read: it was not alone.
  throw rateLimited({ allowed: false, retryAfterSeconds: 1 }, 'Too many codes tried; retry later.');
}

/** A right code: the keys it was tried under start again from nothing. */
export async function clearGuesses(ctx: CustomerContext, tenant: Tenant, keys: string[]): Promise<void> {
  if (tenant.limits.otpBackoffMax <= 0) return;
  for (const key of keys) await ctx.db.clearBackoff(tenant.record.id, key);
}
