import { type StoredPair, samePair, type TokenStorage, toStoredPair } from './contract.js';
import { type CookieOptions, cookieNames, tokenCookies, tokensFromCookies } from './cookies.js';

export interface ServerCookieStorageOptions extends CookieOptions {
  /** The incoming request's Cookie header. */
  cookieHeader: string | null | undefined;
  /** Adds one Set-Cookie header to the outgoing response (e.g. `(c) => headers.append('set-cookie', c)`). */
  setCookie: (header: string) => void;
  /**
   * Mark the refresh cookie HttpOnly. Only do this when the browser never runs a managed SDK of
   * its own (refreshes then happen only on the server). @default false
   */
  httpOnlyRefresh?: boolean;
}

function randomKey(): string {
  const bytes = new Uint8Array(9);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Request-scoped storage for server-side rendering: reads the tokens from the request's cookies
 * and writes rotations back as Set-Cookie on the response. Create one per request. Later reads in
 * the same request see what was written, so one render never spends a refresh token twice.
 */
export function serverCookieStorage(options: ServerCookieStorageOptions): TokenStorage {
  const names = cookieNames(options);
  // The SDK's notes stay with this request only: the browser's notes cookie speaks of the
  // browser's clock, not this server's, so it is neither read nor written here.
  let current: StoredPair | null = tokensFromCookies(options.cookieHeader, names);
  const secure = options.secure ?? true;
  const write = (tokens: StoredPair | null) => {
    const unchanged = tokens !== null && samePair(current, tokens);
    current = tokens ? toStoredPair(tokens) : null;
    // A pair that only gained notes is the same pair: no Set-Cookie for it.
    if (unchanged) return;
    const httpOnly = options.httpOnlyRefresh ?? false;
    for (const cookie of tokenCookies(tokens, names, { ...options, secure }, { httpOnly })) {
      options.setCookie(cookie);
    }
  };
  return {
    kind: 'server',
    // Unique per request: nothing else shares this storage, and a shared key would make every
    // shopper's refresh in this process wait on one in-process lock.
    key: `server:${randomKey()}`,
    async getTokens() {
      return current ? toStoredPair(current) : null;
    },
    async setTokens(tokens) {
      write(tokens);
    },
    async clearTokens() {
      write(null);
    },
    async compareAndSwap(expected, next) {
      if (!samePair(current, expected)) return false;
      write(next);
      return true;
    },
  };
}

/** Convenience for fetch-style servers (Next.js route handlers, Hono, Remix, workers). */
export function serverCookieStorageFromRequest(
  request: { headers: { get(name: string): string | null } },
  responseHeaders: { append(name: string, value: string): void },
  options: Omit<ServerCookieStorageOptions, 'cookieHeader' | 'setCookie'> = {},
): TokenStorage {
  return serverCookieStorage({
    ...options,
    cookieHeader: request.headers.get('cookie'),
    setCookie: (header) => responseHeaders.append('set-cookie', header),
  });
}
