import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { SigningKeyRecord } from '../model.js';

/**
 * Private signing keys at rest. With a key encryption key (KEY_ENCRYPTION_KEY), every private JWK
 * is stored as a compact JWE (RFC 7516: `alg: dir`, `enc: A256GCM`) instead of plain JSON, so a
 * copy of the database alone cannot mint tokens. The storage layer only ever sees the text.
 *
 * The protected header (the AES-GCM additional data) names the signing key it holds (store, kid,
 * use, alg): a wrapped key copied into another row, or relabelled from refresh to access, fails
 * to open instead of signing under the wrong name.
 */
export class KeyWrapError extends Error {
  override name = 'KeyWrapError';
}

/** What the protected header of a wrapped key carries. */
interface WrapHeader {
  alg: 'dir';
  enc: 'A256GCM';
  /** Fingerprint of the key encryption key: says which one opens it, reveals nothing of it. */
  kid: string;
  cty: 'jwk+json';
  /** `<store>/<kid>/<use>/<alg>` of the signing key inside. */
  sfa_key: string;
}

interface Kek {
  id: string;
  key: Buffer;
}

/** Value of KEY_ENCRYPTION_KEY_PREVIOUS that lets keys stored before any encryption be read. */
export const UNENCRYPTED = 'unencrypted';

export interface KeyWrapOptions {
  /** Base64 of 32 random bytes; wraps every key written. Unset: keys are written as plain JWK. */
  keyEncryptionKey?: string | undefined;
  /**
   * Read-only, during a change of key encryption key: a key wrapped under this one (or, with
   * `unencrypted`, a key stored unwrapped) still opens, until `keys rewrap` has moved every key.
   */
  keyEncryptionKeyPrevious?: string | undefined;
}

/** Decodes and checks a key encryption key; the message never contains the value. */
export function parseKeyEncryptionKey(value: string, variable = 'KEY_ENCRYPTION_KEY'): Buffer {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) throw new KeyWrapError(`${variable} must be base64`);
  const key = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key.length !== 32)
    throw new KeyWrapError(
      `${variable} must be 32 bytes, base64-encoded (it decodes to ${key.length}); make one with: openssl rand -base64 32`,
    );
  return key;
}

const fingerprint = (key: Buffer) =>
  createHash('sha256')
    .update('storefront-auth key encryption key')
    .update(key)
    .digest('base64url')
    .slice(0, 11);

const label = (r: Pick<SigningKeyRecord, 'storeId' | 'kid' | 'use' | 'alg'>) =>
  `${r.storeId}/${r.kid}/${r.use}/${r.alg}`;

export const isWrapped = (text: string) => !text.trimStart().startsWith('{');

export class KeyWrap {
  private readonly current: Kek | undefined;
  private readonly previous: Kek | undefined;
  private readonly readsUnencrypted: boolean;

  constructor(options: KeyWrapOptions = {}) {
    const kek = (value: string, variable: string): Kek => {
      const key = parseKeyEncryptionKey(value, variable);
      return { id: fingerprint(key), key };
    };
    this.current = options.keyEncryptionKey ? kek(options.keyEncryptionKey, 'KEY_ENCRYPTION_KEY') : undefined;
    const previous = options.keyEncryptionKeyPrevious;
    this.readsUnencrypted = !this.current || previous === UNENCRYPTED;
    this.previous =
      previous && previous !== UNENCRYPTED ? kek(previous, 'KEY_ENCRYPTION_KEY_PREVIOUS') : undefined;
  }

  /** True when keys are written wrapped. */
  get encrypts(): boolean {
    return this.current !== undefined;
  }

