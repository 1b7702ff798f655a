import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { OperatorStore, PurgeKind } from '../storage/operator.js';

export interface PurgeOptions {
  now: number;
  /** Anonymous users with no session are kept this long after creation, ms. */
  anonymousIdleMs: number;
  /** Rows per statement: small, so refreshes never wait long behind a purge. @default 500 */
  batchSize?: number;
}

export type PurgeCounts = Record<PurgeKind, number>;

const ORDER: PurgeKind[] = [
  'sessions',
  'anonymous_users',
  'otps',
  'security_events',
  'dpop_proofs',
  'outbox',
  'otp_backoff',
];

/**
 * Deletes what nothing alive needs, in small batches with a turn of the event loop between
 * them. Sessions go first, so the anonymous users they held become purgeable in the same run.
 */
export async function purge(operator: OperatorStore, options: PurgeOptions): Promise<PurgeCounts> {
  const batch = options.batchSize ?? 500;
  const counts: PurgeCounts = {
    sessions: 0,
    anonymous_users: 0,
    otps: 0,
    security_events: 0,
    dpop_proofs: 0,
    outbox: 0,
    otp_backoff: 0,
  };
  for (const kind of ORDER) {
    let after: number | undefined;
    for (;;) {
      const { deleted, next } = await operator.purgeBatch(
        kind,
        options.now,
        batch,
        options.anonymousIdleMs,
        after,
      );
      counts[kind] += deleted;
      if (next === undefined) break;
      after = next;
      await yieldToEventLoop();
    }
  }
  return counts;
}
