import type { Clock } from '../clock.js';
import type { SecurityEvent } from '../model.js';
import type { RateLimiter } from '../ratelimit/contract.js';
import type { Database } from '../storage/contract.js';

/** Lifetimes and the grace window, seconds (see config.ts for each default). */
export interface SessionPolicy {
  accessTokenTtl: number;
  refreshTokenTtl: number;
  sessionMaxAge: number;
  refreshReuseGrace: number;
  /** Sessions not revoked that one customer holds at once; a new one past it revokes the oldest. */
  maxSessionsPerUser: number;
}

/** Receives security events (reuse detected, family revoked) after they are stored. */
export type SecurityEventListener = (event: SecurityEvent) => void;

/** What the session operations need: the database, a clock and the policy. No HTTP, no SQL. */
export interface SessionContext {
  db: Database;
  clock: Clock;
  policy: SessionPolicy;
  onSecurityEvent: SecurityEventListener;
  /** Counts refreshes per session (the store's `refreshPerSession` limit); absent: not counted. */
  rateLimiter?: RateLimiter;
  /**
   * Set per request by a session-creating route whose request carried a valid DPoP proof
   * (http/dpop.ts `bindingContext`): the thumbprint the session it opens is bound to (RFC 9449).
   */
  dpopJkt?: string;
}
