import type { SessionRecord, UserRecord } from '../storage/contract.js';
import { b64url } from './jwt.js';
import type { Keyring } from './keys.js';

export interface TokenPair {
  access_token: string;
  refresh_token: string;
}

export interface TokenPolicy {
  /** `iss` of this store's tokens. */
  issuer: string;
  /** Access-token lifetime, seconds. */
  accessTokenTtl: number;
}

export function issuerFor(base: string, storeId: string): string {
  return `${base}/${storeId}`;
}

/** JSON text of a claim value: strings escaped, null as null. */
const json = (value: string | boolean | null): string => JSON.stringify(value);

/**
 * The claims every token of one store carries, encoded once per process and store: `iss`, and
 * `store_id` with `channel` (the Commerce Engine SDK types `channel` and `username` as always
 * present; a storefront that trusts those types must not meet null; one channel per store until
 * stores gain channels).
 */
interface StoreTemplate {
  iss: string;
  storeClaims: string;
}
const storeTemplates = new Map<string, StoreTemplate>();
const MAX_STORE_TEMPLATES = 10_000;

function storeTemplate(issuer: string, storeId: string): StoreTemplate {
  const key = `${issuer}\n${storeId}`;
  let template = storeTemplates.get(key);
  if (!template) {
    if (storeTemplates.size >= MAX_STORE_TEMPLATES) storeTemplates.clear();
    const channel = JSON.stringify({ id: storeId, name: storeId, type: 'storefront' });
    template = { iss: json(issuer), storeClaims: `"store_id":${json(storeId)},"channel":${channel}` };
    storeTemplates.set(key, template);
  }
  return template;
}

/**
 * Mints the pair for a session row at its current generation. Every claim is derived from the
 * row (times from `rotatedAt`, `jti` from id and generation) and the refresh key is an HMAC, so
 * minting the same row twice gives a byte-identical refresh token and an access token with the
 * same claims: that is what makes the grace-window replay free of stored tokens.
 *
 * The payloads are written as JSON text from a per-store template and the session's own values,
 * in the order JSON.stringify gave them (a refresh token minted before this change is the same
 * bytes after it): building and serializing a fresh claims object was a tenth of a refresh.
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
  const { iss, storeClaims } = storeTemplate(policy.issuer, session.storeId);
  const sub = json(user.id);
  const sid = json(session.id);
  const access = keyring.accessSigner;
  const accessClaims =
    `{"iss":${iss},"sub":${sub},"iat":${iat},"exp":${accessExp},` +
    `"jti":${json(`${session.id}.${session.generation}`)},"sid":${sid},"ulid":${sub},` +
    `"is_anonymous":${user.isAnonymous},"is_logged_in":${!user.isAnonymous},` +
    `"anonymous_id":${json(user.isAnonymous ? user.id : session.anonymousId)},` +
    `"customer_id":${json(user.customerId)},"customer_group_id":${json(user.customerGroupId)},` +
    `${storeClaims},"username":${json(user.email ?? user.phone ?? '')},"email":${json(user.email)},` +
    `"phone":${json(user.phone)},"first_name":${json(user.firstName)},"last_name":${json(user.lastName)}}`;
  const accessInput = `${access.header}.${b64url(accessClaims)}`;
  const refresh = keyring.refreshSigner;
  const refreshClaims = `{"iss":${iss},"sub":${sub},"sid":${sid},"gen":${session.generation},"iat":${iat},"exp":${refreshExp}}`;
  const refreshInput = `${refresh.header}.${b64url(refreshClaims)}`;
  return {
    access_token: `${accessInput}.${access.sign(accessInput)}`,
    refresh_token: `${refreshInput}.${refresh.sign(refreshInput)}`,
  };
}
