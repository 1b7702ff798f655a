import type { Redis } from 'ioredis';
import type { Database } from '../storage/contract.js';

/**
 * Where accepted DPoP proofs are remembered until their `iat` window closes, so each (key, jti)
 * is accepted once by every instance together (RFC 9449 §11.1). `accept` answers false for a
 * proof seen before.
 */
export interface ProofReplayStore {
  accept(jkt: string, jti: string, expiresAt: number): Promise<boolean>;
}

/** In the database every instance shares (the `dpop_proofs` table, purged when expired). */
export function databaseReplayStore(db: Database): ProofReplayStore {
  return { accept: (jkt, jti, expiresAt) => db.recordDpopProof(jkt, jti, expiresAt) };
}

/**
 * In Redis (REDIS_URL): `SET NX` with the window as expiry, one round trip and no purge. While
 * Redis cannot be reached the database answers, so proofs are still checked across instances (a
 * proof accepted during the outage is remembered only there; its window is at most
 * DPOP_PROOF_MAX_AGE).
 */
export function redisReplayStore(
  redis: Redis,
  fallback: ProofReplayStore,
  now: () => number,
): ProofReplayStore {
  return {
    async accept(jkt, jti, expiresAt) {
      const ttl = Math.max(1, expiresAt - now());
      try {
        return (await redis.set(`dpop:${jkt}:${jti}`, '1', 'PX', ttl, 'NX')) === 'OK';
      } catch {
        return fallback.accept(jkt, jti, expiresAt);
      }
    },
  };
}
