import { AppError } from '../errors/codes.js';
import type { Caller } from '../http/client-address.js';
import type { RateLimitDecision, RateLimiter } from './contract.js';
import { type AddressLimit, LIMITS, type LimitName, type LimitValues } from './limits.js';

/** The RATE_LIMITED error for a refused decision, with its Retry-After (RFC 6585 §4). */
export function rateLimited(decision: RateLimitDecision, message: string): AppError {
  return new AppError('RATE_LIMITED', message, {
    headers: { 'retry-after': String(decision.retryAfterSeconds) },
  });
}

/**
 * Counts one hit of limit `name` on `subject` (a session id, an identifier) in the limit's window;
 * past the store's value of that limit, throws RATE_LIMITED. A value of 0 turns the limit off.
 */
export async function enforceLimit(
  limiter: RateLimiter,
  limits: LimitValues,
  name: Exclude<LimitName, AddressLimit | 'otpAttempts' | 'otpBackoffMax' | 'frontendBudgetFactor'>,
  subject: string,
  message: string,
): Promise<void> {
  const limit = limits[name];
  if (limit <= 0) return;
  const decision = await limiter.hit(`${name}:${subject}`, limit, LIMITS[name].windowMs);
  if (!decision.allowed) throw rateLimited(decision, message);
}

/**
 * Counts one hit of the per-address limit `name` for `caller` at `storeId`. A declared front end
 * that forwarded no shopper address has its own key and `frontendBudgetFactor` times the limit:
 * many shoppers share it, so it must never be one shopper's allowance, nor unlimited.
 */
export async function enforceAddressLimit(
  limiter: RateLimiter,
  limits: LimitValues,
  name: AddressLimit,
  storeId: string,
  caller: Caller,
  message: string,
): Promise<void> {
  const base = limits[name];
  if (base <= 0) return;
  const frontend = caller.kind === 'front end';
  const limit = frontend ? base * limits.frontendBudgetFactor : base;
  const key = `${name}:${frontend ? 'fe' : 'ip'}:${storeId}:${caller.address}`;
  const decision = await limiter.hit(key, limit, LIMITS[name].windowMs);
  if (!decision.allowed) throw rateLimited(decision, message);
}
