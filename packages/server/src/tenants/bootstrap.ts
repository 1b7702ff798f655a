import type { Clock } from '../clock.js';
import type { Database } from '../storage/contract.js';
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
  db: Database,
  storeId: string,
  apiKey: string,
  now: number,
  kind: 'public' | 'secret' = 'public',
): Promise<void> {
  const keyHash = sha256Hex(apiKey);
  if (await db.findApiKey(storeId, keyHash)) return;
  await db.addApiKey({ id: randomId(12), storeId, keyHash, kind, createdAt: now, revokedAt: null });
}

/**
 * Creates the store when missing, gives it signing keys when it has none active, and makes
 * `apiKey` valid for it. On first creation without `apiKey`, generates one and answers it.
 */
export async function ensureStore(
  db: Database,
  clock: Clock,
  storeId: string,
  apiKey: string | undefined,
): Promise<EnsureStoreResult> {
  const now = clock.now();
  const created = await db.createStore({ id: storeId, name: storeId, createdAt: now });
  const keys = await db.listSigningKeys(storeId);
  for (const use of ['access', 'refresh'] as const) {
    const active = keys.some((k) => k.use === use && k.rotatedAt === null && k.retiredAt === null);
    if (!active) await db.addSigningKey(generateSigningKey(storeId, use, now));
  }
  if (apiKey) {
    await ensureApiKey(db, storeId, apiKey, now);
    return { created };
  }
  if (!created) return { created };
  const generatedApiKey = newApiKey();
  await ensureApiKey(db, storeId, generatedApiKey, now);
  return { created, generatedApiKey };
}
