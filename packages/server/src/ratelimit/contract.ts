export interface RateLimitDecision {
  allowed: boolean;
  /** Seconds until the window resets; what Retry-After says when `allowed` is false. */
  retryAfterSeconds: number;
}

/** Counts hits per key in fixed windows. In-process now; a shared implementation fits the same shape. */
export interface RateLimiter {
  hit(key: string, limit: number, windowMs: number): Promise<RateLimitDecision>;
}
