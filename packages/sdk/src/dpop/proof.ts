/** DPoP proofs (RFC 9449 §4.2) and key thumbprints (RFC 7638), with WebCrypto only. */

export type DpopAlg = 'ES256' | 'EdDSA';

/** The public half as a JWK, only the members RFC 7638 hashes (no `d`, ever). */
export interface PublicJwk {
  kty: 'EC' | 'OKP';
  crv: string;
  x: string;
  y?: string;
}

export interface DpopKey {
  pair: CryptoKeyPair;
  alg: DpopAlg;
  jwk: PublicJwk;
  /** RFC 7638 SHA-256 thumbprint of `jwk`: what the server binds the session to (`cnf.jkt`). */
  jkt: string;
}

export interface ProofClaims {
  /** Uppercase HTTP method. */
  htm: string;
  /** The request URL; query and fragment are dropped here. */
  htu: string;
  /** Seconds, by the server's clock as far as the caller knows it. */
  iat: number;
  /** The access token the request carries: its hash goes in `ath`. */
  accessToken?: string;
  /** The server's latest `DPoP-Nonce`. */
  nonce?: string;
}

const encoder = new TextEncoder();

export function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

async function sha256(text: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text))));
}

/** A new non-extractable P-256 pair: the private key can sign but can never be exported. */
export function generateDpopKeyPair(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
    'verify',
  ]) as Promise<CryptoKeyPair>;
}

/** Describes a pair for signing: ECDSA P-256 (ES256) or Ed25519 (EdDSA); anything else throws. */
export async function describeKey(pair: CryptoKeyPair): Promise<DpopKey> {
  const algorithm = pair.privateKey.algorithm as { name: string; namedCurve?: string };
  let alg: DpopAlg;
  if (algorithm.name === 'ECDSA' && algorithm.namedCurve === 'P-256') alg = 'ES256';
  else if (algorithm.name === 'Ed25519') alg = 'EdDSA';
  else throw new TypeError('dpop.keyPair must be an ECDSA P-256 or an Ed25519 CryptoKeyPair');
  // A public key is always exportable, whatever `extractable` said for the pair.
  const full = (await crypto.subtle.exportKey('jwk', pair.publicKey)) as JsonWebKey;
  const jwk: PublicJwk =
    alg === 'ES256'
      ? { kty: 'EC', crv: 'P-256', x: full.x as string, y: full.y as string }
      : { kty: 'OKP', crv: 'Ed25519', x: full.x as string };
  return { pair, alg, jwk, jkt: await thumbprint(jwk) };
}

/** RFC 7638 §3: SHA-256 over the required members, in lexicographic order, without whitespace. */
export function thumbprint(jwk: PublicJwk): Promise<string> {
  const members =
    jwk.kty === 'EC'
      ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
      : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return sha256(JSON.stringify(members));
}

/** The `htu` of a request URL: RFC 9449 §4.2 leaves out query and fragment. */
export function htuOf(url: string): string {
  const u = new URL(url);
  u.search = '';
  u.hash = '';
  return u.href;
}

/** A compact JWS `dpop+jwt` for one request (RFC 9449 §4.2); `jti` is 144 random bits. */
export async function createProof(key: DpopKey, claims: ProofClaims): Promise<string> {
  const header = { typ: 'dpop+jwt', alg: key.alg, jwk: key.jwk };
  const payload: Record<string, unknown> = {
    jti: base64url(crypto.getRandomValues(new Uint8Array(18))),
    htm: claims.htm.toUpperCase(),
    htu: htuOf(claims.htu),
    iat: Math.floor(claims.iat),
  };
  if (claims.accessToken !== undefined) payload['ath'] = await sha256(claims.accessToken);
  if (claims.nonce !== undefined) payload['nonce'] = claims.nonce;
  const input = `${base64url(encoder.encode(JSON.stringify(header)))}.${base64url(
    encoder.encode(JSON.stringify(payload)),
  )}`;
  const params = key.alg === 'ES256' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'Ed25519' };
  // WebCrypto's ECDSA signature is already r || s, the JWS form (RFC 7518 §3.4).
  const signature = await crypto.subtle.sign(params, key.pair.privateKey, encoder.encode(input));
  return `${input}.${base64url(new Uint8Array(signature))}`;
}
