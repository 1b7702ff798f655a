/** The pair the SDK keeps. */
export interface TokenPair {
  access_token: string;
  refresh_token: string;
}

/**
 * Where a managed session lives. Four async methods; every adapter, built-in or yours, is driven
 * by the same managed-session code and should pass the same behaviour.
 *
 * `getTokens` is called again inside the refresh lock, so an adapter must answer what is stored
 * now (not a copy cached at construction) for tabs and instances sharing it to see each other.
 */
export interface TokenStorage {
  getTokens(): Promise<TokenPair | null>;
  setTokens(tokens: TokenPair): Promise<void>;
  clearTokens(): Promise<void>;
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
