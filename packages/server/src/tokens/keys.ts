import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  randomBytes,
  sign,
  timingSafeEqual,
  verify,
} from 'node:crypto';
import type { SigningKeyRecord } from '../model.js';
import { randomId } from '../util/ids.js';
import { b64urlJson } from './jwt.js';
import { type KeyWrap, PLAIN_KEYS } from './key-wrap.js';

/** The `typ` header of each kind of token (RFC 8725 §3.11: explicit typing). */
export const ACCESS_TYP = 'at+jwt';
export const REFRESH_TYP = 'rt+jwt';

/** One usable key: it signs (when current) and verifies, with its algorithm pinned. */
export interface Key {
  kid: string;
  use: 'access' | 'refresh';
  alg: SigningKeyRecord['alg'];
  /** Precomputed base64url header for tokens this key signs. */
  header: string;
  /**
   * Signs `input`, answering base64url, on the calling thread. Measured both ways in
   * `npm run bench` with group commit: handing the ES256 signature (about 26 us) to libuv's pool
   * cost more in thread hand-offs than it saved. Inline answered about an eighth more refreshes
   * per second on SQLite at 10 clients and about a fifth more on PostgreSQL at 16.
   */
  sign(input: string): string;
  verify(input: string, signature: Buffer): boolean;
  /** Public JWK for the JWKS endpoint; undefined for server-only (refresh) keys. */
  publicJwk: JsonWebKey | undefined;
}

export function generateSigningKey(
  storeId: string,
  use: 'access' | 'refresh',
  now: number,
  alg: 'ES256' | 'EdDSA' = 'ES256',
): SigningKeyRecord {
  const kid = randomId(12);
  if (use === 'refresh') {
    // Refresh tokens are verified only by us, so a symmetric key is right, and it makes the
    // signature deterministic: a grace-window replay derives the same token, byte for byte, from
    // the session row, so no token is ever stored.
    const jwk = { kty: 'oct', k: randomBytes(32).toString('base64url') };
    return keyRecord(storeId, kid, use, 'HS256', jwk, now);
  }
  const { privateKey } =
    alg === 'EdDSA'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return keyRecord(storeId, kid, use, alg, privateKey.export({ format: 'jwk' }), now);
}

function keyRecord(
  storeId: string,
  kid: string,
  use: SigningKeyRecord['use'],
  alg: SigningKeyRecord['alg'],
  jwk: JsonWebKey,
  now: number,
): SigningKeyRecord {
  return {
    kid,
    storeId,
    use,
    alg,
    privateJwk: JSON.stringify(jwk),
    createdAt: now,
    rotatedAt: null,
    retiredAt: null,
  };
}

/** Turns a stored record into a usable key. The algorithm is the record's, never the token's. */
export function loadKey(record: SigningKeyRecord, wrap: KeyWrap = PLAIN_KEYS): Key {
  const jwk = JSON.parse(wrap.open(record)) as JsonWebKey;
  const header = b64urlJson({
    alg: record.alg,
    typ: record.use === 'access' ? ACCESS_TYP : REFRESH_TYP,
    kid: record.kid,
  });
  const base = { kid: record.kid, use: record.use, alg: record.alg, header };
  if (record.alg === 'HS256') {
    // A KeyObject made once: createHmac with raw bytes imports the key again on every call.
    const secret = createSecretKey(Buffer.from(String(jwk.k), 'base64url'));
    const mac = (input: string) => createHmac('sha256', secret).update(input).digest();
    return {
      ...base,
      publicJwk: undefined,
      sign: (input) => mac(input).toString('base64url'),
      verify: (input, signature) => {
        const expected = mac(input);
        return signature.length === expected.length && timingSafeEqual(signature, expected);
      },
    };
  }
  const privateKey: KeyObject = createPrivateKey({ key: jwk, format: 'jwk' });
  const publicKey: KeyObject = createPublicKey(privateKey);
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  const publicJwk: JsonWebKey = {
    kty,
    crv,
    x,
    ...(y ? { y } : {}),
    kid: record.kid,
    alg: record.alg,
    use: 'sig',
  };
  // ES256 signatures are the raw r||s form of RFC 7518 §3.4, not DER.
  const digest = record.alg === 'EdDSA' ? null : 'sha256';
  const options =
    record.alg === 'EdDSA' ? privateKey : { key: privateKey, dsaEncoding: 'ieee-p1363' as const };
  const verifyOptions =
    record.alg === 'EdDSA' ? publicKey : { key: publicKey, dsaEncoding: 'ieee-p1363' as const };
  return {
    ...base,
    publicJwk,
    sign: (input) => sign(digest, Buffer.from(input), options).toString('base64url'),
    verify: (input, signature) => {
      try {
        return verify(digest, Buffer.from(input), verifyOptions, signature);
      } catch {
        return false;
      }
    },
  };
}

/**
 * A store's keys at one moment: the key that signs each kind of token, and every key that may
 * still verify one. Built from the stored records; rebuilt when they change.
 */
export class Keyring {
  readonly accessSigner: Key;
  readonly refreshSigner: Key;
  private readonly verifiers = new Map<string, Key>();
  /** The same keys by the exact header segment they sign under. */
  private readonly byHeader = new Map<string, Key>();

  constructor(records: SigningKeyRecord[], now: number, wrap: KeyWrap = PLAIN_KEYS) {
    let access: Key | undefined;
    let refresh: Key | undefined;
    for (const record of records) {
      if (record.retiredAt !== null && record.retiredAt <= now) continue;
      const key = loadKey(record, wrap);
      this.verifiers.set(key.kid, key);
      this.byHeader.set(key.header, key);
      // The oldest key not yet rotated out signs (records come ordered by creation). A key added
      // by `keys rotate` is published at once but signs only when its predecessor's rotatedAt
      // passes, so verifiers that cache the JWKS have seen it before they meet a token it signed.
      if (record.rotatedAt === null || record.rotatedAt > now) {
        if (record.use === 'access') access ??= key;
        else refresh ??= key;
      }
    }
    if (!access || !refresh) throw new Error('store has no active signing keys');
    this.accessSigner = access;
    this.refreshSigner = refresh;
  }

  /** The key with this kid for this use, or undefined: a kid never selects a key of another use. */
  verifier(kid: unknown, use: Key['use']): Key | undefined {
    if (typeof kid !== 'string') return undefined;
    const key = this.verifiers.get(kid);
    return key?.use === use ? key : undefined;
  }

  /**
   * The key whose tokens carry exactly this base64url header segment, for this use. We verify only
   * tokens we issued, so the header must be byte for byte the one we write (alg, typ, kid and
   * nothing else): any other header, `alg: none`, an embedded `jwk`, a `jku`, `crit`, a kid of the
   * other use or of another store, finds no key (RFC 8725 §3.1, §3.11).
   */
  forHeader(segment: string, use: Key['use']): Key | undefined {
    const key = this.byHeader.get(segment);
    return key?.use === use ? key : undefined;
  }

  /** Public keys of every access key still verifying, for the JWKS endpoint. */
  jwks(): { keys: JsonWebKey[] } {
    const keys: JsonWebKey[] = [];
    for (const key of this.verifiers.values()) if (key.publicJwk) keys.push(key.publicJwk);
    return { keys };
  }
}
