import { isTokenPair, type TokenStorage } from './contract.js';

export interface LocalStorageOptions {
  /** Key of the one entry holding the pair. @default "storefront-auth:tokens" */
  key?: string;
  /** The Storage to use (tests, sessionStorage). @default globalThis.localStorage */
  storage?: Storage;
}

/**
 * Tokens in `localStorage`, shared by every tab of the origin. Both tokens sit in ONE entry so a
 * reader in another tab can never see a new access token next to an old refresh token.
 */
export function localStorageStorage(options: LocalStorageOptions = {}): TokenStorage {
  const key = options.key ?? 'storefront-auth:tokens';
  const store = (): Storage => {
    const s = options.storage ?? globalThis.localStorage;
    if (!s) throw new TypeError('localStorageStorage: no localStorage in this runtime');
    return s;
  };
  return {
    kind: 'localStorage',
    key: `localStorage:${key}`,
    async getTokens() {
      const raw = store().getItem(key);
      if (!raw) return null;
      try {
        const value: unknown = JSON.parse(raw);
        return isTokenPair(value)
          ? { access_token: value.access_token, refresh_token: value.refresh_token }
          : null;
      } catch {
        return null;
      }
    },
    async setTokens(tokens) {
      store().setItem(
        key,
        JSON.stringify({ access_token: tokens.access_token, refresh_token: tokens.refresh_token }),
      );
    },
    async clearTokens() {
      store().removeItem(key);
    },
  };
}
