import type { TokenPair, TokenStorage } from './contract.js';
import { type CookieOptions, cookieNames, tokenCookies, tokensFromCookies } from './cookies.js';

/**
 * Tokens in `document.cookie` (readable by script, so not HttpOnly), shared by every tab and sent
 * to your own server, which can read them with `serverCookieStorage` during SSR.
 */
export function documentCookieStorage(options: CookieOptions & { document?: Document } = {}): TokenStorage {
  const names = cookieNames(options);
  const doc = (): Document => {
    const d = options.document ?? globalThis.document;
    if (!d) throw new TypeError('documentCookieStorage: no document in this runtime');
    return d;
  };
  const write = (tokens: TokenPair | null) => {
    const secure = options.secure ?? doc().location?.protocol === 'https:';
    for (const cookie of tokenCookies(tokens, names, { ...options, secure })) doc().cookie = cookie;
  };
  return {
    kind: 'cookie',
    key: `cookie:${names.access}:${names.refresh}`,
    async getTokens() {
      return tokensFromCookies(doc().cookie, names);
    },
    async setTokens(tokens: TokenPair) {
      write(tokens);
    },
    async clearTokens() {
      write(null);
    },
  };
}
