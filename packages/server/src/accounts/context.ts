import type { RateLimiter } from '../ratelimit/contract.js';
import type { SessionContext } from '../sessions/context.js';
import type { OtpSender } from './delivery/contract.js';
import type { PasswordHasher } from './passwords.js';

/** Limits on sending OTPs and trying passwords, each per fixed window. */
export interface CustomerLimits {
  windowMs: number;
  /** OTPs sent to one email or phone per window. */
  otpPerIdentifier: number;
  /** OTPs requested from one client address per window. */
  otpPerAddress: number;
  /** Password logins tried for one email or phone per window. */
  loginPerIdentifier: number;
}

export const DEFAULT_LIMITS: CustomerLimits = {
  windowMs: 10 * 60_000,
  otpPerIdentifier: 5,
  otpPerAddress: 20,
  loginPerIdentifier: 10,
};

/** What the customer operations need on top of the session context. No HTTP, no SQL. */
export interface CustomerContext extends SessionContext {
  hasher: PasswordHasher;
  sender: OtpSender;
  rateLimiter: RateLimiter;
  limits: CustomerLimits;
  /** The store whose OTP debug setting OTP_DEBUG turned on at start, if any. */
  otpDebugStoreId: string | null;
}

/** Who is calling, as far as the customer operations care. */
export interface ClientInfo {
  /** Client address, for per-address limits. */
  ip: string;
  /** `x-debug-mode: true`: return the OTP in the answer, if the store allows it. */
  debug: boolean;
  /** The Bearer access token sent with the request, if any. */
  bearer: string | undefined;
}
