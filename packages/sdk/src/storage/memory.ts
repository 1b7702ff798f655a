import type { TokenPair, TokenStorage } from './contract.js';

let counter = 0;

/** Tokens in this JavaScript realm only: gone on reload. Share one instance to share a session. */
export function memoryStorage(initial?: TokenPair): TokenStorage {
  let tokens: TokenPair | null = initial ? { ...initial } : null;
  counter += 1;
  return {
    kind: 'memory',
    key: `memory-${counter}`,
    async getTokens() {
      return tokens ? { ...tokens } : null;
    },
    async setTokens(next) {
      tokens = { ...next };
    },
    async clearTokens() {
      tokens = null;
    },
  };
}
