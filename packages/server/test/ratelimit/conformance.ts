import { describe, expect, it } from 'vitest';
import type { RateLimiter } from '../../src/ratelimit/contract.js';
import { randomId } from '../../src/util/ids.js';

export interface LimiterUnderTest {
  limiter: RateLimiter;
  /** Lets `ms` pass for the limiter: a manual clock moves, or real time is waited out. */
  elapse(ms: number): Promise<void>;
}

/**
 * The semantics every RateLimiter backend shares: fixed windows opened by a key's first hit,
 * refused hits still counted, Retry-After within the window, keys independent, atomic under
 * concurrency. Called from the memory and the Redis test files.
 */
export function describeRateLimiter(name: string, make: () => Promise<LimiterUnderTest>): void {
  describe(`RateLimiter conformance: ${name}`, () => {
    const key = () => `conf:${randomId(8)}`;

    it('allows `limit` hits in a window, refuses the next, and keeps counting refused hits', async () => {
      const { limiter } = await make();
      const k = key();
      const allowed: boolean[] = [];
      for (let i = 0; i < 6; i++) allowed.push((await limiter.hit(k, 3, 60_000)).allowed);
      expect(allowed).toEqual([true, true, true, false, false, false]);
    });

    it('answers a Retry-After between 1 s and the window', async () => {
      const { limiter } = await make();
      const k = key();
      for (let i = 0; i < 3; i++) {
        const d = await limiter.hit(k, 1, 10_000);
        expect(d.retryAfterSeconds).toBeGreaterThanOrEqual(1);
        expect(d.retryAfterSeconds).toBeLessThanOrEqual(10);
      }
    });

    it('counts each key on its own', async () => {
      const { limiter } = await make();
      const [a, b] = [key(), key()];
      expect((await limiter.hit(a, 1, 60_000)).allowed).toBe(true);
      expect((await limiter.hit(a, 1, 60_000)).allowed).toBe(false);
      expect((await limiter.hit(b, 1, 60_000)).allowed).toBe(true);
    });

    it('a limit of 0 refuses the first hit', async () => {
      const { limiter } = await make();
      expect((await limiter.hit(key(), 0, 60_000)).allowed).toBe(false);
    });

    it('is atomic: 40 concurrent hits on a limit of 10 allow exactly 10', async () => {
      const { limiter } = await make();
      const k = key();
      const decisions = await Promise.all(Array.from({ length: 40 }, () => limiter.hit(k, 10, 60_000)));
      expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
    });

    it('opens a fresh window once the old one has ended, not before', async () => {
      const under = await make();
      const k = key();
      expect((await under.limiter.hit(k, 1, 400)).allowed).toBe(true);
      expect((await under.limiter.hit(k, 1, 400)).allowed).toBe(false);
      await under.elapse(500);
      expect((await under.limiter.hit(k, 1, 400)).allowed).toBe(true);
      expect((await under.limiter.hit(k, 1, 400)).allowed).toBe(false);
    });

    it('windows of different lengths on different keys expire on their own', async () => {
      const under = await make();
      const [short, long] = [key(), key()];
      await under.limiter.hit(short, 1, 300);
      await under.limiter.hit(long, 1, 60_000);
      await under.elapse(400);
      expect((await under.limiter.hit(short, 1, 300)).allowed).toBe(true);
      expect((await under.limiter.hit(long, 1, 60_000)).allowed).toBe(false);
    });
  });
}
