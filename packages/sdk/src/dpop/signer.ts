import { decodeClaims } from '../tokens/jwt.js';
import { type DpopKeyStore, indexedDbAvailable, indexedDbKeyStore, memoryKeyStore } from './key-store.js';
import { createProof, type DpopKey, describeKey, generateDpopKeyPair } from './proof.js';

/** `dpop` of the SDK options, as an object. */
export interface DpopOptions {
  /** Sign with this pair (ECDSA P-256 or Ed25519), e.g. one a Node.js process keeps. */
  keyPair?: CryptoKeyPair;
  /** Where the SDK keeps the pair it makes. @default IndexedDB in browsers, else this instance's memory */
  keyStore?: DpopKeyStore;
}

/** The thumbprint a token is bound to (`cnf.jkt`, RFC 9449 §6), if any. */
export function boundTo(accessToken: string | null | undefined): string | undefined {
  const cnf = decodeClaims(accessToken)?.['cnf'] as { jkt?: unknown } | undefined;
  return typeof cnf?.jkt === 'string' ? cnf.jkt : undefined;
}

/** Whether the runtime can sign proofs at all. */
export function webCryptoAvailable(): boolean {
  return typeof globalThis.crypto?.subtle?.sign === 'function';
}

/**
 * Makes the proofs of one SDK instance: the key (loaded once, made when missing), the server's
 * latest nonce, and the server's clock for `iat`.
 */
export class DpopSigner {
  private key: Promise<DpopKey> | null = null;
  private nonce: string | undefined;
  /** The server's clock minus `now()`, from its Date header; used only while no token told it. */
  private dateOffsetMs: number | undefined;
  /** Where the key lives when the store will not open. */
  private readonly fallback = memoryKeyStore();

  constructor(
    private readonly store: DpopKeyStore,
    private readonly fixed: CryptoKeyPair | undefined,
    private readonly now: () => number,
    /** The server's clock as learnt from tokens, or undefined while nothing has been learnt. */
    private readonly tokenServerNow: () => number | undefined,
  ) {}

  /** The signer the options ask for, or null when binding is off. */
  static fromOptions(
    dpop: boolean | DpopOptions | undefined,
    defaultOn: boolean,
    now: () => number,
    tokenServerNow: () => number | undefined,
  ): DpopSigner | null {
    if (dpop === false || !webCryptoAvailable()) return null;
    if (dpop === undefined && !defaultOn) return null;
    const options = typeof dpop === 'object' ? dpop : {};
    const store = options.keyStore ?? (indexedDbAvailable() ? indexedDbKeyStore() : memoryKeyStore());
    return new DpopSigner(store, options.keyPair, now, tokenServerNow);
  }

  /** The server's "now", ms, as well as this instance knows it. */
  serverNow(): number {
    return this.tokenServerNow() ?? this.now() + (this.dateOffsetMs ?? 0);
  }

  /** A proof for one request; `accessToken` when it carries one (its `cnf.jkt` picks the key). */
  async proof(
    htm: string,
    htu: string,
    accessToken?: string,
  ): Promise<{ proof: string; iatMs: number; nonce?: string }> {
    const key = await this.keyFor(boundTo(accessToken));
    const iatMs = this.serverNow();
    const nonce = this.nonce;
    const proof = await createProof(key, {
      htm,
      htu,
      iat: iatMs / 1000,
      ...(accessToken !== undefined ? { accessToken } : {}),
      ...(nonce !== undefined ? { nonce } : {}),
    });
    return { proof, iatMs, ...(nonce !== undefined ? { nonce } : {}) };
  }

  /** Keeps the latest `DPoP-Nonce` of any answer (RFC 9449 §8.2). */
  learnNonce(response: Response): string | undefined {
    const nonce = response.headers.get('dpop-nonce');
    if (nonce) this.nonce = nonce;
    return nonce ?? undefined;
  }

  /**
   * After a refused proof: the server's Date header says how far off this device's clock is.
   * Used only while no token has told the server's clock (a token's `iat` is written by the
   * clock that checks the proof; a Date header may be a proxy's). True when the correction moved
   * `iat` by more than the server's 5 s of future leeway, so a retry could succeed.
   */
  learnDate(response: Response, usedIatMs: number): boolean {
    if (this.tokenServerNow() !== undefined) return false;
    const date = Date.parse(response.headers.get('date') ?? '');
    if (Number.isNaN(date)) return false;
    // A Date header is truncated to the second: the server's now is within the next one.
    const serverNow = date + 500;
    if (Math.abs(serverNow - usedIatMs) <= 5000) return false;
    this.dateOffsetMs = serverNow - this.now();
    return true;
  }

  /**
   * The key to sign with. The cached key, unless the token is bound to another one: a sibling
   * tab may have made a new key after the store was cleared, and this tab then adopts it.
   */
  private async keyFor(jkt: string | undefined): Promise<DpopKey> {
    if (this.key) {
      const cached = await this.key.catch(() => null);
      if (cached && (jkt === undefined || cached.jkt === jkt || this.fixed)) return cached;
    }
    this.key = this.loadKey();
    return this.key;
  }

  private async loadKey(): Promise<DpopKey> {
    if (this.fixed) return describeKey(this.fixed);
    try {
      const stored = await this.store.load();
      if (stored) return await describeKey(stored);
      return await describeKey(await this.store.keep(await generateDpopKeyPair()));
    } catch {
      // The store will not open (a browser's private mode, a blocked database): a key for this
      // page only. Its session ends with the page, like a logout; it is never sent unbound.
      const kept = (await this.fallback.load()) ?? (await this.fallback.keep(await generateDpopKeyPair()));
      return describeKey(kept);
    }
  }
}
