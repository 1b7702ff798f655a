import type { Lock, LockTimeouts } from './contract.js';
import { type LockManagerLike, webLocksHandover } from './handover.js';

export function webLocksAvailable(): boolean {
  const nav = (globalThis as { navigator?: { locks?: unknown } }).navigator;
  return typeof (nav?.locks as LockManagerLike | undefined)?.request === 'function';
}

/**
 * The Web Locks API: exclusive across every tab and worker of the origin, and released by the
 * browser when the holding tab closes or crashes, so no tab can hold it forever.
 */
export function webLocks(options: LockTimeouts & { locks?: LockManagerLike } = {}): Lock {
  const acquireTimeoutMs = options.acquireTimeoutMs ?? 15_000;
  const manager = () =>
    options.locks ?? (globalThis as unknown as { navigator: { locks: LockManagerLike } }).navigator.locks;
  return {
    async run(name, fn) {
      const locks = manager();
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), acquireTimeoutMs);
      let started = false;
      try {
        return await locks.request(name, { signal: controller.signal }, () => {
          started = true;
          clearTimeout(timer);
          return fn();
        });
      } catch (error) {
        // Only a wait that timed out runs unlocked; an error thrown by fn itself propagates.
        if (started) throw error;
        return fn();
      } finally {
        clearTimeout(timer);
      }
    },
    handover(name) {
      return webLocksHandover(manager(), name);
    },
  };
}
