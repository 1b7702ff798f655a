import { isNewerInSession, type StoredPair, toStoredPair } from '../storage/contract.js';
import type { Handover } from './contract.js';

export interface LockManagerLike {
  request<T>(name: string, options: { signal?: AbortSignal }, callback: () => Promise<T>): Promise<T>;
  query?(): Promise<{ held?: Array<{ name?: string }> }>;
}

/** A short, stable name for a stored state: it tells pairs apart without revealing a token. */
export function fingerprint(pair: StoredPair | null): string {
  if (!pair) return 'none';
  // Two FNV-1a passes with different seeds: 64 bits, enough to tell a session's pairs apart.
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < pair.refresh_token.length; i++) {
    const c = pair.refresh_token.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193 + 2);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

/**
 * The handover for Web Locks, across the tabs of one origin.
 *
 * localStorage gives no order across renderer processes: a tab that takes the lock right after a
 * sibling wrote may still read the old pair, and would spend a refresh token already rotated. So
 * every holder, before it releases the lock, (1) posts what it stored on a BroadcastChannel, and
 * (2) holds a second lock named after it, `<name>:pair:<seq>:<fingerprint>`, taken before the main
 * lock is let go. The lock manager is one authority, so the next holder's `query()` sees that name
 * for certain: when it does not match what storage answered, the pair is on its way, and the next
 * holder waits for it instead of guessing.
 */
export function webLocksHandover(locks: LockManagerLike, name: string, waitMs = 3000): Handover {
  const prefix = `${name}:pair:`;
  const received = new Map<string, StoredPair | null>();
  const listeners = new Set<(fp: string) => void>();
  let latest: StoredPair | null = null;
  let releaseHeld: (() => void) | null = null;
  let heldFp: string | null = null;

  const remember = (fp: string, pair: StoredPair | null) => {
    received.set(fp, pair);
    if (received.size > 8) received.delete(received.keys().next().value as string);
    if (pair && (!latest || isNewerInSession(pair, latest) || latest.refresh_token === pair.refresh_token))
      latest = pair;
  };

  const channel =
    typeof BroadcastChannel === 'function' ? new BroadcastChannel(`${name}:handover`) : undefined;
  if (channel) {
    channel.onmessage = (event: MessageEvent) => {
      const data = event.data as { fp?: unknown; pair?: unknown } | null;
      if (typeof data?.fp !== 'string') return;
      remember(data.fp, data.pair === null ? null : toStoredPair(data.pair));
      // Someone stored something newer than what this instance announced: its name is stale.
      if (heldFp !== null && heldFp !== data.fp) release();
      for (const listener of listeners) listener(data.fp);
    };
  }

  const release = () => {
    releaseHeld?.();
    releaseHeld = null;
    heldFp = null;
  };

  /** The most recent holder's announcement, as the lock manager knows it. */
  const lastAnnounced = async (): Promise<{ seq: number; fp: string } | null> => {
    if (!locks.query) return null;
    let best: { seq: number; fp: string } | null = null;
    for (const lock of (await locks.query()).held ?? []) {
      if (!lock.name?.startsWith(prefix)) continue;
      const [seq, fp] = lock.name.slice(prefix.length).split(':');
      const n = Number(seq);
      if (fp && Number.isInteger(n) && (!best || n > best.seq)) best = { seq: n, fp };
    }
    return best;
  };

  return {
    async publish(pair) {
      const fp = fingerprint(pair);
      remember(fp, pair);
      channel?.postMessage({ fp, pair });
      if (!locks.query) return;
      const seq = ((await lastAnnounced())?.seq ?? 0) + 1;
      const previous = releaseHeld;
      releaseHeld = null;
      // Granted at once (the name is new); held until something newer is stored or the tab goes.
      await new Promise<void>((granted) => {
        locks
          .request(`${prefix}${seq}:${fp}`, {}, () => {
            granted();
            return new Promise<void>((done) => {
              releaseHeld = done;
            });
          })
          // A page being torn down may refuse the request: the broadcast alone must do then.
          .catch(() => granted());
      });
      heldFp = fp;
      previous?.();
    },

    async reconcile(read, reread) {
      const last = await lastAnnounced();
      if (!last || last.fp === fingerprint(read)) return read;
      const known = received.get(last.fp);
      if (known !== undefined) return known && read && isNewerInSession(read, known) ? read : known;
      // Bounded: the announcement is on its way; at worst this waits waitMs and trusts storage.
      const arrived = await new Promise<boolean>((resolve) => {
        const listener = (fp: string) => {
          if (fp !== last.fp) return;
          listeners.delete(listener);
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          listeners.delete(listener);
          resolve(false);
        }, waitMs);
        listeners.add(listener);
      });
      if (arrived) return received.get(last.fp) ?? null;
      return reread();
    },

    newer(read) {
      return latest && read && isNewerInSession(latest, read) ? latest : null;
    },

    close() {
      release();
      channel?.close();
    },
  };
}
