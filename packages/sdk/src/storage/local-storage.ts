import { type StoredPair, samePair, type TokenStorage, toStoredPair } from './contract.js';

export interface LocalStorageOptions {
  /** Key of the one entry holding the pair. @default "storefront-auth:tokens" */
  key?: string;
  /** The Storage to use (tests, sessionStorage). @default globalThis.localStorage */
  storage?: Storage;
}

/**
 * Tokens in `localStorage`, shared by every tab of the origin. Both tokens (and the SDK's notes)
 * sit in ONE entry so a reader in another tab can never see a new access token next to an old
 * refresh token.
 */
export function localStorageStorage(options: LocalStorageOptions = {}): TokenStorage {
  const key = options.key ?? 'storefront-auth:tokens';
  const store = (): Storage => {
    const s = options.storage ?? globalThis.localStorage;
    if (!s) throw new TypeError('localStorageStorage: no localStorage in this runtime');
    return s;
  };
  const read = (): StoredPair | null => {
    const raw = store().getItem(key);
    if (!raw) return null;
    try {
      return toStoredPair(JSON.parse(raw));
    } catch {
      return null;
    }
  };
  const write = (tokens: StoredPair | null) => {
    const pair = tokens && toStoredPair(tokens);
    if (pair) store().setItem(key, JSON.stringify(pair));
    else store().removeItem(key);
  };
  return {
    kind: 'localStorage',
    key: `localStorage:${key}`,
    async getTokens() {
      return read();
    },
    async setTokens(tokens) {
      write(tokens);
    },
    async clearTokens() {
      write(null);
    },
    // Atomic within this tab (one synchronous step). Across tabs localStorage promises no order;
    // there the lock and its handover keep tabs from writing at once.
    async compareAndSwap(expected, next) {
      if (!samePair(read(), expected)) return false;
      write(next);
      return true;
    },
  };
}
