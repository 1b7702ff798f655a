import { createHash, createPublicKey, type KeyObject, timingSafeEqual, verify } from 'node:crypto';
import { AppError } from '../errors/codes.js';
import { decodeSegment } from './jwt.js';

/**
 * DPoP proofs (RFC 9449): a client proves, on every call, possession of the private key whose
 * public half is in the proof's header. Only verification lives here; what a proof binds and
 * when it is required is decided by the callers (http/dpop.ts, sessions/rotate.ts).
 */

/** Longest proof looked at: a P-256 or Ed25519 proof is about 500 characters. */
export const MAX_PROOF_LENGTH = 2048;
/** How far in the future a proof's `iat` may be (the client's clock ahead of ours), seconds. */
export const IAT_LEEWAY_SECONDS = 5;

const B64URL = /^[A-Za-z0-9_-]+$/;
/** Members only a private or symmetric JWK has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

export interface ProofExpectations {
  /** The request's method, uppercase. */
  htm: string;
  /** The URL the request was sent to (query and fragment are ignored). */
  htu: string;
  /** ms. */
  now: number;
  /** Oldest `iat` accepted, seconds before `now` (`DPOP_PROOF_MAX_AGE`). */
  maxAge: number;
  /** The access token the request carries, if any: the proof's `ath` must be its hash (§4.3). */
  accessToken?: string | undefined;
}

export interface VerifiedProof {
  /** RFC 7638 SHA-256 thumbprint of the proof's key, base64url. */
  jkt: string;
  jti: string;
  /** seconds. */
  iat: number;
  nonce: string | undefined;
}

/**
 * DPOP_PROOF_INVALID saying why, never echoing the proof, with the challenge of RFC 9449 §7.1.
 */
export const invalidProof = (why: string): AppError =>
  new AppError('DPOP_PROOF_INVALID', `Invalid DPoP proof: ${why}.`, {
    headers: { 'www-authenticate': 'DPoP error="invalid_dpop_proof", algs="ES256 EdDSA"' },
  });
const invalid = invalidProof;

/**
 * Checks a proof as RFC 9449 §4.3 lists, except the jti replay and the nonce, which need state
 * (the caller does them after): structure, `typ` pinned to `dpop+jwt`, ES256 or EdDSA with the
 * algorithm the key's type allows (never the header's choice alone, RFC 8725 §3.1), a public-only
 * `jwk`, the signature, `htm`, `htu`, the `iat` window, and `ath` when an access token comes
 * with the request. Throws DPOP_PROOF_INVALID saying which check failed.
 */
export function verifyDpopProof(proof: unknown, expect: ProofExpectations): VerifiedProof {
  if (typeof proof !== 'string' || proof.length === 0 || proof.length > MAX_PROOF_LENGTH)
    throw invalid('not a compact JWS of acceptable size');
  const parts = proof.split('.');
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) throw invalid('not a compact JWS');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const { key, jkt, alg } = checkedHeader(headerPart);
  const payload = decodeSegment(payloadPart);
  if (!payload) throw invalid('the payload is not a JSON object');

  const input = Buffer.from(`${headerPart}.${payloadPart}`);
  const signature = Buffer.from(signaturePart, 'base64url');
  let good = false;
  try {
    good =
      alg === 'ES256'
        ? signature.length === 64 && verify('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, signature)
        : signature.length === 64 && verify(null, input, key, signature);
  } catch {
    good = false;
  }
  if (!good) throw invalid('the signature does not verify');

  const { jti, htm, htu, iat, ath, nonce } = payload;
  if (typeof jti !== 'string' || jti.length < 16 || jti.length > 256)
    throw invalid('jti is missing or too short');
  if (htm !== expect.htm) throw invalid("the proof's htm does not match the request method");
  // The common case, the client naming the URL exactly as the server rebuilds it, needs no parsing.
  if (typeof htu !== 'string' || (htu !== expect.htu && !sameUrl(htu, expect.htu)))
    throw invalid("the proof's htu does not match the request URL");
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw invalid('iat is missing');
  const nowSeconds = expect.now / 1000;
  if (iat < nowSeconds - expect.maxAge) throw invalid('iat is too old');
  if (iat > nowSeconds + IAT_LEEWAY_SECONDS) throw invalid('iat is in the future');
  if (expect.accessToken !== undefined) {
    if (typeof ath !== 'string') throw invalid('ath is missing (the request carries an access token)');
    if (!sameText(ath, accessTokenHash(expect.accessToken)))
      throw invalid('ath does not match the access token');
  }
  if (nonce !== undefined && typeof nonce !== 'string') throw invalid('nonce is not a string');
  return { jkt, jti, iat: Math.floor(iat), nonce };
}

interface CheckedHeader {
  key: KeyObject;
  jkt: string;
  alg: 'ES256' | 'EdDSA';
}

