import type { ApiKeyRecord, SessionRecord, SigningKeyRecord, StoreRecord } from '../model.js';

/**
 * What operators do, beside the request path: the CLI, the scheduled purge and the metrics read
 * these. Kept apart from Database so the contract the domain depends on stays small; each
 * backend implements it beside its Database, which hands it out as `db.operator()`.
 */
export interface OperatorStore {
  /** Every store, by id. */
  listStores(): Promise<StoreRecord[]>;
  /** The store's API keys, revoked ones included, oldest first (only hashes: keys are never stored). */
  listApiKeys(storeId: string): Promise<ApiKeyRecord[]>;
  /** Answers false when no live key of the store has that id. */
  revokeApiKey(storeId: string, keyId: string, now: number): Promise<boolean>;
  /**
   * In one transaction: every key of the store, of a use in `newKeys`, that still signs or is due to
   * sign after `now` (never rotated, or rotated later than `now`: a pending rotation's keys too)
   * gets `rotatedAt` (they stop signing then) and that use's `retiredAt` (they stop verifying
   * then); `newKeys` are added. So the newest rotation decides when its keys take over.
   */
  rotateSigningKeys(
    storeId: string,
    newKeys: SigningKeyRecord[],
    rotateAt: number,
    retireAt: Record<SigningKeyRecord['use'], number>,
    now: number,
  ): Promise<void>;
  /**
   * In one transaction: the live key `kid` stops signing and verifying at `now`, and `replacement`
   * (when given) is added. Answers false when the store has no such key still verifying.
   */
  retireSigningKey(
    storeId: string,
    kid: string,
    now: number,
    replacement: SigningKeyRecord | undefined,
  ): Promise<boolean>;
  /**
   * Replaces a key's stored private material (`keys rewrap`), only if it is still `from`: answers
   * false when another writer changed it first.
   */
  replaceSigningKeyMaterial(storeId: string, kid: string, from: string, to: string): Promise<boolean>;
  /** Sessions, newest first. Only live ones unless `all`. */
  listSessions(filter: SessionFilter): Promise<SessionRecord[]>;
  /** Live, unexpired sessions now: the metrics' estimate of active sessions. */
  countActiveSessions(now: number): Promise<number>;
  /**
   * Deletes at most `limit` rows of one kind that nothing alive needs, and looks at about that many
   * where the backend walks the table; called in a loop with small limits so that each statement
   * holds locks only briefly (see purge.ts). `after` is the previous batch's `next` (undefined for
   * the first); `next` is undefined once nothing is left to look at.
   */
  purgeBatch(
    kind: PurgeKind,
    now: number,
    limit: number,
    anonymousIdleMs: number,
    after?: number,
  ): Promise<PurgeBatch>;
}

export interface PurgeBatch {
  deleted: number;
  /** Where the next batch of the same run starts; undefined when the run is over for this kind. */
  next?: number;
}

/** The batch of a backend that finds its rows by an index: done once a batch comes back short. */
export function indexedBatch(deleted: number, limit: number): PurgeBatch {
  return deleted < limit ? { deleted } : { deleted, next: 0 };
}

export interface SessionFilter {
  storeId?: string;
  userId?: string;
  all?: boolean;
  now: number;
  limit: number;
}

/**
 * - `sessions`: every token of the session has expired (idle or absolute); revoked sessions stay
 *   until then, so their tokens keep answering SESSION_REVOKED rather than SESSION_NOT_FOUND.
 * - `anonymous_users`: anonymous users with no session left, older than the idle lifetime.
 * - `otps`: consumed or expired one-time passwords.
 * - `security_events`: events older than 90 days.
 * - `dpop_proofs`: proofs' jti past their iat window.
 * - `outbox`: deliveries finished (delivered or given up) more than 7 days ago.
 * - `otp_backoff`: OTP guess counters of keys with no failed guess, and no wait, for a day.
 */
export type PurgeKind =
  | 'sessions'
  | 'anonymous_users'
  | 'otps'
  | 'security_events'
  | 'dpop_proofs'
  | 'outbox'
  | 'otp_backoff';

export const SECURITY_EVENT_RETENTION_MS = 90 * 24 * 3600 * 1000;
/** A finished delivery is kept this long, for whoever looks into an OTP that did not arrive. */
export const OUTBOX_RETENTION_MS = 7 * 24 * 3600 * 1000;
/**
 * A key's failed OTP guesses are forgotten once its wait ended this long ago with no guess since.
 * A guesser who keeps trying keeps the counter (each guess moves next_attempt_at); one who stops
 * for a day gets the free allowance again, about ten guesses of a million codes.
 */
export const OTP_BACKOFF_RETENTION_MS = 24 * 3600 * 1000;
