/**
 * The storage contract: everything the domain needs from a database, and nothing more.
 * Times are milliseconds since the epoch. Every backend passes `test/storage/conformance.ts` and
 * `test/storage/operator-conformance.ts`.
 */

import type {
  ApiKeyRecord,
  BackoffState,
  Identifier,
  OtpRecord,
  OutboxMessage,
  ProfileImageRecord,
  RevokeReason,
  SecurityEvent,
  SessionRecord,
  SessionWithUser,
  SigningKeyRecord,
  StoreRecord,
  StoreSettings,
  UserAccount,
  UserPatch,
  UserRecord,
} from '../model.js';
import type { OperatorStore } from './operator.js';

export interface RotateInput {
  sessionId: string;
  /** The store and user the presented token names: a session of another store or user never matches. */
  storeId: string;
  userId: string;
  /** The generation the presented refresh token carries. */
  generation: number;
  now: number;
  /** Proposed idle expiry; the database caps it at the session's absolute expiry. */
  idleExpiresAt: number;
  /**
   * The thumbprint of the key the request's valid DPoP proof was made with, or null without one.
   * A bound session (its `jkt` set) rotates only for its own key; an unbound one whatever this is
   * (and stays unbound: a refresh never binds, RFC 9449 leaves binding to session creation).
   * Absent: null.
   */
  jkt?: string | null;
}

/** `rotated: false` means the compare-and-swap did not match; `session` is then the row as found. */
export interface RotateResult extends SessionWithUser {
  rotated: boolean;
}

/**
 * The outcome of one verification attempt. `verified`: the code matched and this attempt consumed
 * the OTP (no other attempt ever will). Otherwise why it failed; `record` is the row as it is now.
 */
export type OtpAttempt =
  | { outcome: 'verified'; record: OtpRecord }
  | { outcome: 'wrong_code' | 'expired' | 'exhausted' | 'consumed'; record: OtpRecord }
  | { outcome: 'missing' };

/**
 * The outcome of redeeming a verified OTP. `redeemed`: this call spent it (no other ever will).
 * Otherwise why not: its code was never verified, it is past its lifetime, or it was redeemed before.
 */
export type OtpRedemption =
  | { outcome: 'redeemed'; record: OtpRecord }
  | { outcome: 'unverified' | 'expired' | 'already_redeemed'; record: OtpRecord }
  | { outcome: 'missing' };

/** `claimIdentifier`'s answer: see there. */
export type ClaimOutcome =
  | { outcome: 'claimed'; releasedFrom: string[] }
  | { outcome: 'conflict' }
  | { outcome: 'missing' };

/** `updateUser`'s answer: see there. */
export type UserUpdateOutcome = 'updated' | 'conflict' | 'missing';

/** What the pool of a networked backend is doing, for the metrics. */
export interface PoolStats {
  /** Connections open. */
  total: number;
  /** Open and unused. */
  idle: number;
  /** Queries waiting for a connection. */
  waiting: number;
}

/** A database failure that made requests answer 503, with the driver's code and message only. */
export interface UnavailableReport {
  code: string | undefined;
  message: string;
}

/**
 * The database: every record the domain keeps (stores, API keys, signing keys, users and
 * customer accounts, sessions, OTPs, security events, store settings). Each method is one
 * atomic step; none is check-then-write across calls. Failures that mean "unavailable, retry"
 * reject with AppError SERVICE_UNAVAILABLE; anything else rejects as it is.
 */
export interface Database {
  /**
   * Applies pending versioned migrations; safe to call on every start and from several processes
   * at once (they migrate one at a time). Its failures keep the driver's words: an operator reads them.
   */
  migrate(): Promise<void>;
  /** Releases the connections (SQLite checkpoints its WAL). The handle is unusable afterwards. */
  close(): Promise<void>;
  /** The operator side of this database (CLI, scheduled purge, metrics), sharing its connections. */
  operator(): OperatorStore;
  /** Backends with a connection pool report it here; absent on embedded ones. */
  poolStats?(): PoolStats;
  /**
   * Told when a request failed because the database is unavailable (at most every few seconds),
   * so a run of 503s has its cause in the log. Backends that cannot be unreachable never call it.
   */
  onUnavailable?: ((failure: UnavailableReport) => void) | undefined;

