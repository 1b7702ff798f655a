import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';

/** The URL inject() requests are made at (its default Host is localhost:80). */
export const INJECT_ORIGIN = 'http://localhost';

export interface ProofOptions {
  htm?: string;
  /** The URL the proof names; query and fragment are ignored by the server. */
  htu: string;
  /** seconds; default: now by the given clock. */
  iat?: number;
  jti?: string;
  /** Sets `ath` to this token's hash. */
  accessToken?: string;
  nonce?: string;
  /** Replaces header members (e.g. `typ`, `jwk` with a private key). */
  header?: Record<string, unknown>;
  /** Replaces or adds claims. */
  claims?: Record<string, unknown>;
}

/**
 * A client's DPoP key, made with node:crypto, so server tests need nothing of the SDK: it makes
 * proofs (RFC 9449 §4.2) and knows its RFC 7638 thumbprint.
 */
export class DpopKey {
  readonly publicJwk: Record<string, string>;
  readonly privateJwk: Record<string, string>;
  readonly jkt: string;

  private constructor(
    readonly alg: 'ES256' | 'EdDSA',
    private readonly privateKey: KeyObject,
    publicKey: KeyObject,
    private readonly now: () => number,
  ) {
    const jwk = publicKey.export({ format: 'jwk' }) as Record<string, string>;
    this.publicJwk =
      alg === 'ES256'
        ? { kty: 'EC', crv: 'P-256', x: jwk['x']!, y: jwk['y']! }
        : { kty: 'OKP', crv: 'Ed25519', x: jwk['x']! };
    this.privateJwk = privateKey.export({ format: 'jwk' }) as Record<string, string>;
    const members =
      alg === 'ES256'
        ? { crv: 'P-256', kty: 'EC', x: jwk['x'], y: jwk['y'] }
        : { crv: 'Ed25519', kty: 'OKP', x: jwk['x'] };
    this.jkt = createHash('sha256').update(JSON.stringify(members)).digest('base64url');
  }

  /** A new key; `now` (ms) stamps `iat` (the test's manual clock, usually). */
  static create(alg: 'ES256' | 'EdDSA' = 'ES256', now: () => number = Date.now): DpopKey {
    const pair =
      alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
    return new DpopKey(alg, pair.privateKey, pair.publicKey, now);
  }

  proof(options: ProofOptions): string {
    const header = { typ: 'dpop+jwt', alg: this.alg, jwk: this.publicJwk, ...options.header };
    const payload: Record<string, unknown> = {
      jti: options.jti ?? randomBytes(16).toString('base64url'),
      htm: options.htm ?? 'POST',
      htu: options.htu,
      iat: options.iat ?? Math.floor(this.now() / 1000),
      ...(options.accessToken
        ? { ath: createHash('sha256').update(options.accessToken).digest('base64url') }
        : {}),
      ...(options.nonce ? { nonce: options.nonce } : {}),
      ...options.claims,
    };
    const input = `${b64(header)}.${b64(payload)}`;
    const signature =
      this.alg === 'ES256'
        ? sign('sha256', Buffer.from(input), { key: this.privateKey, dsaEncoding: 'ieee-p1363' })
        : sign(null, Buffer.from(input), this.privateKey);
    return `${input}.${signature.toString('base64url')}`;
  }
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
