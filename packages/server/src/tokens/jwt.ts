/**
 * Compact JWS segments (RFC 7515). Decoding here establishes structure only; trust comes from
 * `tokens/verify.ts`.
 */

/** Longest token we look at: anything longer is refused before any parsing or crypto. */
export const MAX_TOKEN_LENGTH = 4096;

const B64URL = /^[A-Za-z0-9_-]*$/;

export function b64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

export function b64urlJson(value: unknown): string {
  return b64url(JSON.stringify(value));
}

/** A base64url JSON object segment, parsed; null for anything else. */
export function decodeSegment(segment: string): Record<string, unknown> | null {
  if (!B64URL.test(segment)) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