  /** The store (tenant) with this id, or null. */
  getStore(id: string): Promise<StoreRecord | null>;
  /** Inserts the store unless one with its id exists; answers whether it was created (the first of racing instances). */
  createStore(store: StoreRecord): Promise<boolean>;

  /** Stores a key by its hash; the key itself never reaches the database. A duplicate hash rejects. */
  addApiKey(key: ApiKeyRecord): Promise<void>;
  /** The store's unrevoked key with this SHA-256 hash, or null: revoked and other stores' keys never match. */
  findApiKey(storeId: string, keyHash: string): Promise<ApiKeyRecord | null>;

  /** Every signing key of the store, retired ones included, oldest first (then by kid), as stored. */
  listSigningKeys(storeId: string): Promise<SigningKeyRecord[]>;
  /** Adds one key; seen at once by every handle on the database (how instances learn of a rotation). */
  addSigningKey(key: SigningKeyRecord): Promise<void>;

  /** Inserts a user (anonymous or not) as given; an existing id rejects. */
  createUser(user: UserRecord): Promise<void>;
  /** The user with this id, anonymous or not, or null. */
  getUser(id: string): Promise<UserRecord | null>;

  /**
   * Inserts a session; its user must exist. With `keep`, the user's sessions not revoked beyond the
   * `keep` newest (by creation, this one included) are then revoked as `session_limit`, at the new
   * session's creation time. Answers how many that revoked.
   */
  createSession(session: SessionRecord, keep?: number): Promise<number>;
  /** The session with its user, in one read, whatever its state (revoked and expired included); null when gone. */
  getSession(id: string): Promise<SessionWithUser | null>;
  /**
   * The refresh compare-and-swap: when the session's generation equals `generation`, it belongs to
   * `storeId` and `userId`, it is live and unexpired at `now`, it is unbound or bound to `jkt`, bump the generation, set `rotatedAt = now` and the idle expiry, all
   * atomically. Answers the row after the attempt (with its user), or null when the session is gone.
   */
  rotateSession(input: RotateInput): Promise<RotateResult | null>;
  /** Revokes a live session; answers false when it was already revoked or is gone. */
  revokeSession(id: string, reason: RevokeReason, now: number): Promise<boolean>;

  /**
   * Accepts a DPoP proof's `jti` for the key `jkt` once (RFC 9449 §11.1): answers true when the pair
   * was new and is now kept until `expiresAt` (ms), false when it was seen before (a replay). Of
   * concurrent callers on any handle or instance, exactly one gets true. Expired pairs are purged
   * (PurgeKind `dpop_proofs`); until then they still count as seen.
   */
  recordDpopProof(jkt: string, jti: string, expiresAt: number): Promise<boolean>;

  /** Appends an event to the security log (kept 90 days; see PurgeKind). */
  recordSecurityEvent(event: SecurityEvent): Promise<void>;

  /** The store's settings; every setting is off for a store that never set them (or does not exist). */
  getStoreSettings(storeId: string): Promise<StoreSettings>;
  /** Replaces the store's settings. */
  setStoreSettings(storeId: string, settings: StoreSettings): Promise<void>;
  /** The limits this store set for itself, by name (ratelimit/limits.ts); empty when none. */
  getStoreLimits(storeId: string): Promise<Record<string, number>>;
  /** Sets one of the store's limits, or with `null` goes back to the configured value. */
  setStoreLimit(storeId: string, name: string, value: number | null): Promise<void>;

