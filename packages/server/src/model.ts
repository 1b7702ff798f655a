/**
 * The domain's records: stores, keys, users, customer accounts, sessions, OTPs and security
 * events. Times are milliseconds since the epoch. Storage (storage/contract.ts) keeps them; the
 * domain and the routes read their model from here.
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
  | 'password_reset'
  /** Revoked by a newer sign-in of the same account past MAX_SESSIONS_PER_USER. */
  | 'session_limit';

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
  /**
   * The RFC 7638 SHA-256 thumbprint of the key this session is bound to (RFC 9449 DPoP), set once
   * at creation from the creating call's proof; null: unbound (refreshes need no proof).
   */
  jkt: string | null;
}

export interface SessionWithUser {
  session: SessionRecord;
  user: UserRecord;
}

export interface SecurityEvent {
  storeId: string;
  /**
   * `refresh_token_reused`: a family was revoked for reuse. `session_revoked`: one session ended
   * by an operator or RFC 7009 call. `sessions_revoked`: every session of a user ended by an
   * operator. `password_changed`: a password was changed or reset (its sessions ended).
   * `pending_identifier_dropped`: an email or phone that account had not proven was proven by
   * another customer and left it (`detail.claimed_by`, `detail.kind`). `otp_delivery_failed`: an
   * OTP's delivery was given up (`detail.delivery_id`, `attempts`, `reason`).
   */
  type:
    | 'refresh_token_reused'
    | 'session_revoked'
    | 'sessions_revoked'
    | 'password_changed'
    | 'pending_identifier_dropped'
    | 'otp_delivery_failed';
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
  /** The ETag of the customer's profile image, null without one (read with the account). */
  profileImageEtag: string | null;
}

/** How a customer is found: a normalized email, or a phone's national digits with its country code. */
export type Identifier = { email: string } | { phone: string; countryCode: string };

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
  /**
   * When the verified code was spent on what it was for (a password reset), once: a reset code is
   * verified (consumedAt) by verify-otp, then redeemed by reset-password, or both at once.
   */
  redeemedAt: number | null;
  /** What verification applies (e.g. the pending registration), JSON-serializable. */
  payload: Record<string, unknown>;
  createdAt: number;
}

/** A customer's profile image, kept in the database so every instance serves the same bytes. */
export interface ProfileImageRecord {
  userId: string;
  storeId: string;
  /** Decided from the bytes at upload, never taken from the client. */
  contentType: 'image/png' | 'image/jpeg' | 'image/webp' | 'image/gif';
  bytes: Uint8Array;
  /** A strong validator of the bytes (RFC 9110 §8.8.3), quoted. */
  etag: string;
  createdAt: number;
  modifiedAt: number;
}

/**
 * The back-off of OTP verifications for one key of a store (an email or phone, or a client
 * address): attempts since the last right code, and the earliest time of the next one.
 */
export interface BackoffState {
  failures: number;
  nextAttemptAt: number;
}

/**
 * A message waiting in the outbox to be delivered (today: an OTP to its sender). Written in the
 * transaction of what it announces; a worker on every instance claims it, delivers it, and marks
 * it done. `payload` holds what delivery needs (for an OTP, the code itself), so it is kept only
 * until the message is done or expired, then blanked.
 */
export interface OutboxMessage {
  /** Unique; what a receiver dedupes retried deliveries on. */
  id: string;
  storeId: string;
  kind: 'otp';
  payload: Record<string, unknown>;
  /** Deliveries tried so far (claims count as tries). */
  attempts: number;
  /** Not claimed before this time: a retry's back-off, or the lease of a claim in flight. */
  nextAttemptAt: number;
  /** Given up after this time (an OTP past its life is worth nothing). */
  expiresAt: number;
  createdAt: number;
}

/** Per-store settings an operator turns on. */
export interface StoreSettings {
  /** Development only: `x-debug-mode: true` may return OTPs in responses. */
  otpDebug: boolean;
  /** The `aud` of the store's access tokens; null: `DEFAULT_AUDIENCE`. */
  audience: string | null;
  /**
   * New sessions must be DPoP-bound (RFC 9449): a session-creating call without a proof is refused.
   * Read back always; absent when writing: off.
   */
  requireDpop?: boolean;
}
