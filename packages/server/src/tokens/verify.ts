import { AppError } from '../errors/codes.js';
import { decodeSegment, MAX_TOKEN_LENGTH } from './jwt.js';
import type { Keyring } from './keys.js';

const B64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Verifies a compact JWS issued by this keyring and answers its payload, or null. The header is
 * matched byte for byte against the headers our keys write, so the algorithm is the key's, never
 * the token's (this is what refuses `none`, HS256 keyed with the public key, and every header a
 * token might use to choose its own key), and the header needs no parsing.
 */
function verifiedPayload(
  keyring: Keyring,
  token: string,
  use: 'access' | 'refresh',
): Record<string, unknown> | null {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return null;
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first <= 0 || second <= first + 1 || token.indexOf('.', second + 1) !== -1) return null;
  const key = keyring.forHeader(token.slice(0, first), use);
  const signature = token.slice(second + 1);
  if (!key || !B64URL.test(signature)) return null;
  const signingInput = token.slice(0, second);
  if (!key.verify(signingInput, Buffer.from(signature, 'base64url'))) return null;
  return decodeSegment(token.slice(first + 1, second));
}

const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export interface RefreshClaims {
  sub: string;
  sid: string;
  gen: number;
  iat: number;
  exp: number;
}

/**
 * Verifies a refresh token of this store without touching the database: a forged or foreign
 * token costs one HMAC. Throws INVALID_REFRESH_TOKEN or REFRESH_TOKEN_EXPIRED.
 */
export function verifyRefreshToken(
  keyring: Keyring,
  issuer: string,
  token: string,
  now: number,
): RefreshClaims {
  const p = verifiedPayload(keyring, token, 'refresh');
  if (
    !p ||
    p['iss'] !== issuer ||
    typeof p['sub'] !== 'string' ||
    typeof p['sid'] !== 'string' ||
    !isTime(p['gen']) ||
    !isTime(p['iat']) ||
    !isTime(p['exp'])
  ) {
    throw new AppError('INVALID_REFRESH_TOKEN');
  }
  if (now >= p['exp'] * 1000) throw new AppError('REFRESH_TOKEN_EXPIRED');
  return { sub: p['sub'], sid: p['sid'], gen: p['gen'], iat: p['iat'], exp: p['exp'] };
}

export interface AccessClaims {
  sub: string;
  sid: string;
  exp: number;
  ulid: string;
  is_anonymous: boolean;
  is_logged_in: boolean;
  [claim: string]: unknown;
}

/**
 * Verifies an access token of this store. With `allowExpired`, a correctly signed token past its
 * `exp` still answers its claims (the anonymous endpoint uses that for cart continuity and
 * applies its own age limit). Answers null for anything not valid.
 */
export function verifyAccessToken(
  keyring: Keyring,
  issuer: string,
  token: string,
  now: number,
  options: { allowExpired?: boolean } = {},
): AccessClaims | null {
  const p = verifiedPayload(keyring, token, 'access');
  if (
    !p ||
    p['iss'] !== issuer ||
    typeof p['sub'] !== 'string' ||
    typeof p['sid'] !== 'string' ||
    typeof p['ulid'] !== 'string' ||
    typeof p['is_anonymous'] !== 'boolean' ||
    typeof p['is_logged_in'] !== 'boolean' ||
    !isTime(p['exp'])
  ) {
    return null;
  }
  if (!options.allowExpired && now >= p['exp'] * 1000) return null;
  return p as AccessClaims;
}
