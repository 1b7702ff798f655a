/** The claims the SDK reads. It never verifies a signature: the server and resource servers do. */
export interface TokenClaims {
  exp?: number;
  iat?: number;
  sub?: string;
  sid?: string;
  /** Generation of a refresh token inside its session (this server's refresh tokens carry it). */
  gen?: number;
  ulid?: string;
  is_anonymous?: boolean;
  is_logged_in?: boolean;
  [claim: string]: unknown;
}

/** The payload of a JWT, or null for anything that is not one. */
export function decodeClaims(token: string | null | undefined): TokenClaims | null {
  if (typeof token !== 'string') return null;
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as TokenClaims)
      : null;
  } catch {
    return null;
  }
}
