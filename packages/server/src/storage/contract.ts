/**
 * The storage contract: everything the domain needs from a database, and nothing more.
 * Times are milliseconds since the epoch. Every backend passes `test/storage/conformance.ts`.
 */

export interface StoreRecord {
  id: string;
  name: string;
  createdAt: number;
}

export interface ApiKeyRecord {
  id: string;
  storeId: string;
  /** SHA-256 of the key, hex: the key itself is shown once and never stored. */
  keyHash: string;
  kind: 'public' | 'secret';
  createdAt: number;
  revokedAt: number | null;
  /** The operator's name for the key (`--label`), to tell keys apart. */
  label?: string;
  /** The key's first characters, shown in listings to tell keys apart; the rest is never stored. */
  prefix?: string;
}

export interface SigningKeyRecord {
  kid: string;
  storeId: string;
  /** `access`: asymmetric, published at the JWKS endpoint. `refresh`: a server-only secret. */
  use: 'access' | 'refresh';
  alg: 'ES256' | 'EdDSA' | 'HS256';
  /** Private JWK as JSON text (for HS256 an `oct` JWK). */
  privateJwk: string;
  createdAt: number;
  /** After this time the key no longer signs; it still verifies until `retiredAt`. */
  rotatedAt: number | null;
  /** After this time the key neither signs nor verifies. */
  retiredAt: number | null;
}

export interface UserRecord {
  id: string;
  storeId: string;
  isAnonymous: boolean;
  email: string | null;
  phone: string | null;
  countryCode: string | null;
  firstName: string | null;
  lastName: string | null;
  customerId: string | null;
  customerGroupId: string | null;
  isEmailVerified: boolean;
  isPhoneVerified: boolean;
  createdAt: number;
  modifiedAt: number;
}

export type RevokeReason =
  | 'reuse'
  | 'logout'
  | 'password_change'
  | 'admin'
  | 'login'
  | 'user_deleted'
  | 'user_deactivated'
  | 'password_reset';

export interface SessionRecord {
  id: string;
  storeId: string;
  userId: string;
  /** The anonymous user this customer session grew from, if any. */
  anonymousId: string | null;
  /** Bumped by one on every rotation; a refresh token carries the generation it was minted at. */
  generation: number;
  createdAt: number;
  /** When `generation` was last bumped (creation time at generation 0). */
  rotatedAt: number;
  idleExpiresAt: number;
  absoluteExpiresAt: number;
  revokedAt: number | null;
  revokedReason: RevokeReason | null;
}

export interface SessionWithUser {
  session: SessionRecord;
  user: UserRecord;
}

export interface RotateInput {
  sessionId: string;
  /** The generation the presented refresh token carries. */
  generation: number;
  now: number;
  /** Proposed idle expiry; the store caps it at the session's absolute expiry. */
  idleExpiresAt: number;
}

/** `rotated: false` means the compare-and-swap did not match; `session` is then the row as found. */
export interface RotateResult extends SessionWithUser {
  rotated: boolean;
}

export interface SecurityEvent {
  storeId: string;
  /**
   * `refresh_token_reused`: a family was revoked for reuse. `session_revoked`: one session ended
   * by an operator or RFC 7009 call. `sessions_revoked`: every session of a user ended by an
   * operator. `password_changed`: a password was changed or reset (its other sessions ended).
   */
  type: 'refresh_token_reused' | 'session_revoked' | 'sessions_revoked' | 'password_changed';
  sessionId: string | null;
  userId: string | null;
  detail: Record<string, unknown>;
  createdAt: number;
}

/** How a customer can sign in; answered in the User's `login_methods`. */
export type LoginMethod = 'email' | 'phone' | 'whatsapp' | 'password';

export interface NotificationChannels {
  email: boolean;
  sms: boolean;
  whatsapp: boolean;
}

export interface NotificationPreferences {
  transactional: NotificationChannels;
  promotional: NotificationChannels;
  newsletter: NotificationChannels;
}

/** A customer's user row plus what only the customer operations read: credentials and status. */
export interface UserAccount {
  user: UserRecord;
  /** argon2id PHC string; null for accounts that only sign in by OTP. */
  passwordHash: string | null;
  /** A deactivated account cannot sign in; its sessions were revoked when it was deactivated. */
  status: 'active' | 'deactivated';
  loginMethods: LoginMethod[];
  notificationPreferences: NotificationPreferences | null;
}

