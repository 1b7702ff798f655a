import { type StoredPair, samePair, type TokenPair, type TokenStorage, toStoredPair } from './contract.js';

let counter = 0;

/** Tokens in this JavaScript realm only: gone on reload. Share one instance to share a session. */
export function memoryStorage(initial?: TokenPair): TokenStorage {
  let tokens: StoredPair | null = initial ? toStoredPair(initial) : null;
  counter += 1;
  return {
    kind: 'memory',
    key: `memory-${counter}`,
    async getTokens() {
      return tokens ? toStoredPair(tokens) : null;
    },
    async setTokens(next) {
      tokens = toStoredPair(next);
    },
    async clearTokens() {
      tokens = null;
    },
    // One synchronous step: nothing else in this realm runs between the check and the write.
    async compareAndSwap(expected, next) {
      if (!samePair(tokens, expected)) return false;
      tokens = next ? toStoredPair(next) : null;
      return true;
    },
  };
}
