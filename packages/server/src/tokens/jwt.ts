/**
 * Compact JWS encoding and decoding (RFC 7515), on node:crypto. Decoding here establishes
 * structure only; trust comes from `tokens/verify.ts`.
 */

/** Longest token we look at: anything longer is refused before any parsing or crypto. */
export const MAX_TOKEN_LENGTH = 4096;

const B64URL = /^[A-Za-z0-9_-]*$/;

export function b64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** `base64url(header) + "." + base64url(payload)`, what the signature covers. */
  signingInput: string;
  signature: Buffer;
}

function parseSegment(segment: string): Record<string, unknown> | null {
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

/** Splits and parses a compact JWS; null for anything that is not one. */
export function decodeCompact(token: string): DecodedJwt | null {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) return null;
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first <= 0 || second <= first + 1 || token.indexOf('.', second + 1) !== -1) return null;
  const sig = token.slice(second + 1);
  if (sig.length === 0 || !B64URL.test(sig)) return null;
  const header = parseSegment(token.slice(0, first));
  const payload = parseSegment(token.slice(first + 1, second));
  if (!header || !payload) return null;
  return { header, payload, signingInput: token.slice(0, second), signature: Buffer.from(sig, 'base64url') };
}
