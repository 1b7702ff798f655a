import type { SigningKeyRecord } from '../model.js';
import type { Database } from '../storage/contract.js';
import type { OperatorStore } from '../storage/operator.js';
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
}

/** Leeway for verifiers whose clocks run behind ours, seconds. */
const CLOCK_SKEW = 60;

/**
 * Rotates a store's signing keys: new access and refresh keys start signing after `publishAfter`;
 * the old ones keep verifying until no token they signed can still be alive, then retire.
 */
export async function rotateSigningKeys(
  db: Database,
  operator: OperatorStore,
  storeId: string,
  options: RotateKeysOptions,
): Promise<{ rotateAt: number; retireAt: Record<SigningKeyRecord['use'], number>; kids: string[] }> {
  if (!(await db.getStore(storeId))) throw new Error(`no store "${storeId}"`);
  const rotateAt = options.now + (options.publishAfter ?? 300) * 1000;
  const retireAt = {
    access: rotateAt + (options.accessTokenTtl + CLOCK_SKEW) * 1000,
    refresh: rotateAt + options.refreshTokenTtl * 1000,
  };
  const newKeys = [
    generateSigningKey(storeId, 'access', options.now, options.alg ?? 'ES256'),
    generateSigningKey(storeId, 'refresh', options.now),
  ];
  await operator.rotateSigningKeys(storeId, newKeys, rotateAt, retireAt);
  return { rotateAt, retireAt, kids: newKeys.map((k) => k.kid) };
}
