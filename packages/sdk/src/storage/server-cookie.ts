import type { TokenPair, TokenStorage } from './contract.js';
import {
  type CookieOptions,
  cookieLifetimeSeconds,
  cookieNames,
  parseCookies,
  serializeCookie,
} from './cookies.js';

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
  const jar = parseCookies(options.cookieHeader);
  let current: TokenPair | null = null;
  const access = jar.get(names.access);
  const refresh = jar.get(names.refresh);
  if (access && refresh) current = { access_token: access, refresh_token: refresh };
  const secure = options.secure ?? true;
  return {
    kind: 'server',
    // Unique per request: nothing else shares this storage, and a shared key would make every
    // shopper's refresh in this process wait on one in-process lock.
    key: `server:${randomKey()}`,
    async getTokens() {
      return current ? { ...current } : null;
    },
    async setTokens(tokens) {
      current = { ...tokens };
      const maxAge = cookieLifetimeSeconds(tokens, Date.now());
      options.setCookie(serializeCookie(names.access, tokens.access_token, maxAge, { ...options, secure }));
      options.setCookie(
        serializeCookie(names.refresh, tokens.refresh_token, maxAge, {
          ...options,
          secure,
          httpOnly: options.httpOnlyRefresh ?? false,
        }),
      );
    },
    async clearTokens() {
      current = null;
      options.setCookie(serializeCookie(names.access, '', 0, { ...options, secure }));
      options.setCookie(serializeCookie(names.refresh, '', 0, { ...options, secure }));
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
