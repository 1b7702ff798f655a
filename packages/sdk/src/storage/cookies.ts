import { decodeClaims } from '../tokens/jwt.js';
import type { TokenPair } from './contract.js';

/** Options shared by the cookie adapters. */
export interface CookieOptions {
  /** Cookie names. @default {access: "sfa_access_token", refresh: "sfa_refresh_token", notes: "sfa_session_notes"} */
  names?: { access?: string; refresh?: string; notes?: string };
  /** @default "/" */
  path?: string;
  domain?: string;
  /** @default "Lax" */
  sameSite?: 'Strict' | 'Lax' | 'None';
  /** Send only over HTTPS. @default true, except on http://localhost pages in the browser adapter */
  secure?: boolean;
}

export function cookieNames(options: CookieOptions) {
  return {
    access: options.names?.access ?? 'sfa_access_token',
    refresh: options.names?.refresh ?? 'sfa_refresh_token',
    notes: options.names?.notes ?? 'sfa_session_notes',
  };
}

/** name=value pairs of a Cookie header (or document.cookie). */
export function parseCookies(header: string | null | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    const raw = part.slice(eq + 1).trim();
    try {
      if (!out.has(name)) out.set(name, decodeURIComponent(raw));
    } catch {
      // A cookie someone else set with a malformed escape is not ours to read.
    }
  }
  return out;
}

/** A Set-Cookie / document.cookie string. maxAge 0 deletes. */
export function serializeCookie(
  name: string,
  value: string,
  maxAgeSeconds: number,
  options: CookieOptions & { httpOnly?: boolean; secure: boolean },
): string {
  const parts = [
    `${name}=${encodeURIComponent(value)}`,
    `Path=${options.path ?? '/'}`,
    `Max-Age=${maxAgeSeconds}`,
  ];
  if (options.domain) parts.push(`Domain=${options.domain}`);
  parts.push(`SameSite=${options.sameSite ?? 'Lax'}`);
  if (options.secure) parts.push('Secure');
  if (options.httpOnly) parts.push('HttpOnly');
  return parts.join('; ');
}

/**
 * Both cookies live as long as the refresh token: an access cookie that vanished at its own `exp`
 * would leave a refresh token without the access token whose claims (anonymous user id) the SDK
 * needs to keep a cart across a lost session. The lifetime is `exp - iat`, both written by the
 * server's clock, so a device clock that is off neither shortens nor stretches it (a pair stored
 * a few seconds after minting outlives its token by those seconds, which the server then refuses).
 */
export function cookieLifetimeSeconds(tokens: TokenPair): number {
  const claims = decodeClaims(tokens.refresh_token);
  if (typeof claims?.exp !== 'number' || typeof claims.iat !== 'number') return 60 * 60 * 24 * 30;
  return Math.max(1, Math.floor(claims.exp - claims.iat));
}

/** The pair in a Cookie header (or document.cookie); null unless both cookies are there. */
export function tokensFromCookies(
  header: string | null | undefined,
  names: ReturnType<typeof cookieNames>,
): TokenPair | null {
  const jar = parseCookies(header);
  const access = jar.get(names.access);
  const refresh = jar.get(names.refresh);
  return access && refresh ? { access_token: access, refresh_token: refresh } : null;
}

/**
 * The access and the refresh cookie that store `tokens` for as long as the refresh token lives,
 * or, for null, that delete both. `refreshOptions` apply to the refresh cookie alone.
 */
export function tokenCookies(
  tokens: TokenPair | null,
  names: ReturnType<typeof cookieNames>,
  options: CookieOptions & { secure: boolean },
  refreshOptions: { httpOnly?: boolean } = {},
): [access: string, refresh: string] {
  const maxAge = tokens ? cookieLifetimeSeconds(tokens) : 0;
  return [
    serializeCookie(names.access, tokens?.access_token ?? '', maxAge, options),
    serializeCookie(names.refresh, tokens?.refresh_token ?? '', maxAge, { ...options, ...refreshOptions }),
  ];
}
