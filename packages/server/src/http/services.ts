import type { CustomerContext } from '../accounts/context.js';
import type { Config } from '../config.js';
import type { RateLimiter } from '../ratelimit/contract.js';
import type { SessionContext } from '../sessions/context.js';
import type { OperatorStore } from '../storage/operator.js';
import type { TenantDirectory } from '../tenants/directory.js';
import type { ProofReplayStore } from '../tokens/dpop-replay.js';
import type { AddressModel } from './client-address.js';
import type { Metrics } from './metrics.js';

/** What routes are handed: the domain and its collaborators, built once per app. */
export interface Services {
  config: Config;
  sessions: SessionContext;
  /** The session context with what the customer operations add (hasher, OTP sender, limits). */
  customers: CustomerContext;
  directory: TenantDirectory;
  rateLimiter: RateLimiter;
  /** The trust model (TRUST_PROXY, TRUSTED_FRONTENDS) that says who a request counts as. */
  addresses: AddressModel;
  /** True once the database is migrated and the default store's keys are loaded. */
  isReady(): boolean;
  /** True once shutdown has begun (requests are still answered, /readyz is not). */
  isDraining(): boolean;
  metrics: Metrics;
  /** Where DPoP proofs' jti are kept for their window (database, or Redis with REDIS_URL). */
  dpopReplay: ProofReplayStore;
  /** Present when the backend has an operator side (both do); used by /metrics. */
  operator?: OperatorStore;
}
