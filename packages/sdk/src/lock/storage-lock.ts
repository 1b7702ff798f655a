import type { Lock, LockTimeouts } from './contract.js';

export interface StorageLockOptions extends LockTimeouts {
  /** @default globalThis.localStorage */
  storage?: Storage;
  /** A holder's lease; past it the entry is stale (its tab crashed) and may be taken, ms. @default 20000 */
  leaseMs?: number;
  /** Wait between writing a claim and reading it back, ms (cross-tab writes are not instant). @default 60 */
  settleMs?: number;
  /** @default Date.now */
  now?: () => number;
  /** @default setTimeout-based */
  sleep?: (ms: number) => Promise<void>;
}

interface Lease {
  owner: string;
  expiresAt: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function randomOwner(): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * A lease in localStorage, for browsers without Web Locks. Write a claim, wait, read it back: the
 * last writer wins. Best effort (localStorage offers no compare-and-swap); the lease expiry means
 * a crashed tab blocks others for at most `leaseMs`, and the server's grace window covers the
 * rare case where two tabs both believe they hold it.
 */
export function storageLock(options: StorageLockOptions = {}): Lock {
  const leaseMs = options.leaseMs ?? 20_000;
  const settleMs = options.settleMs ?? 60;
  const acquireTimeoutMs = options.acquireTimeoutMs ?? 15_000;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const store = () => options.storage ?? globalThis.localStorage;
  const read = (key: string): Lease | null => {
    try {
      const value = JSON.parse(store().getItem(key) ?? 'null') as Lease | null;
      return value && typeof value.owner === 'string' && typeof value.expiresAt === 'number' ? value : null;
    } catch {
      return null;
    }
  };

  return {
    async run(name, fn) {
      const key = `${name}:lease`;
      const owner = randomOwner();
      const deadline = now() + acquireTimeoutMs;
      let held = false;
      // Bounded: each pass sleeps, and the deadline ends the loop.
      while (now() < deadline) {
        const lease = read(key);
        if (!lease || lease.expiresAt <= now()) {
          store().setItem(key, JSON.stringify({ owner, expiresAt: now() + leaseMs }));
          await sleep(settleMs);
          if (read(key)?.owner === owner) {
            held = true;
            break;
          }
        }
        await sleep(settleMs + Math.floor(Math.random() * settleMs));
      }
      try {
        return await fn();
      } finally {
        if (held && read(key)?.owner === owner) store().removeItem(key);
      }
    },
  };
}
