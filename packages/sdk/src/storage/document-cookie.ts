import type { TokenPair, TokenStorage } from './contract.js';
import {
  type CookieOptions,
  cookieLifetimeSeconds,
  cookieNames,
  parseCookies,
  serializeCookie,
} from './cookies.js';

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
  const secure = () => options.secure ?? doc().location?.protocol === 'https:';
  const write = (name: string, value: string, maxAge: number) => {
    doc().cookie = serializeCookie(name, value, maxAge, { ...options, secure: secure() });
  };
  return {
    kind: 'cookie',
    key: `cookie:${names.access}:${names.refresh}`,
    async getTokens() {
      const jar = parseCookies(doc().cookie);
      const access = jar.get(names.access);
      const refresh = jar.get(names.refresh);
      return access && refresh ? { access_token: access, refresh_token: refresh } : null;
    },
    async setTokens(tokens: TokenPair) {
      const maxAge = cookieLifetimeSeconds(tokens, Date.now());
      write(names.access, tokens.access_token, maxAge);
      write(names.refresh, tokens.refresh_token, maxAge);
    },
    async clearTokens() {
      write(names.access, '', 0);
      write(names.refresh, '', 0);
    },
  };
}
