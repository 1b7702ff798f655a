import type { Lock, LockTimeouts } from './contract.js';

// Module-level on purpose: two SDK instances in one process (a server handling two requests, a
// test) share this map, and so share the lock for the same storage.
const tails = new Map<string, Promise<void>>();

/** A FIFO lock inside one JavaScript realm (Node.js, a worker, a browser without Web Locks). */
export function inProcessLock(options: LockTimeouts = {}): Lock {
  const acquireTimeoutMs = options.acquireTimeoutMs ?? 15_000;
  return {
    async run(name, fn) {
      const previous = tails.get(name) ?? Promise.resolve();
      let release!: () => void;
      const mine = new Promise<void>((resolve) => {
        release = resolve;
      });
      const tail = previous.then(() => mine);
      tails.set(name, tail);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        previous,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, acquireTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
      try {
        return await fn();
      } finally {
        release();
        if (tails.get(name) === tail) tails.delete(name);
      }
    },
  };
}
