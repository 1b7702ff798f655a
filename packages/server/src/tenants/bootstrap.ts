import type { Clock } from '../clock.js';
import type { ApiKeyRecord } from '../model.js';
import type { Database } from '../storage/contract.js';
import type { OperatorStore } from '../storage/operator.js';
import { type KeyWrap, PLAIN_KEYS } from '../tokens/key-wrap.js';
import { generateSigningKey } from '../tokens/keys.js';
import { randomId, sha256Hex } from '../util/ids.js';

export interface EnsureStoreResult {
  created: boolean;
  /** Set when a key had to be generated: shown to the operator once, never stored in clear. */
  generatedApiKey?: string;
  /** Id of the API key given or generated, when there is one. */
  apiKeyId?: string;
}

/** Label of the key that API_KEY made valid at start-up. */
export const ENV_API_KEY_LABEL = 'API_KEY';

/** How many characters of a key are stored and shown to tell keys apart (`pk_` and 7 more). */
const PREFIX_LENGTH = 10;

/** A new public API key: a prefix that says what it is, then 32 random bytes. */
export function newApiKey(kind: 'public' | 'secret' = 'public'): string {
  return `${kind === 'public' ? 'pk' : 'sk'}_${randomId(32)}`;
}

/** Makes an API key valid for a store (no-op when it already is); answers its record. */
export async function ensureApiKey(
  db: Database,
  storeId: string,
  apiKey: string,
  now: number,
  kind: 'public' | 'secret' = 'public',
  label?: string,
): Promise<ApiKeyRecord> {
  const keyHash = sha256Hex(apiKey);
  const existing = await db.findApiKey(storeId, keyHash);
  if (existing) return existing;
  const record: ApiKeyRecord = {
    id: randomId(12),
    storeId,
    keyHash,
    kind,
    createdAt: now,
    revokedAt: null,
    prefix: apiKey.slice(0, PREFIX_LENGTH),
    ...(label ? { label } : {}),
  };
  await db.addApiKey(record);
  return record;
}

/**
 * Revokes the keys that earlier starts' API_KEY made valid, other than `keepId`: API_KEY names the
 * one start-up key, so changing it replaces the old one instead of leaving it live.
 */
export async function revokeEarlierEnvApiKeys(
  operator: OperatorStore,
  storeId: string,
  keepId: string,
  now: number,
): Promise<number> {
  let revoked = 0;
  for (const key of await operator.listApiKeys(storeId)) {
    if (key.label !== ENV_API_KEY_LABEL || key.id === keepId || key.revokedAt !== null) continue;
    if (await operator.revokeApiKey(storeId, key.id, now)) revoked++;
  }
  return revoked;
}

/**
 * Creates the store when missing, gives it signing keys when it has none active, and makes
 * `apiKey` valid for it. On first creation without `apiKey`, generates one and answers it. New
 * signing keys are stored as `wrap` seals them.
 */
export async function ensureStore(
  db: Database,
  clock: Clock,
  storeId: string,
  apiKey: string | undefined,
  wrap: KeyWrap = PLAIN_KEYS,
): Promise<EnsureStoreResult> {
  const now = clock.now();
  const created = await db.createStore({ id: storeId, name: storeId, createdAt: now });
  const keys = await db.listSigningKeys(storeId);
  for (const use of ['access', 'refresh'] as const) {
    const active = keys.some((k) => k.use === use && k.rotatedAt === null && k.retiredAt === null);
    if (!active) await db.addSigningKey(wrap.seal(generateSigningKey(storeId, use, now)));
  }
  if (apiKey) {
    const key = await ensureApiKey(db, storeId, apiKey, now, 'public', ENV_API_KEY_LABEL);
    return { created, apiKeyId: key.id };
  }
  if (!created) return { created };
  const generatedApiKey = newApiKey();
  const key = await ensureApiKey(db, storeId, generatedApiKey, now, 'public', 'first start');
  return { created, generatedApiKey, apiKeyId: key.id };
}
