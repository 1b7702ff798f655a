import type { SigningKeyRecord } from '../model.js';
import type { Database } from '../storage/contract.js';
import type { OperatorStore } from '../storage/operator.js';
import { type KeyWrap, PLAIN_KEYS } from '../tokens/key-wrap.js';
import { generateSigningKey } from '../tokens/keys.js';
import { signsAfter } from './rotate-keys.js';

export interface RetireKeyResult {
  retired: SigningKeyRecord;
  /** A new key of the same use, signing at once, when no other key was left to sign. */
  replacement: string | undefined;
}

/**
 * Retires a (compromised) key at `now`: nothing it signed verifies any longer, on an instance as
 * soon as it reloads the store's keys. When it was the only key of its use still signing or due
 * to, a new one is added that signs at once: an access key published without the usual delay, so
 * verifiers that cache the JWKS may refuse new tokens until they fetch it again: refusing for a
 * few minutes beats trusting a stolen key.
 */
export async function retireSigningKey(
  db: Database,
  operator: OperatorStore,
  storeId: string,
  kid: string,
  options: { now: number; wrap?: KeyWrap },
): Promise<RetireKeyResult> {
  if (!(await db.getStore(storeId))) throw new Error(`no store "${storeId}"`);
  const { now } = options;
  const keys = await db.listSigningKeys(storeId);
  const target = keys.find((k) => k.kid === kid && (k.retiredAt === null || k.retiredAt > now));
  if (!target) throw new Error(`no key "${kid}" still verifying in store "${storeId}"`);
  const others = keys.filter((k) => k.kid !== kid && k.use === target.use && signsAfter(k, now));
  // A successor is needed when nothing else signs now and forever after: keys that stop at a set
  // time (an older key a pending rotation replaces) leave the store without a signer then.
  const needsReplacement = !others.some((k) => k.rotatedAt === null);
  const replacement = needsReplacement
    ? (options.wrap ?? PLAIN_KEYS).seal(generateSigningKey(storeId, target.use, now, accessAlg(target)))
    : undefined;
  if (!(await operator.retireSigningKey(storeId, kid, now, replacement)))
    throw new Error(`no key "${kid}" still verifying in store "${storeId}"`);
  return { retired: target, replacement: replacement?.kid };
}

const accessAlg = (k: SigningKeyRecord): 'ES256' | 'EdDSA' => (k.alg === 'EdDSA' ? 'EdDSA' : 'ES256');
