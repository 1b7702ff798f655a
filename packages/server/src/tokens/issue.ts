import type { SessionRecord, UserRecord } from '../model.js';
import { b64urlJson } from './jwt.js';
import type { Keyring } from './keys.js';

export interface TokenPair {
  access_token: string;
  refresh_token: string;
}

/**
 * The `aud` of access tokens of a store that set none (`storefront-auth store audience`): the
 * storefront's own back ends, which check it so a token minted for another audience is refused
 * (RFC 8725 §3.9).
 */
export const DEFAULT_AUDIENCE = 'storefront';

export interface TokenPolicy {
  /** `iss` of this store's tokens. */
  issuer: string;
  /** `aud` of this store's access tokens. */
  audience: string;
  /** Access-token lifetime, seconds. */
  accessTokenTtl: number;
}

const verifiedEmail = (u: UserRecord) => (u.isEmailVerified ? u.email : null);
const verifiedPhone = (u: UserRecord) => (u.isPhoneVerified ? u.phone : null);

export function issuerFor(base: string, storeId: string): string {
  return `${base}/${storeId}`;
}

/**
 * Mints the pair for a session row at its current generation. Every claim is derived from the
 * row (times from `rotatedAt`, `jti` from id and generation) and the refresh key is an HMAC, so
 * minting the same row twice gives a byte-identical refresh token and an access token with the
 * same claims: that is what makes the grace-window replay free of stored tokens.
 */
export function issueTokenPair(
  keyring: Keyring,
  policy: TokenPolicy,
  session: SessionRecord,
  user: UserRecord,
): TokenPair {
  const iat = Math.floor(session.rotatedAt / 1000);
  const refreshExp = Math.floor(Math.min(session.idleExpiresAt, session.absoluteExpiresAt) / 1000);
  const accessExp = Math.min(iat + policy.accessTokenTtl, refreshExp);
  const access = keyring.accessSigner;
  const accessInput = `${access.header}.${b64urlJson({
    iss: policy.issuer,
    sub: user.id,
    aud: policy.audience,
    iat,
    exp: accessExp,
    jti: `${session.id}.${session.generation}`,
    sid: session.id,
    ulid: user.id,
    is_anonymous: user.isAnonymous,
    is_logged_in: !user.isAnonymous,
    // Always a string, as the Commerce Engine SDK types it: a session opened before every sign-in
    // got a lineage id (sign-in.ts) has its own id as one.
    anonymous_id: user.isAnonymous ? user.id : (session.anonymousId ?? session.id),
    customer_id: user.customerId,
    customer_group_id: user.customerGroupId,
    store_id: session.storeId,
    // The Commerce Engine SDK types `channel` and `username` as always present; a storefront that
    // trusts those types must not meet null. One channel per store until stores gain channels.
    channel: { id: session.storeId, name: session.storeId, type: 'storefront' },
    // Only identifiers the customer proved: a service that trusts these claims must never meet an
    // address someone merely typed into their profile.
    username: verifiedEmail(user) ?? verifiedPhone(user) ?? '',
    email: verifiedEmail(user),
    phone: verifiedPhone(user),
    first_name: user.firstName,
    last_name: user.lastName,
    // A bound session's access tokens name its key (RFC 9449 §6.1): they are refused without a
    // proof of it (http/dpop.ts), and resource servers can check the same (verifyAccessToken).
    ...(session.jkt ? { cnf: { jkt: session.jkt } } : {}),
  })}`;
  const refresh = keyring.refreshSigner;
  const refreshInput = `${refresh.header}.${b64urlJson({
    iss: policy.issuer,
    sub: user.id,
    sid: session.id,
    gen: session.generation,
    iat,
    exp: refreshExp,
  })}`;
  return {
    access_token: `${accessInput}.${access.sign(accessInput)}`,
    refresh_token: `${refreshInput}.${refresh.sign(refreshInput)}`,
  };
}
