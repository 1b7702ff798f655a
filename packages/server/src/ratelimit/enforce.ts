import { AppError } from '../errors/codes.js';
import type { RateLimitDecision, RateLimiter } from './contract.js';

/** The RATE_LIMITED error for a refused decision, with its Retry-After. */
export function rateLimited(decision: RateLimitDecision, message: string): AppError {
  return new AppError('RATE_LIMITED', message, {
    headers: { 'retry-after': String(decision.retryAfterSeconds) },
  });
}

/** Counts one hit on `key`; past `limit` in the window, throws RATE_LIMITED with Retry-After. */
export async function enforceLimit(
  limiter: RateLimiter,
  key: string,
  limit: number,
  windowMs: number,
  message: string,
): Promise<void> {
  const decision = await limiter.hit(key, limit, windowMs);
  if (!decision.allowed) throw rateLimited(decision, message);
}
