import type { Clock } from '../clock.js';
import type { RateLimitDecision, RateLimiter } from './contract.js';

interface Window {
  readonly key: string;
  count: number;
  readonly resetAt: number;
}

/**
 * The windows of one length, in the order they opened, which is the order they end. A plain
 * array with a moving head: a Map's iteration would walk the holes its deletions leave (V8 keeps
 * them until it rehashes), which makes "look at the oldest" O(n).
 */
class Lane {
  private queue: Window[] = [];
  private head = 0;

  push(w: Window): void {
    this.queue.push(w);
  }

  peek(): Window | undefined {
    return this.queue[this.head];
  }

  shift(): void {
    this.queue[this.head++] = undefined as unknown as Window;
    if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}

export interface MemoryRateLimiterOptions {
  /** Most live windows kept; past it the window closest to its end is dropped. @default 500000 */
  maxKeys?: number;
}

/** Expired windows dropped per hit at most, so no single request pays for a flood's expiry. */
const EXPIRE_PER_HIT = 16;

/**
 * Fixed-window counters in this process's memory, with O(1) work per hit and bounded memory.
 *
 * Windows of one length open in time order, so a Map per window length, in insertion order, is
 * also in expiry order: expired windows are taken from its head, a few per hit, and a key whose
 * window reopens is re-inserted at the tail. Past `maxKeys` the window closest to its end goes
 * first: under a flood of distinct keys that forgets the counts that matter least.
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly lanes = new Map<number, Lane>();
  private readonly maxKeys: number;

  constructor(
    private readonly clock: Clock,
    options: MemoryRateLimiterOptions = {},
  ) {
    this.maxKeys = Math.max(1, options.maxKeys ?? 500_000);
  }

  /** Windows held now, expired ones not yet dropped included. */
  get size(): number {
    return this.windows.size;
  }

  async hit(key: string, limit: number, windowMs: number): Promise<RateLimitDecision> {
    const now = this.clock.now();
    let lane = this.lanes.get(windowMs);
    if (!lane) {
      lane = new Lane();
      this.lanes.set(windowMs, lane);
    }
    this.expire(lane, now);
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      if (!w && this.windows.size >= this.maxKeys) this.evictOne(now);
      w = { key, count: 0, resetAt: now + windowMs };
      this.windows.set(key, w);
      lane.push(w);
    }
    w.count++;
    return { allowed: w.count <= limit, retryAfterSeconds: Math.max(1, Math.ceil((w.resetAt - now) / 1000)) };
  }

  /** Drops up to EXPIRE_PER_HIT ended windows from the lane's head (a reopened key's old window is only skipped). */
  private expire(lane: Lane, now: number): void {
    for (let budget = EXPIRE_PER_HIT; budget > 0; budget--) {
      const w = lane.peek();
      if (!w || w.resetAt > now) return;
      lane.shift();
      if (this.windows.get(w.key) === w) this.windows.delete(w.key);
    }
  }

  /** Drops the live window that ends first, across the lanes (one per window length: few). */
  private evictOne(now: number): void {
    let victim: Lane | undefined;
    let soonest = Number.POSITIVE_INFINITY;
    for (const lane of this.lanes.values()) {
      this.expire(lane, now);
      let head = lane.peek();
      // Old windows of reopened keys are skipped; each is skipped once, so this is O(1) amortized.
      while (head && this.windows.get(head.key) !== head) {
        lane.shift();
        head = lane.peek();
      }
      if (head && head.resetAt < soonest) {
        soonest = head.resetAt;
        victim = lane;
      }
    }
    if (this.windows.size < this.maxKeys || !victim) return;
    const w = victim.peek()!;
    victim.shift();
    this.windows.delete(w.key);
  }
}
