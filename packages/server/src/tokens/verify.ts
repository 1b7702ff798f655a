import { AppError } from '../errors/codes.js';
import { decodeCompact } from './jwt.js';
import { ACCESS_TYP, type Keyring, REFRESH_TYP } from './keys.js';

/**
 * Header parameters that would let a token choose its own key or extend the rules. We never
 * honour them (RFC 8725 §2.1, §3.1), and a token that carries one is refused outright.
 */
const FORBIDDEN_HEADERS = ['jwk', 'jku', 'x5u', 'x5c', 'crit'];

function verifiedPayload(
  keyring: Keyring,
  token: string,
  use: 'access' | 'refresh',
): Record<string, unknown> | null {
  const jwt = decodeCompact(token);
  if (!jwt) return null;
  const { header } = jwt;
  if (header['typ'] !== (use === 'access' ? ACCESS_TYP : REFRESH_TYP)) return null;
  for (const name of FORBIDDEN_HEADERS) if (name in header) return null;
  const key = keyring.verifier(header['kid'], use);
  // The algorithm is pinned by the key, whatever the header claims (RFC 8725 §3.1): this is
  // what refuses `none` and HS256-signed-with-the-public-key confusion.
  if (!key || header['alg'] !== key.alg) return null;
  if (!key.verify(jwt.signingInput, jwt.signature)) return null;
  return jwt.payload;
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