  /** A newly generated record as it is to be stored: its private JWK wrapped under the current key, if any. */
  seal(record: SigningKeyRecord): SigningKeyRecord {
    const plain = record.privateJwk;
    if (isWrapped(plain)) throw new KeyWrapError(`signing key ${record.kid} is already wrapped`);
    if (!this.current) return record;
    const header: WrapHeader = {
      alg: 'dir',
      enc: 'A256GCM',
      kid: this.current.id,
      cty: 'jwk+json',
      sfa_key: label(record),
    };
    const protectedHeader = Buffer.from(JSON.stringify(header)).toString('base64url');
    // A fresh 96-bit IV per wrap (NIST SP 800-38D): the same key encryption key wraps many keys.
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(Buffer.from(protectedHeader, 'ascii'));
    const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return {
      ...record,
      privateJwk: [
        protectedHeader,
        '',
        iv.toString('base64url'),
        ciphertext.toString('base64url'),
        cipher.getAuthTag().toString('base64url'),
      ].join('.'),
    };
  }

  /** A stored record, opened and wrapped again under the current key (or unwrapped when none is set). */
  rewrap(record: SigningKeyRecord): SigningKeyRecord {
    return this.seal({ ...record, privateJwk: this.open(record) });
  }

  /** True when the stored text is already wrapped under the current key (nothing to rewrap). */
  isCurrent(record: SigningKeyRecord): boolean {
    if (!isWrapped(record.privateJwk)) return !this.current;
    return this.current !== undefined && this.headerOf(record).kid === this.current.id;
  }

  /** The private JWK (JSON text) of a stored record; a KeyWrapError says why it cannot be read. */
  open(record: SigningKeyRecord): string {
    const text = record.privateJwk;
    if (!isWrapped(text)) {
      if (this.readsUnencrypted) return text;
      // Refused: anyone able to write the database could otherwise add a plain key of their own
      // and have it sign.
      throw new KeyWrapError(
        `signing key ${record.kid} of store "${record.storeId}" is stored unencrypted while KEY_ENCRYPTION_KEY is set: ` +
          `run "storefront-auth keys rewrap" with KEY_ENCRYPTION_KEY_PREVIOUS=${UNENCRYPTED} (instances may run with it meanwhile)`,
      );
    }
    const header = this.headerOf(record);
    const kek = [this.current, this.previous].find((k) => k?.id === header.kid);
    if (!kek) {
      throw new KeyWrapError(
        this.current
          ? `signing key ${record.kid} of store "${record.storeId}" is encrypted under key encryption key ${header.kid}, ` +
              `but KEY_ENCRYPTION_KEY is ${this.current.id}${this.previous ? ` and KEY_ENCRYPTION_KEY_PREVIOUS ${this.previous.id}` : ''}: wrong KEY_ENCRYPTION_KEY?`
          : `signing key ${record.kid} of store "${record.storeId}" is encrypted (key encryption key ${header.kid}): set KEY_ENCRYPTION_KEY`,
      );
    }
    if (header.sfa_key !== label(record))
      throw new KeyWrapError(`signing key ${record.kid} of store "${record.storeId}" holds another key`);
    const [protectedHeader, , iv, ciphertext, tag] = text.split('.') as [
      string,
      string,
      string,
      string,
      string,
    ];
    try {
      const decipher = createDecipheriv('aes-256-gcm', kek.key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(protectedHeader, 'ascii'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([
        decipher.update(Buffer.from(ciphertext, 'base64url')),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new KeyWrapError(
        `signing key ${record.kid} of store "${record.storeId}" failed its integrity check`,
      );
    }
  }

  private headerOf(record: SigningKeyRecord): WrapHeader {
    const parts = record.privateJwk.split('.');
    try {
      if (parts.length !== 5) throw new Error();
      const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as WrapHeader;
      if (header.alg !== 'dir' || header.enc !== 'A256GCM' || typeof header.kid !== 'string')
        throw new Error();
      return header;
    } catch {
      throw new KeyWrapError(`signing key ${record.kid} of store "${record.storeId}" is unreadable`);
    }
  }
}

/** No key encryption key: keys are stored and read as plain JWK (development, tests). */
export const PLAIN_KEYS = new KeyWrap();

/** The key wrapping a configuration asks for. */
export function keyWrapFor(config: {
  keyEncryptionKey: string | undefined;
  keyEncryptionKeyPrevious: string | undefined;
}): KeyWrap {
  return new KeyWrap({
    keyEncryptionKey: config.keyEncryptionKey,
    keyEncryptionKeyPrevious: config.keyEncryptionKeyPrevious,
  });
}
