import {
  createRemoteJWKSet,
  customFetch,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import { checkDpop, type DpopCheck, DpopCheckError } from './dpop.js';

export type { DpopCheck } from './dpop.js';
export {
  verifyWebhook,
  type WebhookHeaders,
  WebhookVerificationError,
  type WebhookVerifyOptions,
} from './webhook.js';

/** The claims of a verified storefront-auth access token. */
export interface AccessTokenClaims extends JWTPayload {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  iat: number;
  jti: string;
  /** The session the token belongs to. */
  sid: string;
  /** The user id (same as `sub`). */
  ulid: string;
  is_anonymous: boolean;
  is_logged_in: boolean;
  anonymous_id: string | null;
  customer_id: string | null;
  customer_group_id: string | null;
  store_id: string;
  email: string | null;
  phone: string | null;
  first_name: string | null;
  last_name: string | null;
  /** Present when the session is bound to a key (RFC 9449 §6): its RFC 7638 thumbprint. */
  cnf?: { jkt: string };
}

interface CommonOptions {
  /** The `aud` this back end accepts (the store's audience; the server's default is `storefront`). */
  audience: string | string[];
  /** Algorithms the store's access keys use; anything else is refused. @default ['ES256'] */
  algorithms?: Array<'ES256' | 'EdDSA'>;
  /** Seconds of clock difference tolerated on `exp` and `iat`. @default 0 */
  clockToleranceSeconds?: number;
  /** Milliseconds since the epoch; tests pass their own clock. @default Date.now */
  now?: () => number;
  /** How long a fetched JWKS is used before it is fetched again, ms (the server allows 5 minutes). @default 300000 */
  cacheMaxAgeMs?: number;
  /**
   * After a fetch, an unknown `kid` waits this long before it may fetch again, ms, so tokens with
   * made-up kids cannot turn into a flood of requests to the JWKS. @default 30000
   */
  cooldownMs?: number;
  /** The fetch the JWKS is read with. @default globalThis.fetch */
  fetch?: typeof fetch;
  /**
   * Check the request's DPoP proof (RFC 9449): a token bound to a key (`cnf.jkt`) is accepted
   * only with a valid proof of that key for this method and URL. Without this option a bound
   * token is checked like any other, and a copied one would pass: pass it on every route.
   */
  dpop?: DpopCheck;
}

export type VerifyOptions = CommonOptions &
  (
    | {
        /**
         * The store's base URL, as the SDK takes it (`https://auth.example/api/v1/<store>/storefront`):
         * the JWKS is read from `<store>/.well-known/jwks.json` and `iss` must be `<issuerPrefix>/<store id>`.
         */
        store: string;
        /** The server's `ISSUER`. @default 'storefront-auth' */
        issuerPrefix?: string;
        issuer?: never;
        jwksUrl?: never;
      }
    | {
        /** The store's JWKS, `…/api/v1/<store>/storefront/.well-known/jwks.json`. */
        jwksUrl: string;
        /** The store's `iss`: `<ISSUER>/<store id>` (`storefront-auth/demo`). */
        issuer: string;
        store?: never;
      }
  );

/** Why a token was refused. `jwks_unavailable` is ours, not the token's: retry, do not log anyone out. */
export type AccessTokenErrorReason =
  | 'malformed'
  | 'algorithm'
  | 'type'
  | 'unknown_key'
  | 'signature'
  | 'expired'
  | 'not_yet_valid'
  | 'issuer'
  | 'audience'
  | 'claims'
  | 'dpop'
  | 'jwks_unavailable';

export class AccessTokenError extends Error {
  override readonly name = 'AccessTokenError';
  constructor(
    readonly reason: AccessTokenErrorReason,
    message: string,
  ) {
    super(message);
  }
}

const STORE_PATH = /\/api\/v1\/([^/]+)\/storefront\/?$/;

function resolve(options: VerifyOptions): { jwksUrl: string; issuer: string } {
  if (options.jwksUrl !== undefined) return { jwksUrl: options.jwksUrl, issuer: options.issuer };
  const url = new URL(options.store);
  const storeId = STORE_PATH.exec(url.pathname)?.[1];
  if (!storeId) throw new TypeError('store must be a base URL ending in /api/v1/<store id>/storefront');
  return {
    jwksUrl: `${options.store.replace(/\/$/, '')}/.well-known/jwks.json`,
    issuer: `${options.issuerPrefix ?? 'storefront-auth'}/${decodeURIComponent(storeId)}`,
  };
}

/**
 * One remote key set per fetch, JWKS URL and cache policy, shared by every call: jose keeps the
 * fetched set, shares one pending fetch between concurrent callers, and refetches on an unknown
 * `kid` (a key the store just rotated in) once the cooldown has passed.
 */
const keySets = new WeakMap<object, Map<string, JWTVerifyGetKey>>();
const GLOBAL_FETCH = {};
const MAX_KEY_SETS = 100;

function keySetFor(jwksUrl: string, options: CommonOptions): JWTVerifyGetKey {
  const cacheMaxAge = options.cacheMaxAgeMs ?? 300_000;
  const cooldownDuration = options.cooldownMs ?? 30_000;
  const owner = options.fetch ?? GLOBAL_FETCH;
  let sets = keySets.get(owner);
  if (!sets) {
    sets = new Map();
    keySets.set(owner, sets);
  }
  const key = `${cacheMaxAge} ${cooldownDuration} ${jwksUrl}`;
  let set = sets.get(key);
  if (!set) {
    set = createRemoteJWKSet(new URL(jwksUrl), {
      cacheMaxAge,
      cooldownDuration,
      ...(options.fetch ? { [customFetch]: options.fetch } : {}),
    });
    if (sets.size >= MAX_KEY_SETS) sets.clear();
    sets.set(key, set);
  }
  return set;
}

function refusal(error: unknown): AccessTokenError {
  if (error instanceof AccessTokenError) return error;
  if (error instanceof errors.JWTExpired)
    return new AccessTokenError('expired', 'The access token has expired.');
  if (error instanceof errors.JWTClaimValidationFailed) {
    const reason: AccessTokenErrorReason =
      error.claim === 'aud'
        ? 'audience'
        : error.claim === 'iss'
          ? 'issuer'
          : error.claim === 'typ'
            ? 'type'
            : error.claim === 'iat' || error.claim === 'nbf'
              ? 'not_yet_valid'
              : 'claims';
    return new AccessTokenError(reason, `The access token's "${error.claim}" is not acceptable.`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return new AccessTokenError(
      'algorithm',
      'The access token is signed with an algorithm not accepted here.',
    );
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys)
    return new AccessTokenError('unknown_key', "No key of the store's JWKS matches the token's kid.");
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return new AccessTokenError('signature', 'The access token signature does not verify.');
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid)
    return new AccessTokenError('malformed', 'The access token is not a well-formed JWT.');
  return new AccessTokenError('jwks_unavailable', "The store's JWKS could not be read.");
}

const REQUIRED_STRINGS = ['sid', 'jti', 'store_id'] as const;

/**
 * Verifies a storefront-auth access token the way the server's own checks do: the signature
 * against the store's JWKS with the algorithm pinned by us, never by the token's `alg`
 * (RFC 8725 §3.1), `typ` pinned to `at+jwt` so a refresh or other JWT is never taken for an
 * access token (RFC 8725 §3.11, RFC 9068 §4), then `iss`, `aud` (RFC 8725 §3.9), `exp` and `iat`.
 * Resolves to the claims; rejects with an `AccessTokenError` whose `reason` says why.
 */
export async function verifyAccessToken(token: string, options: VerifyOptions): Promise<AccessTokenClaims> {
  const { jwksUrl, issuer } = resolve(options);
  const keys = keySetFor(jwksUrl, options);
  try {
    if (typeof token !== 'string' || token.length > 4096)
      throw new AccessTokenError('malformed', 'The access token is not a well-formed JWT.');
    const { payload } = await jwtVerify(token, keys, {
      algorithms: options.algorithms ?? ['ES256'],
      typ: 'at+jwt',
      issuer,
      audience: options.audience,
      requiredClaims: ['sub', 'exp', 'iat', 'aud'],
      clockTolerance: options.clockToleranceSeconds ?? 0,
      currentDate: new Date((options.now ?? Date.now)()),
    });
    for (const claim of REQUIRED_STRINGS) {
      if (typeof payload[claim] !== 'string')
        throw new AccessTokenError('claims', `The access token has no "${claim}".`);
    }
    const cnf = payload['cnf'] as { jkt?: unknown } | undefined;
    if (cnf !== undefined && typeof cnf?.jkt !== 'string')
      throw new AccessTokenError('claims', 'The access token has a cnf without a jkt.');
    if (options.dpop) {
      try {
        await checkDpop(token, cnf?.jkt as string | undefined, options.dpop, (options.now ?? Date.now)(), [
          'ES256',
          'EdDSA',
        ]);
      } catch (error) {
        throw new AccessTokenError(
          'dpop',
          error instanceof DpopCheckError ? error.message : 'The DPoP proof could not be checked.',
        );
      }
    }
    return payload as AccessTokenClaims;
  } catch (error) {
    throw refusal(error);
  }
}

/**
 * A verifier bound to one set of options: `const verify = createAccessTokenVerifier({...});
 * await verify(token)`. Same checks and the same shared key cache as `verifyAccessToken`.
 */
export function createAccessTokenVerifier(
  options: VerifyOptions,
): (token: string, dpop?: DpopCheck) => Promise<AccessTokenClaims> {
  resolve(options);
  return (token, dpop) => verifyAccessToken(token, dpop ? { ...options, dpop } : options);
}
