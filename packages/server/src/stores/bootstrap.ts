import type { Clock } from '../clock.js';
import type { SessionStore } from '../storage/contract.js';
import { type KeyWrap, PLAIN_KEYS } from '../tokens/key-wrap.js';
import { generateSigningKey } from '../tokens/keys.js';
import { randomId, sha256Hex } from '../util/ids.js';

export interface EnsureStoreResult {
  created: boolean;
  /** Set when a key had to be generated: shown to the operator once, never stored in clear. */
  generatedApiKey?: string;
}

/** A new public API key: a prefix that says what it is, then 32 random bytes. */
export function newApiKey(kind: 'public' | 'secret' = 'public'): string {
  return `${kind === 'public' ? 'pk' : 'sk'}_${randomId(32)}`;
}

/** Makes an API key valid for a store (no-op when it already is). */
export async function ensureApiKey(
  store: SessionStore,
  storeId: string,
  apiKey: string,
  now: number,
  kind: 'public' | 'secret' = 'public',
): Promise<void> {
  const keyHash = sha256Hex(apiKey);
  if (await store.findApiKey(storeId, keyHash)) return;
  await store.addApiKey({ id: randomId(12), storeId, keyHash, kind, createdAt: now, revokedAt: null });
}

/**
 * Creates the store when missing, gives it signing keys when it has none active, and makes
 * `apiKey` valid for it. On first creation without `apiKey`, generates one and answers it. New
 * signing keys are stored as `wrap` seals them.
 */
export async function ensureStore(
  store: SessionStore,
  clock: Clock,
  storeId: string,
  apiKey: string | undefined,
  wrap: KeyWrap = PLAIN_KEYS,
): Promise<EnsureStoreResult> {
  const now = clock.now();
  const created = await store.createStore({ id: storeId, name: storeId, createdAt: now });
  const keys = await store.listSigningKeys(storeId);
  for (const use of ['access', 'refresh'] as const) {
    const active = keys.some((k) => k.use === use && k.rotatedAt === null && k.retiredAt === null);
    if (!active) await store.addSigningKey(wrap.seal(generateSigningKey(storeId, use, now)));
  }
  if (apiKey) {
    await ensureApiKey(store, storeId, apiKey, now);
    return { created };
  }
  if (!created) return { created };
  const generatedApiKey = newApiKey();
  await ensureApiKey(store, storeId, generatedApiKey, now);
  return { created, generatedApiKey };
}
