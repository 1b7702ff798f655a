import type { RateLimiter } from '../ratelimit/contract.js';
import type { SessionContext } from '../sessions/context.js';
import type { OtpSender } from './delivery/contract.js';
import type { OutboxWorker } from './delivery/outbox.js';
import type { PasswordHasher } from './passwords.js';

/**
 * Limits on sending OTPs and trying passwords, each per fixed window, and the back-off on OTP
 * verifications. Every limit is charged to the client address first: a request its address may
 * not make is not charged to the email or phone it names, so one flooder cannot spend many
 * victims' allowances.
 */
export interface CustomerLimits {
  windowMs: number;
  /** OTPs sent to one email or phone per window. */
  otpPerIdentifier: number;
  /** OTPs requested from one client address per window. */
  otpPerAddress: number;
  /** Password logins tried for one email or phone per window. */
  loginPerIdentifier: number;
  /** Password logins tried from one client address per window (LOGIN_IP_RATE_LIMIT); 0: no limit. */
  loginPerAddress: number;
  /** Code verifications (right or wrong) one email or phone gets before the back-off starts. */
  otpFreeFailuresPerIdentifier: number;
  /** The same for one client address, over every email and phone it tries. */
  otpFreeFailuresPerAddress: number;
  /** The first wait of the back-off; it doubles with each further failure. */
  otpBackoffBaseMs: number;
  /** The longest wait (OTP_BACKOFF_MAX); 0: no back-off. */
  otpBackoffMaxMs: number;
}

export const DEFAULT_LIMITS: CustomerLimits = {
  windowMs: 10 * 60_000,
  otpPerIdentifier: 5,
  otpPerAddress: 20,
  loginPerIdentifier: 10,
  loginPerAddress: 30,
  otpFreeFailuresPerIdentifier: 10,
  otpFreeFailuresPerAddress: 20,
  otpBackoffBaseMs: 60_000,
  otpBackoffMaxMs: 3_600_000,
};

/** What the customer operations need on top of the session context. No HTTP, no SQL. */
export interface CustomerContext extends SessionContext {
  hasher: PasswordHasher;
  sender: OtpSender;
  /** Delivers queued OTPs; woken after each send. Absent where nothing delivers (tests of the domain alone). */
  outbox?: OutboxWorker;
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