/**
 * Headers that passed the checks, by their exact base64url text: a client sends the same header
 * (its key) on every proof, and importing the key and hashing its thumbprint cost about as much as
 * the signature check. Bounded; only accepted headers are kept, so made-up ones cannot fill it
 * (a forger can add headers of keys it made, which is no more than any client does).
 */
const HEADER_CACHE_SIZE = 10_000;
const headerCache = new Map<string, CheckedHeader>();

function checkedHeader(headerPart: string): CheckedHeader {
  const cached = headerCache.get(headerPart);
  if (cached) return cached;
  const header = decodeSegment(headerPart);
  if (!header) throw invalid('the header is not a JSON object');
  if (header['typ'] !== 'dpop+jwt') throw invalid('typ is not dpop+jwt');
  if ('crit' in header) throw invalid('crit is not supported');
  const { key, jkt } = publicKeyOf(header['alg'], header['jwk']);
  const checked = { key, jkt, alg: header['alg'] as CheckedHeader['alg'] };
  if (headerCache.size >= HEADER_CACHE_SIZE) headerCache.clear();
  headerCache.set(headerPart, checked);
  return checked;
}

function sameUrl(a: string, b: string): boolean {
  const x = normalizedUrl(a);
  return x !== null && x === normalizedUrl(b);
}

/** The `ath` of an access token: base64url(SHA-256(token)), RFC 9449 §4.2. */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/**
 * The public key a proof's `jwk` names, for the header's `alg`, and its RFC 7638 thumbprint (over
 * the required members only, in lexicographic order). A JWK with any private member is refused
 * (RFC 9449 §4.3 check 7).
 */
export function publicKeyOf(alg: unknown, jwk: unknown): { key: KeyObject; jkt: string } {
  if (alg !== 'ES256' && alg !== 'EdDSA') throw invalid('alg must be ES256 or EdDSA');
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) throw invalid('jwk is missing');
  const j = jwk as Record<string, unknown>;
  if (PRIVATE_MEMBERS.some((m) => m in j)) throw invalid('jwk has private key members');
  const coordinate = (v: unknown) =>
    typeof v === 'string' && v.length > 0 && v.length <= 64 && B64URL.test(v);
  let members: Record<string, string>;
  if (
    alg === 'ES256' &&
    j['kty'] === 'EC' &&
    j['crv'] === 'P-256' &&
    coordinate(j['x']) &&
    coordinate(j['y'])
  ) {
    members = { crv: 'P-256', kty: 'EC', x: j['x'] as string, y: j['y'] as string };
  } else if (alg === 'EdDSA' && j['kty'] === 'OKP' && j['crv'] === 'Ed25519' && coordinate(j['x'])) {
    members = { crv: 'Ed25519', kty: 'OKP', x: j['x'] as string };
  } else {
    throw invalid('jwk is not a P-256 (ES256) or Ed25519 (EdDSA) public key');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: members, format: 'jwk' });
  } catch {
    throw invalid('jwk is not a valid public key');
  }
  // Members were built in lexicographic order, so this is the RFC 7638 canonical JSON.
  const jkt = createHash('sha256').update(JSON.stringify(members)).digest('base64url');
  return { key, jkt };
}

/**
 * A URL as htu compares it (RFC 9449 §4.3 check 9, RFC 3986 §6.2.3): scheme and host lowercase,
 * default ports dropped, path as sent; query and fragment ignored. Null when it is not a URL.
 */
export function normalizedUrl(url: string): string | null {
  if (url.length > 2048) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return null;
  // URL already lowercases scheme and host and drops default ports.
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** How long one server nonce step lasts, seconds; a nonce is good for its step and the next. */
export const NONCE_STEP_SECONDS = 300;

/**
 * Stateless server nonces (RFC 9449 §8): the time step and an HMAC of it under the store's
 * refresh key, which every instance shares through the database, so any instance accepts any
 * instance's nonce and none is stored. `mac` signs a string (the refresh signer); the `dpop-nonce:`
 * prefix keeps its inputs apart from token signing inputs, which never contain a colon.
 */
export function dpopNonce(mac: (input: string) => string, now: number): string {
  const step = Math.floor(now / 1000 / NONCE_STEP_SECONDS);
  return `${step.toString(36)}.${mac(`dpop-nonce:${step}`).slice(0, 22)}`;
}

/** Whether `nonce` is one `dpopNonce` gave for this step or the one before. */
export function isCurrentNonce(mac: (input: string) => string, nonce: string, now: number): boolean {
  const step = Math.floor(now / 1000 / NONCE_STEP_SECONDS);
  return [step, step - 1].some((s) =>
    sameText(nonce, `${s.toString(36)}.${mac(`dpop-nonce:${s}`).slice(0, 22)}`),
  );
}