/** The writable fields of a customer, as `PUT /auth/user/{id}` and OTP verification change them. */
export interface UserPatch {
  email?: string | null;
  phone?: string | null;
  countryCode?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  isEmailVerified?: boolean;
  isPhoneVerified?: boolean;
  loginMethods?: LoginMethod[];
  notificationPreferences?: NotificationPreferences | null;
}

export type OtpAction =
  | 'register'
  | 'login'
  | 'reset-password'
  | 'verify-email'
  | 'verify-phone'
  | 'update-email'
  | 'update-phone';

/**
 * A one-time password in flight. Neither the code nor the token that names it is stored: `id` is
 * SHA-256 of the otp_token, `codeHash` SHA-256 of token and code together (so a copy of the table
 * cannot be brute-forced without the 128-bit token, which only the client holds).
 */
export interface OtpRecord {
  id: string;
  storeId: string;
  action: OtpAction;
  channel: 'email' | 'sms' | 'whatsapp';
  /** The normalized email, or `country_code + phone`. */
  identifier: string;
  /** The account this OTP acts on; null when it creates one. */
  userId: string | null;
  codeHash: string;
  attempts: number;
  expiresAt: number;
  consumedAt: number | null;
  /** What verification applies (e.g. the pending registration), JSON-serializable. */
  payload: Record<string, unknown>;
  createdAt: number;
}

/**
 * The outcome of one verification attempt. `verified`: the code matched and this attempt consumed
 * the OTP (no other attempt ever will). Otherwise why it failed; `record` is the row as it is now.
 */
export type OtpAttempt =
  | { outcome: 'verified'; record: OtpRecord }
  | { outcome: 'wrong_code' | 'expired' | 'exhausted' | 'consumed'; record: OtpRecord }
  | { outcome: 'missing' };

/** Per-store settings an operator turns on. */
export interface StoreSettings {
  /** Development only: `x-debug-mode: true` may return OTPs in responses. */
  otpDebug: boolean;
}

export interface SessionStore {
  /** Applies pending versioned migrations; safe to call on every start. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  getStore(id: string): Promise<StoreRecord | null>;
  /** Inserts the store unless it exists; answers whether it was created. */
  createStore(store: StoreRecord): Promise<boolean>;

  addApiKey(key: ApiKeyRecord): Promise<void>;
  findApiKey(storeId: string, keyHash: string): Promise<ApiKeyRecord | null>;

  listSigningKeys(storeId: string): Promise<SigningKeyRecord[]>;
  addSigningKey(key: SigningKeyRecord): Promise<void>;

  createUser(user: UserRecord): Promise<void>;
  getUser(id: string): Promise<UserRecord | null>;

  createSession(session: SessionRecord): Promise<void>;
  getSession(id: string): Promise<SessionWithUser | null>;
  /**
   * The refresh compare-and-swap: when the session's generation equals `generation`, it is live
   * and unexpired at `now`, bump the generation, set `rotatedAt = now` and the idle expiry, all
   * atomically. Answers the row after the attempt (with its user), or null when the session is gone.
   */
  rotateSession(input: RotateInput): Promise<RotateResult | null>;
  /** Revokes a live session; answers false when it was already revoked or is gone. */
  revokeSession(id: string, reason: RevokeReason, now: number): Promise<boolean>;

  recordSecurityEvent(event: SecurityEvent): Promise<void>;

  getStoreSettings(storeId: string): Promise<StoreSettings>;
  setStoreSettings(storeId: string, settings: StoreSettings): Promise<void>;

  /** Inserts a customer; answers false when the store already has a customer with that email or phone. */
  createAccount(account: UserAccount): Promise<boolean>;
  getAccount(userId: string): Promise<UserAccount | null>;
  /** The non-anonymous user of the store with this (normalized) email, whatever its status. */
  findAccountByEmail(storeId: string, email: string): Promise<UserAccount | null>;
  findAccountByPhone(storeId: string, countryCode: string, phone: string): Promise<UserAccount | null>;
  /**
   * Changes the given fields. Answers `conflict` (and changes nothing) when the new email or phone
   * belongs to another customer of the store, `missing` when the user is gone.
   */
  updateUser(userId: string, patch: UserPatch, now: number): Promise<'updated' | 'conflict' | 'missing'>;
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

  createOtp(otp: OtpRecord): Promise<void>;
  /**
   * One verification attempt, atomically: while the OTP is unconsumed, unexpired at `now` and has
   * had fewer than `maxAttempts` attempts, count the attempt and, when `codeHash` matches, consume
   * it. Concurrent attempts with the right code: exactly one is `verified`.
   */
  attemptOtp(id: string, codeHash: string, now: number, maxAttempts: number): Promise<OtpAttempt>;
}