  /**
   * Inserts a customer; answers false when its id is taken, or when an email or phone it has
   * verified is verified on another customer of the store (pending ones never conflict).
   */
  createAccount(account: UserAccount): Promise<boolean>;
  /** The customer with this id, whatever its status; null for an anonymous user or a missing one. */
  getAccount(userId: string): Promise<UserAccount | null>;
  /**
   * The customer of the store who has PROVEN this (normalized) email, whatever its status. An
   * account where it is only pending (unverified) is never found by it.
   */
  findAccountByEmail(storeId: string, email: string): Promise<UserAccount | null>;
  /** Like findAccountByEmail, for a proven country code and phone. */
  findAccountByPhone(storeId: string, countryCode: string, phone: string): Promise<UserAccount | null>;
  /**
   * The customer proved the identifier: atomically, it leaves every other customer of the store
   * where it was only pending (their ids in `releasedFrom`), and is set on `userId`, verified.
   * `conflict` (nothing changed) when another customer of the store has it verified; `missing`
   * when `userId` is no customer.
   */
  claimIdentifier(userId: string, identifier: Identifier, now: number): Promise<ClaimOutcome>;
  /**
   * Changes the given fields and `modifiedAt`. Answers `conflict` (and changes nothing) when that
   * would leave an email or phone verified on two customers of the store, `missing` when the
   * user is gone.
   */
  updateUser(userId: string, patch: UserPatch, now: number): Promise<UserUpdateOutcome>;
  /** Replaces the password hash (argon2id PHC) and stamps `modifiedAt`; false when the user is gone. */
  setPasswordHash(userId: string, passwordHash: string, now: number): Promise<boolean>;
  /** Marks the account deactivated and revokes all its live sessions, atomically. */
  deactivateUser(userId: string, now: number): Promise<boolean>;
  /** Deletes the user; its sessions and OTPs go with it (a later refresh finds no session). */
  deleteUser(userId: string): Promise<boolean>;
  /** Revokes every live session of the user except `exceptSessionId`; answers how many. */
  revokeUserSessions(
    userId: string,
    reason: RevokeReason,
    now: number,
    exceptSessionId?: string,
  ): Promise<number>;

  /**
   * Stores an OTP in flight (hashed: see OtpRecord) and, when given, the outbox message that
   * delivers it, in one transaction: both or neither. An existing id rejects.
   */
  createOtp(otp: OtpRecord, delivery: OutboxMessage | null): Promise<void>;
  /**
   * One verification attempt, atomically: while the OTP is unconsumed, unexpired at `now` and has
   * had fewer than `maxAttempts` attempts, count the attempt and, when `codeHash` matches, consume
   * it. Concurrent attempts with the right code: exactly one is `verified`.
   */
  attemptOtp(id: string, codeHash: string, now: number, maxAttempts: number): Promise<OtpAttempt>;
  /**
   * Spends a verified OTP on its purpose, atomically and once: while its code was verified
   * (consumed), it is unexpired at `now` and was not redeemed, mark it redeemed. Concurrent
   * redemptions: exactly one is `redeemed`.
   */
  redeemOtp(id: string, now: number): Promise<OtpRedemption>;

  /** The user's profile image, or null. */
  getProfileImage(userId: string): Promise<ProfileImageRecord | null>;
  /**
   * Stores the user's image, replacing any; with `replace`, only when one exists. False when
   * nothing was stored (the user is gone; with `replace`, there was no image).
   */
  putProfileImage(image: ProfileImageRecord, replace: boolean): Promise<boolean>;
  /** Deletes the user's image; false when there was none. Deleting the user deletes it too. */
  deleteProfileImage(userId: string): Promise<boolean>;

  /** The OTP with this id, whatever its state, or null. */
  findOtp(id: string): Promise<OtpRecord | null>;

  /** The back-off state of `key` in the store; `{failures: 0, nextAttemptAt: 0}` when it has none. */
  getBackoff(storeId: string, key: string): Promise<BackoffState>;
  /**
   * Compare-and-swap: stores `next` when the key's failures are still `expectedFailures` (a key
   * without state has 0); answers whether it did. Of concurrent callers that read the same state,
   * exactly one succeeds.
   */
  setBackoff(storeId: string, key: string, expectedFailures: number, next: BackoffState): Promise<boolean>;
  /** Forgets the key's back-off (a right code). */
  clearBackoff(storeId: string, key: string): Promise<void>;

  /**
   * Claims up to `limit` outbox messages due at `now` (not done, `nextAttemptAt <= now`), oldest
   * due first: each gets one more attempt and `nextAttemptAt = leaseUntil`. Callers on several
   * handles or instances at once never claim the same message (on PostgreSQL,
   * `FOR UPDATE SKIP LOCKED`); a claim whose holder dies comes back when its lease ends.
   */
  claimOutbox(now: number, limit: number, leaseUntil: number): Promise<OutboxMessage[]>;
  /** Puts a claimed message back for another try at `nextAttemptAt`; no-op once it is done. */
  retryOutbox(id: string, nextAttemptAt: number): Promise<void>;
  /** Marks the message done (`delivered` or `failed`) and blanks its payload; answers false if it was already done. */
  finishOutbox(id: string, outcome: 'delivered' | 'failed', now: number): Promise<boolean>;
}
