import { type NextRequest, NextResponse } from 'next/server.js';
import { createStorefrontSDK } from './client.js';
import type { TokenPair, TokenStorage } from './storage/contract.js';
import { type CookieOptions, cookieNames, parseCookies } from './storage/cookies.js';
import { serverCookieStorage } from './storage/server-cookie.js';

export interface NextAuthOptions extends CookieOptions {
  /** The store's `https://host/api/v1/{store_id}/storefront`. */
  baseUrl: string;
  /** The store's public API key (for a shopper's first, anonymous session). */
  apiKey: string;
  /**
   * Keep the refresh token in an HttpOnly cookie no script can read; refreshes then happen only
   * here, on the server. @default true
   */
  httpOnlyRefresh?: boolean;
  /** Refresh when the access token has less than this left, s. @default 30 */
  refreshLeewaySeconds?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

interface Settled {
  tokens: TokenPair | null;
  setCookies: string[];
}

/**
 * Racing requests of one shopper (parallel pages, server components, prefetches) carry the same
 * refresh cookie: they share one refresh and write the same cookies, so none spends a token
 * another already replaced (RFC 9700 §4.14.2 would call that reuse). The outcome is kept 25 s
 * after it settled, for requests that left the browser before the new cookies arrived: inside the
 * server's grace window (30 s by default), which also covers any that reach another instance.
 */
const inFlight = new Map<string, { settled: Promise<Settled>; until: number }>();
const KEEP_MS = 25_000;
const MAX_KEPT = 10_000;

function shared(key: string | null, clock: () => number, start: () => Promise<Settled>): Promise<Settled> {
  if (!key) return start();
  const now = clock();
  const kept = inFlight.get(key);
  if (kept && now < kept.until) return kept.settled;
  if (inFlight.size >= MAX_KEPT) {
    for (const [k, v] of inFlight) if (now >= v.until) inFlight.delete(k);
    if (inFlight.size >= MAX_KEPT) inFlight.clear();
  }
  const entry = { settled: start(), until: Number.POSITIVE_INFINITY };
  inFlight.set(key, entry);
  entry.settled.then(
    () => {
      entry.until = clock() + KEEP_MS;
    },
    () => inFlight.delete(key),
  );
  return entry.settled;
}

async function settle(options: NextAuthOptions, cookieHeader: string | null): Promise<Settled> {
  const setCookies: string[] = [];
  const storage: TokenStorage = serverCookieStorage({
    ...options,
    httpOnlyRefresh: options.httpOnlyRefresh ?? true,
    cookieHeader,
    setCookie: (cookie) => setCookies.push(cookie),
  });
  const sdk = createStorefrontSDK({
    baseUrl: options.baseUrl,
    apiKey: options.apiKey,
    tokenStorage: storage,
    lock: false,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.now ? { now: options.now } : {}),
    refreshLeewaySeconds: options.refreshLeewaySeconds ?? 30,
  });
  try {
    await sdk.session.ensureAccessToken();
    return { tokens: await storage.getTokens(), setCookies };
  } finally {
    sdk.dispose();
  }
}

/**
 * Next.js middleware: makes sure the shopper holds a live pair before the request reaches the
 * app, refreshing at most once per request (and once for racing requests of one shopper), writes
 * the rotated cookies on the response, and hands the new pair to this request's server
 * components, route handlers and actions through its Cookie header.
 *
 * ```ts
 * // middleware.ts
 * export const middleware = authMiddleware({ baseUrl: process.env.AUTH_URL!, apiKey: process.env.API_KEY! });
 * ```
 */
export function authMiddleware(options: NextAuthOptions): (request: NextRequest) => Promise<NextResponse> {
  const names = cookieNames(options);
  return async (request) => {
    const cookieHeader = request.headers.get('cookie');
    const key = parseCookies(cookieHeader).get(names.refresh) ?? null;
    const { tokens, setCookies } = await shared(key, options.now ?? Date.now, () =>
      settle(options, cookieHeader),
    );
    if (setCookies.length === 0 || !tokens) return NextResponse.next();
    const headers = new Headers(request.headers);
    const jar = parseCookies(cookieHeader);
    jar.set(names.access, tokens.access_token);
    jar.set(names.refresh, tokens.refresh_token);
    headers.set('cookie', [...jar].map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('; '));
    const response = NextResponse.next({ request: { headers } });
    for (const cookie of setCookies) response.headers.append('set-cookie', cookie);
    return response;
  };
}

/** What `await cookies()` from `next/headers` answers, as far as this adapter uses it. */
export interface NextCookieStore {
  get(name: string): { value: string } | undefined;
  set?(name: string, value: string, options?: Record<string, unknown>): unknown;
}

/**
 * Token storage over `await cookies()` for server components, route handlers and server
 * actions. Reads what the middleware left; writes where Next.js allows it (route handlers and
 * actions), and in a server component, where it does not, keeps the pair for this render only.
 */
export function nextCookieStorage(
  store: NextCookieStore,
  options: CookieOptions & { httpOnlyRefresh?: boolean } = {},
): TokenStorage {
  const names = cookieNames(options);
  const header = [names.access, names.refresh]
    .map((name) => [name, store.get(name)?.value] as const)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name}=${encodeURIComponent(value!)}`)
    .join('; ');
  return serverCookieStorage({
    ...options,
    httpOnlyRefresh: options.httpOnlyRefresh ?? true,
    cookieHeader: header,
    setCookie: (cookie) => {
      const [pair = '', ...attributes] = cookie.split('; ');
      const eq = pair.indexOf('=');
      const attrs = Object.fromEntries(
        attributes.map((a) => {
          const [k = '', v] = a.split('=');
          return [k.toLowerCase(), v ?? true];
        }),
      );
      try {
        store.set?.(pair.slice(0, eq), decodeURIComponent(pair.slice(eq + 1)), {
          path: attrs['path'],
          maxAge: Number(attrs['max-age']),
          sameSite: String(attrs['samesite']).toLowerCase(),
          secure: attrs['secure'] === true,
          httpOnly: attrs['httponly'] === true,
          ...(attrs['domain'] ? { domain: attrs['domain'] } : {}),
        });
      } catch {
        // A server component may not set cookies; the middleware already wrote the rotation.
      }
    },
  });
}
