import { readNotes, type StoredPair, samePair, type TokenStorage } from './contract.js';
import {
  type CookieOptions,
  cookieLifetimeSeconds,
  cookieNames,
  parseCookies,
  serializeCookie,
  tokenCookies,
  tokensFromCookies,
} from './cookies.js';

/**
 * Tokens in `document.cookie` (readable by script, so not HttpOnly), shared by every tab and sent
 * to your own server, which can read them with `serverCookieStorage` during SSR. The SDK's notes
 * (this device's clock offset among them) go in a third cookie, which the server adapter ignores:
 * the server's clock is not this device's.
 */
export function documentCookieStorage(options: CookieOptions & { document?: Document } = {}): TokenStorage {
  const names = cookieNames(options);
  const doc = (): Document => {
    const d = options.document ?? globalThis.document;
    if (!d) throw new TypeError('documentCookieStorage: no document in this runtime');
    return d;
  };
  const read = (): StoredPair | null => {
    const header = doc().cookie;
    const pair: StoredPair | null = tokensFromCookies(header, names);
    if (!pair) return null;
    try {
      const notes = readNotes(JSON.parse(parseCookies(header).get(names.notes) ?? 'null'));
      if (notes) pair.notes = notes;
    } catch {
      // Unreadable notes are only a lost hint.
    }
    return pair;
  };
  const write = (tokens: StoredPair | null) => {
    const secure = options.secure ?? doc().location?.protocol === 'https:';
    for (const cookie of tokenCookies(tokens, names, { ...options, secure })) doc().cookie = cookie;
    const maxAge = tokens?.notes ? cookieLifetimeSeconds(tokens) : 0;
    doc().cookie = serializeCookie(names.notes, JSON.stringify(tokens?.notes ?? {}), maxAge, {
      ...options,
      secure,
    });
  };
  return {
    kind: 'cookie',
    key: `cookie:${names.access}:${names.refresh}`,
    async getTokens() {
      return read();
    },
    async setTokens(tokens) {
      write(tokens);
    },
    async clearTokens() {
      write(null);
    },
    // Atomic within this tab: one synchronous step.
    async compareAndSwap(expected, next) {
      if (!samePair(read(), expected)) return false;
      write(next);
      return true;
    },
  };
}
