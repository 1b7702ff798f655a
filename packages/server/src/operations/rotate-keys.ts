import type { SigningKeyRecord } from '../model.js';
import type { Database } from '../storage/contract.js';
import type { OperatorStore } from '../storage/operator.js';
import { type KeyWrap, PLAIN_KEYS } from '../tokens/key-wrap.js';
import { generateSigningKey } from '../tokens/keys.js';

export interface RotateKeysOptions {
  now: number;
  /**
   * Seconds between publishing the new access key and signing with it, so that verifiers that
   * cache the JWKS (we allow five minutes) know the key before they see a token it signed.
   * @default 300
   */
  publishAfter?: number;
  /** Access-token lifetime, seconds: the old access key verifies this much longer (plus skew). */
  accessTokenTtl: number;
  /** Idle lifetime, seconds: the old refresh key verifies this much longer. */
  refreshTokenTtl: number;
  alg?: 'ES256' | 'EdDSA';
  /** How new keys are stored (KEY_ENCRYPTION_KEY). @default plain JWK */
  wrap?: KeyWrap;
}

export interface RotateKeysResult {
  rotateAt: number;
  retireAt: Record<SigningKeyRecord['use'], number>;
  kids: string[];
  /**
   * Keys of an earlier rotation that had not started signing yet: this rotation replaces their
   * schedule, so they never sign and retire with the keys they were to replace.
   */
  superseded: string[];
}

/** Leeway for verifiers whose clocks run behind ours, seconds. */
const CLOCK_SKEW = 60;

/** Whether a key still signs, or is due to, after `now` (and has not been retired). */
export const signsAfter = (k: SigningKeyRecord, now: number) =>
  (k.rotatedAt === null || k.rotatedAt > now) && (k.retiredAt === null || k.retiredAt > now);

/**
 * Rotates a store's signing keys: new access and refresh keys start signing after `publishAfter`;
 * the old ones keep verifying until no token they signed can still be alive, then retire. When an
 * earlier rotation is still pending, the newest request decides: every key still signing or due
 * to sign stops at this rotation's time.
 */
export async function rotateSigningKeys(
  db: Database,
  operator: OperatorStore,
  storeId: string,
  options: RotateKeysOptions,
): Promise<RotateKeysResult> {
  if (!(await db.getStore(storeId))) throw new Error(`no store "${storeId}"`);
  const { now } = options;
  const rotateAt = now + (options.publishAfter ?? 300) * 1000;
  const retireAt = {
    access: rotateAt + (options.accessTokenTtl + CLOCK_SKEW) * 1000,
    refresh: rotateAt + options.refreshTokenTtl * 1000,
  };
  // Which keys a pending rotation had lined up: every key due to sign after the one signing now.
  const superseded: string[] = [];
  const existing = await db.listSigningKeys(storeId);
  for (const use of ['access', 'refresh'] as const) {
    const due = existing.filter((k) => k.use === use && signsAfter(k, now));
    superseded.push(...due.slice(1).map((k) => k.kid));
  }
  const wrap = options.wrap ?? PLAIN_KEYS;
  const newKeys = [
    generateSigningKey(storeId, 'access', now, options.alg ?? 'ES256'),
    generateSigningKey(storeId, 'refresh', now),
  ];
  await operator.rotateSigningKeys(
    storeId,
    newKeys.map((k) => wrap.seal(k)),
    rotateAt,
    retireAt,
    now,
  );
  return { rotateAt, retireAt, kids: newKeys.map((k) => k.kid), superseded };
}
