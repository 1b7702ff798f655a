import { decodeClaims } from '../tokens/jwt.js';

/** The pair the SDK keeps. */
export interface TokenPair {
  access_token: string;
  refresh_token: string;
}

/**
 * What the SDK learnt while getting a pair, kept beside it so that a new instance (another tab, the
 * next page) starts with it instead of learning it again at the cost of a refresh.
 */
export interface SessionNotes {
  /** The server's clock minus this device's, ms, measured from the `iat` of a freshly minted token. */
  clock_offset_ms?: number;
  /** The server's grace window, s, from its last refresh answer (`x-refresh-grace-seconds`). */
  grace_seconds?: number;
  /**
   * Server-clock ms at which this pair's refresh token was first sent without any answer coming
   * back: the server may have rotated it, so it may be sent again only within the grace window.
   */
  unanswered_since?: number;
}

/** A pair as storage holds it. Adapters keep `notes` where they can; dropping them costs a refresh, never the session. */
export interface StoredPair extends TokenPair {
  notes?: SessionNotes;
}

/**
 * Where a managed session lives. Three async methods, and an optional fourth; every adapter,
 * built-in or yours, is driven by the same managed-session code and should pass the same behaviour.
 *
 * `getTokens` is called again inside the refresh lock, so an adapter must answer what is stored
 * now (not a copy cached at construction) for tabs and instances sharing it to see each other.
 */
export interface TokenStorage {
  getTokens(): Promise<StoredPair | null>;
  setTokens(tokens: StoredPair): Promise<void>;
  clearTokens(): Promise<void>;
  /**
   * Replaces what is stored with `next` (null: clears) only if storage still holds `expected`
   * (the same refresh token; null: nothing stored), in one atomic step; resolves whether it did.
   * Implement it when instances that share the storage may not share a lock (two processes over
   * one Redis key: a `WATCH`/`MULTI` or a small script). Without it the SDK reads, compares and
   * writes, which is exact only among instances whose lock meets.
   */
  compareAndSwap?(expected: TokenPair | null, next: StoredPair | null): Promise<boolean>;
  /**
   * Identifies the place, so instances sharing it share one lock. Two adapters over the same
   * underlying store must give the same key. @default "default"
   */
  readonly key?: string;
  /** The adapter's suggestion when the runtime has no Web Locks (see lock/default.ts). */
  readonly kind?: 'memory' | 'localStorage' | 'cookie' | 'server';
}

export function isTokenPair(value: unknown): value is TokenPair {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as TokenPair).access_token === 'string' &&
    typeof (value as TokenPair).refresh_token === 'string' &&
    (value as TokenPair).access_token.length > 0 &&
    (value as TokenPair).refresh_token.length > 0
  );
}

/** The notes in `value` that have the right type; anything else is dropped. */
export function readNotes(value: unknown): SessionNotes | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  const notes: SessionNotes = {};
  for (const name of ['clock_offset_ms', 'grace_seconds', 'unanswered_since'] as const) {
    const n = v[name];
    if (typeof n === 'number' && Number.isFinite(n)) notes[name] = n;
  }
  return Object.keys(notes).length > 0 ? notes : undefined;
}

/** A stored pair from parsed data (a JSON entry, a message), or null when it is not one. */
export function toStoredPair(value: unknown): StoredPair | null {
  if (!isTokenPair(value)) return null;
  const notes = readNotes((value as StoredPair).notes);
  const pair: StoredPair = { access_token: value.access_token, refresh_token: value.refresh_token };
  if (notes) pair.notes = notes;
  return pair;
}

/** The two tokens alone: what callers and hooks are given. */
export function bare(pair: TokenPair): TokenPair {
  return { access_token: pair.access_token, refresh_token: pair.refresh_token };
}

/** Whether two stored states hold the same pair (null: nothing stored). */
export function samePair(a: TokenPair | null | undefined, b: TokenPair | null | undefined): boolean {
  return (a ?? null) === null ? (b ?? null) === null : !!b && a!.refresh_token === b.refresh_token;
}

/**
 * Whether `a` is a later pair of the same session than `b`: this server's refresh tokens carry
 * the session id `sid` and the generation `gen`. False whenever either is unknown.
 */
export function isNewerInSession(a: TokenPair, b: TokenPair): boolean {
  const x = decodeClaims(a.refresh_token);
  const y = decodeClaims(b.refresh_token);
  return (
    typeof x?.sid === 'string' &&
    x.sid === y?.sid &&
    typeof x.gen === 'number' &&
    typeof y.gen === 'number' &&
    x.gen > y.gen
  );
}

/** Compare-and-swap over get/set/clear, for storages without their own; exact only under a lock. */
export async function swapByReading(
  storage: TokenStorage,
  expected: TokenPair | null,
  next: StoredPair | null,
): Promise<boolean> {
  if (!samePair(await storage.getTokens(), expected)) return false;
  if (next) await storage.setTokens(next);
  else await storage.clearTokens();
  return true;
}
