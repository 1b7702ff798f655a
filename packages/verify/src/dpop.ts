import {
  base64url,
  calculateJwkThumbprint,
  decodeProtectedHeader,
  EmbeddedJWK,
  type JWK,
  jwtVerify,
} from 'jose';

/** What a resource server hands `verifyAccessToken` to check a DPoP proof (RFC 9449 §4.3, §7). */
export interface DpopCheck {
  /** The request's `DPoP` header; undefined or empty when it had none. */
  proof: string | undefined | null;
  /** The request's method. */
  method: string;
  /** The URL the client reached this route at (scheme, host, port, path; a query is ignored). */
  url: string;
  /**
   * The request's Authorization scheme, when the caller wants the downgrade check: a bound token
   * sent as `Bearer` is refused (RFC 9449 §7.1).
   */
  scheme?: string;
  /** Refuse tokens that are not bound (`cnf.jkt`) at all. @default false */
  requireBound?: boolean;
  /** How old a proof's `iat` may be, seconds. @default 60 */
  maxAgeSeconds?: number;
  /**
   * Remembers a proof's `jti` for `maxAgeSeconds` and answers whether it was seen before (true:
   * a replay, refused). Share it between instances (Redis `SET NX EX`). Without it a proof can be
   * replayed within its window, to the same method and URL only.
   */
  seen?: (jkt: string, jti: string, ttlSeconds: number) => boolean | Promise<boolean>;
}

/** The proof's `iat` may be this far ahead of our clock, s. */
const FUTURE_LEEWAY_SECONDS = 5;

export class DpopCheckError extends Error {}

/**
 * Checks `check.proof` against an access token already verified: RFC 9449 §4.3 (typ, alg,
 * signature with the embedded public jwk, htm, htu, iat, jti) and §7 (ath is the token's hash, the
 * jwk's RFC 7638 thumbprint is the token's `cnf.jkt`). Throws DpopCheckError naming the check
 * that failed; never echoes the proof.
 */
export async function checkDpop(
  token: string,
  jkt: string | undefined,
  check: DpopCheck,
  nowMs: number,
  algorithms: Array<'ES256' | 'EdDSA'>,
): Promise<void> {
  const fail = (what: string): never => {
    throw new DpopCheckError(what);
  };
  if (jkt === undefined) {
    if (check.requireBound) fail('The access token is not bound to a key (no cnf.jkt).');
    // An unbound token stays a bearer token; a proof beside it proves nothing about it.
    return;
  }
  if (check.scheme !== undefined && check.scheme.toLowerCase() !== 'dpop')
    fail('A bound access token must be sent with the DPoP scheme, not Bearer.');
  if (!check.proof) fail('The access token is bound to a key and the request has no DPoP proof.');
  const proof = check.proof as string;
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    return fail('The DPoP proof is not a well-formed JWS.');
  }
  if (header.typ !== 'dpop+jwt') fail('The DPoP proof\'s typ is not "dpop+jwt".');
  if (typeof header.alg !== 'string' || !(algorithms as string[]).includes(header.alg))
    fail("The DPoP proof's alg is not accepted here.");
  const jwk = header.jwk as (JWK & { d?: unknown }) | undefined;
  if (!jwk || typeof jwk !== 'object') fail('The DPoP proof has no jwk.');
  if ((jwk as { d?: unknown }).d !== undefined) fail("The DPoP proof's jwk holds a private key.");
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms,
      currentDate: new Date(nowMs),
    }));
  } catch {
    return fail('The DPoP proof signature does not verify.');
  }
  if (typeof payload['htm'] !== 'string' || payload['htm'] !== check.method.toUpperCase())
    fail("The DPoP proof's htm does not match the request method.");
  if (typeof payload['htu'] !== 'string' || !sameTarget(payload['htu'], check.url))
    fail("The DPoP proof's htu does not match the request URL.");
  const iat = payload['iat'];
  const maxAge = check.maxAgeSeconds ?? 60;
  const now = nowMs / 1000;
  if (typeof iat !== 'number' || iat < now - maxAge || iat > now + FUTURE_LEEWAY_SECONDS)
    fail("The DPoP proof's iat is outside the accepted window.");
  const jti = payload['jti'];
  if (typeof jti !== 'string' || jti.length < 16 || jti.length > 256)
    fail('The DPoP proof has no usable jti.');
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)));
  if (payload['ath'] !== base64url.encode(digest))
    fail("The DPoP proof's ath is not the access token's hash.");
  if ((await calculateJwkThumbprint(jwk as JWK, 'sha256')) !== jkt)
    fail("The DPoP proof's key is not the one the access token is bound to.");
  if (check.seen && (await check.seen(jkt, jti as string, maxAge + FUTURE_LEEWAY_SECONDS)))
    fail('The DPoP proof was used before.');
}

/** RFC 9449 §4.3 item 9, RFC 3986 §6.2.2/§6.2.3: scheme and host case-insensitive, default ports, path exact; no query or fragment. */
function sameTarget(htu: string, url: string): boolean {
  let a: URL;
  let b: URL;
  try {
    a = new URL(htu);
    b = new URL(url);
  } catch {
    return false;
  }
  // WHATWG URL lower-cases scheme and host and drops default ports already.
  return a.protocol === b.protocol && a.host === b.host && a.pathname === b.pathname;
}
