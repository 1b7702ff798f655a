/**
 * Mutual exclusion for refresh and bootstrap, across everything that shares one token storage.
 *
 * `run` must call `fn` exactly once. If the lock cannot be had within the implementation's
 * acquire timeout (a sibling hung, a crashed tab left a lease), it runs `fn` anyway rather than
 * blocking the shopper: the refresh code re-reads storage first, and the server's grace window
 * answers a duplicate refresh with the same successor pair, so a rare unlocked run forks nothing.
 */
export interface Lock {
  run<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

export interface LockTimeouts {
  /** How long to wait for a holder before running unlocked, ms. @default 15000 */
  acquireTimeoutMs?: number;
}

/** For tests and for callers that coordinate elsewhere: no exclusion at all. */
export const noLock: Lock = { run: (_name, fn) => fn() };
