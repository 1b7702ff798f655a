import type { StoredPair } from '../storage/contract.js';

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
  /**
   * Optional: how the holders of `name` tell the next holder what they stored, for storages whose
   * reads in one holder may lag behind another's writes (localStorage across browser tabs).
   */
  handover?(name: string): Handover;
}

/**
 * What the last holder of a lock stored, passed to the next holder without trusting storage to
 * be current. Used inside the lock only, except `newer`.
 */
export interface Handover {
  /** After a write, before the lock is released: `pair` (null: cleared) is what storage now holds. */
  publish(pair: StoredPair | null): Promise<void>;
  /**
   * Right after the lock is taken, given what storage answered: what the last holder stored.
   * When storage lags, waits (bounded) for the pair to arrive; `reread` is asked again at the end.
   */
  reconcile(read: StoredPair | null, reread: () => Promise<StoredPair | null>): Promise<StoredPair | null>;
  /** A pair a sibling published that is a later one of the same session than `read`, if any. */
  newer(read: StoredPair | null): StoredPair | null;
  close(): void;
}

export interface LockTimeouts {
  /** How long to wait for a holder before running unlocked, ms. @default 15000 */
  acquireTimeoutMs?: number;
}

/** For tests and for callers that coordinate elsewhere: no exclusion at all. */
export const noLock: Lock = { run: (_name, fn) => fn() };
