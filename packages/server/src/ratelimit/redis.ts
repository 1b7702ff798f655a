import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type { RateLimitDecision, RateLimiter } from './contract.js';

/**
 * One fixed window per key, counted in Redis so that every instance shares it: the first hit
 * creates the counter with the window as its expiry, later hits only count. Answers the count and
 * the time left, in one round trip.
 */
const HIT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}`;

export interface RedisRateLimiterOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://`. */
  url: string;
  /** Used while Redis cannot be reached, so limits still hold per instance. */
  fallback: RateLimiter;
  /** Prefix of every key this limiter writes. @default sfa:rl: */
  keyPrefix?: string;
  /** How long one hit may wait for Redis before the fallback answers, ms. @default 250 */
  commandTimeout?: number;
  /** Told once per outage, and once when Redis is back; never given a key (it holds an address). */
  onStateChange?: (state: 'down' | 'up', error?: unknown) => void;
}

/**
 * Rate limits shared by every instance through Redis (REDIS_URL). When Redis is down or slow the
 * in-process fallback decides: a Redis outage must not turn into refused sign-ins, and the
 * fallback still bounds each instance.
 */
export class RedisRateLimiter implements RateLimiter {
  readonly redis: Redis;
  private readonly fallback: RateLimiter;
  private readonly onStateChange: RedisRateLimiterOptions['onStateChange'];
  private down = false;

  constructor(options: RedisRateLimiterOptions) {
    this.fallback = options.fallback;
    this.onStateChange = options.onStateChange;
    // Loaded here, not imported at the top: a process without REDIS_URL never maps ioredis (about
    // 20 MB of resident memory once imported).
    const { Redis: Client } = createRequire(import.meta.url)('ioredis') as typeof import('ioredis');
    this.redis = new Client(options.url, {
      keyPrefix: options.keyPrefix ?? 'sfa:rl:',
      commandTimeout: options.commandTimeout ?? 250,
      // A hit waits for a connection being made (start-up), but a failed connection attempt
      // rejects what waits at once, and commandTimeout bounds the rest: the fallback answers.
      maxRetriesPerRequest: 0,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    // Connection errors are reported through hit()'s fallback; without a listener they would be printed raw.
    this.redis.on('error', () => {});
  }

  async hit(key: string, limit: number, windowMs: number): Promise<RateLimitDecision> {
    let reply: unknown;
    try {
      reply = await this.redis.eval(HIT, 1, key, String(windowMs));
    } catch (error) {
      this.setDown(true, error);
      return this.fallback.hit(key, limit, windowMs);
    }
    this.setDown(false);
    const [count, ttl] = reply as [number, number];
    return { allowed: count <= limit, retryAfterSeconds: Math.max(1, Math.ceil(ttl / 1000)) };
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  private setDown(down: boolean, error?: unknown): void {
    if (down === this.down) return;
    this.down = down;
    this.onStateChange?.(down ? 'down' : 'up', error);
  }
}
