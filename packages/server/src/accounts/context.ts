import type { Caller } from '../http/client-address.js';
import type { RateLimiter } from '../ratelimit/contract.js';
import type { SessionContext } from '../sessions/context.js';
import type { OtpSender } from './delivery/contract.js';
import type { OutboxWorker } from './delivery/outbox.js';
import type { PasswordHasher } from './passwords.js';

/** What the customer operations need on top of the session context. No HTTP, no SQL. */
export interface CustomerContext extends SessionContext {
  hasher: PasswordHasher;
  sender: OtpSender;
  /** Delivers queued OTPs; woken after each send. Absent where nothing delivers (tests of the domain alone). */
  outbox?: OutboxWorker;
  rateLimiter: RateLimiter;
  /** The store whose OTP debug setting OTP_DEBUG turned on at start, if any. */
  otpDebugStoreId: string | null;
}

/** Who is calling, as far as the customer operations care. */
export interface ClientInfo {
  /** Who per-address limits count: the shopper's address, or a declared front end's budget. */
  caller: Caller;
  /** `x-debug-mode: true`: return the OTP in the answer, if the store allows it. */
  debug: boolean;
  /** The Bearer access token sent with the request, if any. */
  bearer: string | undefined;
}
