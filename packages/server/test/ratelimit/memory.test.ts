import { expect, it } from 'vitest';
import { MemoryRateLimiter } from '../../src/ratelimit/memory.js';
import { ManualClock } from '../helpers/app.js';
import { describeRateLimiter } from './conformance.js';

describeRateLimiter('memory', async () => {
  const clock = new ManualClock();
  return {
    limiter: new MemoryRateLimiter(clock),
    elapse: async (ms) => {
      clock.ms += ms;
    },
  };
});

it('a flood of 200k distinct keys stays within maxKeys, and a key hit since still counts', async () => {
  const clock = new ManualClock();
  const limiter = new MemoryRateLimiter(clock, { maxKeys: 20_000 });
  for (let i = 0; i < 200_000; i++) {
    await limiter.hit(`flood:${i}`, 1, 60_000);
    if (i % 1000 === 0) clock.ms += 1;
  }
  expect(limiter.size).toBe(20_000);
  // A client that started after the flood's first windows is among the newest: it keeps its count.
  expect((await limiter.hit('legit', 2, 60_000)).allowed).toBe(true);
  for (let i = 0; i < 10_000; i++) await limiter.hit(`flood:late:${i}`, 1, 60_000);
  expect((await limiter.hit('legit', 2, 60_000)).allowed).toBe(true);
  expect((await limiter.hit('legit', 2, 60_000)).allowed).toBe(false);
  expect(limiter.size).toBe(20_000);
});

it('expired windows are dropped as new hits arrive, a few per hit: memory follows the live keys', async () => {
  const clock = new ManualClock();
  const limiter = new MemoryRateLimiter(clock);
  for (let i = 0; i < 5_000; i++) await limiter.hit(`old:${i}`, 1, 1_000);
  expect(limiter.size).toBe(5_000);
  clock.ms += 2_000;
  for (let i = 0; i < 1_000; i++) await limiter.hit(`new:${i}`, 1, 1_000);
  // 16 expired windows go per hit: 1000 hits drop all 5000 old ones.
  expect(limiter.size).toBe(1_000);
});

it('regression: a flood of expired windows is not swept all at once by one hit (no O(n) request)', async () => {
  const clock = new ManualClock();
  const limiter = new MemoryRateLimiter(clock);
  for (let i = 0; i < 50_001; i++) await limiter.hit(`k:${i}`, 1, 1_000);
  clock.ms += 2_000;
  await limiter.hit('one', 1, 1_000);
  expect(limiter.size).toBe(50_001 - 16 + 1);
});
