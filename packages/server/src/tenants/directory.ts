import type { Clock } from '../clock.js';
import { AppError } from '../errors/codes.js';
import type { StoreRecord } from '../model.js';
import { type LimitValues, withOverrides } from '../ratelimit/limits.js';
import type { Database } from '../storage/contract.js';
import { DEFAULT_AUDIENCE, type TokenPolicy } from '../tokens/issue.js';
import { type KeyWrap, PLAIN_KEYS } from '../tokens/key-wrap.js';
import { Keyring } from '../tokens/keys.js';

export interface Tenant {
  record: StoreRecord;
  keyring: Keyring;
  /** `iss` of this store's tokens. */
  issuer: string;
  /** The configured limits with this store's own overrides (`limits set`) on top. */
  limits: LimitValues;
  /** `aud` of this store's access tokens. */
  audience: string;
  /** New sessions must be DPoP-bound (`store require-dpop`): see docs/dpop.md. */
  requireDpop: boolean;
}

/** What minting this store's tokens needs. */
export function tokenPolicyOf(tenant: Tenant, accessTokenTtl: number): TokenPolicy {
  return { issuer: tenant.issuer, audience: tenant.audience, accessTokenTtl };
}

interface Entry {
  tenant: Tenant | null;
  loadedAt: number;
}

/** How long a loaded store (its keys and limits) is trusted before it is read again, by default. */
const TTL_MS = 60_000;
/** Unknown store ids are remembered briefly, so a flood of them does not become database load. */
const MISSING_TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;
/**
 * A token whose kid the cached keyring lacks may come from a key another instance just added:
 * re-read the store, but at most this often per store, so made-up kids cannot become database load.
 */
const UNKNOWN_KID_RELOAD_MS = 5_000;

/**
 * Stores, their keyrings and limits, cached in memory. Another instance's key rotation, and a
 * store's limits changed through the CLI, are seen within `keys.reloadMs` (KEY_RELOAD_INTERVAL,
 * TTL_MS by default), or sooner through `reload`. Keys are opened with `keys.wrap`.
 */
export class TenantDirectory {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<Tenant | null>>();
  private readonly kidReloads = new Map<string, number>();

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly issuerBase: string,
    private readonly limits: LimitValues,
    private readonly keys: { wrap?: KeyWrap; reloadMs?: number } = {},
  ) {}

  async get(storeId: string): Promise<Tenant | null> {
    const entry = this.entries.get(storeId);
    const now = this.clock.now();
    const ttl = entry?.tenant ? (this.keys.reloadMs ?? TTL_MS) : MISSING_TTL_MS;
    if (entry && now - entry.loadedAt < ttl) return entry.tenant;
    return this.reload(storeId);
  }

  /** Like `get`, but an unknown store is the STORE_NOT_FOUND error. */
  async require(storeId: string): Promise<Tenant> {
    const tenant = await this.get(storeId);
    if (!tenant) throw new AppError('STORE_NOT_FOUND');
    return tenant;
  }

  /**
   * Like `require`, for a request that carries a token signed with key `kid`: when the keyring does
   * not know that kid, the store is read again first (rate limited per store), so every instance
   * verifies what any instance signed without waiting for TTL_MS.
   */
  async requireForKey(storeId: string, kid: unknown, use: 'access' | 'refresh'): Promise<Tenant> {
    const tenant = await this.require(storeId);
    if (typeof kid !== 'string' || tenant.keyring.verifier(kid, use)) return tenant;
    const now = this.clock.now();
    const last = this.kidReloads.get(storeId);
    if (last !== undefined && now - last >= 0 && now - last < UNKNOWN_KID_RELOAD_MS) return tenant;
    if (this.kidReloads.size >= MAX_ENTRIES) this.kidReloads.clear();
    this.kidReloads.set(storeId, now);
    const fresh = await this.reload(storeId);
    if (!fresh) throw new AppError('STORE_NOT_FOUND');
    return fresh;
  }

  /** Reads the store again now (one read shared by concurrent callers). */
  reload(storeId: string): Promise<Tenant | null> {
    let pending = this.loading.get(storeId);
    if (!pending) {
      pending = this.load(storeId).finally(() => this.loading.delete(storeId));
      this.loading.set(storeId, pending);
    }
    return pending;
  }

  private async load(storeId: string): Promise<Tenant | null> {
    const now = this.clock.now();
    const record = await this.db.getStore(storeId);
    const settings = record ? await this.db.getStoreSettings(storeId) : null;
    const tenant = record
      ? {
          record,
          keyring: new Keyring(await this.db.listSigningKeys(storeId), now, this.keys.wrap ?? PLAIN_KEYS),
          issuer: `${this.issuerBase}/${storeId}`,
          limits: withOverrides(this.limits, await this.db.getStoreLimits(storeId)),
          audience: settings?.audience ?? DEFAULT_AUDIENCE,
          requireDpop: settings?.requireDpop ?? false,
        }
      : null;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(storeId, { tenant, loadedAt: now });
    return tenant;
  }
}
