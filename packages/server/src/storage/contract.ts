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

export type RevokeReason = 'reuse' | 'logout' | 'password_change' | 'admin' | 'login' | 'user_deleted';

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
  type: 'refresh_token_reused' | 'session_revoked';
  sessionId: string | null;
  userId: string | null;
  detail: Record<string, unknown>;
  createdAt: number;
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
}
