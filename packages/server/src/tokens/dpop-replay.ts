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
 * Redis cannot be reached the database answers, so proofs are still checked across instances.
 * A proof accepted through the database during an outage is not in Redis: until the last of those
 * windows has closed, a proof Redis accepts is checked against the database too, so such a proof
 * is not accepted a second time once Redis is back. (A proof Redis accepted just before an outage
 * can still be replayed once during it, on the database, within DPOP_PROOF_MAX_AGE; so can one
 * accepted on the database by an instance cut off from a Redis that others still reach.)
 */
export function redisReplayStore(
  redis: Pick<Redis, 'set'>,
  fallback: ProofReplayStore,
  now: () => number,
): ProofReplayStore {
  let fallbackUntil = 0;
  return {
    async accept(jkt, jti, expiresAt) {
      const ttl = Math.max(1, expiresAt - now());
      let accepted: boolean;
      try {
        accepted = (await redis.set(`dpop:${jkt}:${jti}`, '1', 'PX', ttl, 'NX')) === 'OK';
      } catch {
        fallbackUntil = Math.max(fallbackUntil, expiresAt);
        return fallback.accept(jkt, jti, expiresAt);
      }
      if (accepted && now() < fallbackUntil) return fallback.accept(jkt, jti, expiresAt);
      return accepted;
    },
  };
}
