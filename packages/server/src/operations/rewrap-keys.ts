import type { SigningKeyRecord } from '../model.js';
import type { Database } from '../storage/contract.js';
import type { OperatorStore } from '../storage/operator.js';
import { isWrapped, type KeyWrap } from '../tokens/key-wrap.js';

/** Every stored signing key, store by store. */
async function allSigningKeys(db: Database, operator: OperatorStore): Promise<SigningKeyRecord[]> {
  const keys: SigningKeyRecord[] = [];
  for (const s of await operator.listStores()) keys.push(...(await db.listSigningKeys(s.id)));
  return keys;
}

/**
 * Opens every key that still verifies, so that a wrong or missing KEY_ENCRYPTION_KEY stops the
 * server at start-up (a KeyWrapError naming the key) instead of failing its first requests.
 * Answers how many keys are stored unwrapped, for the warning that `keys rewrap` is due.
 */
export async function checkSigningKeys(
  db: Database,
  operator: OperatorStore,
  wrap: KeyWrap,
  now: number,
): Promise<{ unwrapped: number; notCurrent: number }> {
  let unwrapped = 0;
  let notCurrent = 0;
  for (const key of await allSigningKeys(db, operator)) {
    if (key.retiredAt !== null && key.retiredAt <= now) continue;
    wrap.open(key);
    if (!wrap.isCurrent(key)) notCurrent++;
    if (!isWrapped(key.privateJwk)) unwrapped++;
  }
  return { unwrapped, notCurrent };
}

export interface RewrapResult {
  rewrapped: number;
  /** Already under the current key encryption key. */
  unchanged: number;
  /** Retired keys that no configured key opens: they verify nothing, so they are left as they are. */
  skippedRetired: string[];
}

/**
 * Stores every signing key again under the current KEY_ENCRYPTION_KEY (or unwrapped, when it is
 * unset). Instances keep serving meanwhile: each row changes in one statement, and instances that
 * also have the old key as KEY_ENCRYPTION_KEY_PREVIOUS open either form.
 */
export async function rewrapSigningKeys(
  db: Database,
  operator: OperatorStore,
  wrap: KeyWrap,
  now: number,
): Promise<RewrapResult> {
  const result: RewrapResult = { rewrapped: 0, unchanged: 0, skippedRetired: [] };
  for (const key of await allSigningKeys(db, operator)) {
    if (wrap.isCurrent(key)) {
      result.unchanged++;
      continue;
    }
    let next: SigningKeyRecord;
    try {
      next = wrap.rewrap(key);
    } catch (error) {
      if (key.retiredAt !== null && key.retiredAt <= now) {
        result.skippedRetired.push(key.kid);
        continue;
      }
      throw error;
    }
    // Compare-and-swap on the old text: a concurrent rewrap that got there first is not undone.
    if (await operator.replaceSigningKeyMaterial(key.storeId, key.kid, key.privateJwk, next.privateJwk))
      result.rewrapped++;
    else result.unchanged++;
  }
  return result;
}
