import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MemoryRateLimiter } from '../../src/ratelimit/memory.js';
import { RedisRateLimiter } from '../../src/ratelimit/redis.js';
import { randomId } from '../../src/util/ids.js';
import { anonymous, makeTestApp, type TestApp } from '../helpers/app.js';
import { describeWithRedis } from '../helpers/redis.js';
import { describeRateLimiter } from './conformance.js';

describeWithRedis('rate limits shared through Redis', (url) => {
  const prefix = `sfa:test:${randomId(6)}:`;
  const clock = { now: () => Date.now() };
  let admin: Redis;
  const limiters: RedisRateLimiter[] = [];
  const limiter = (overrides: { url?: string; onStateChange?: (s: 'down' | 'up') => void } = {}) => {
    const l = new RedisRateLimiter({
      url,
      keyPrefix: prefix,
      fallback: new MemoryRateLimiter(clock),
      ...overrides,
    });
    limiters.push(l);
    return l;
  };

  beforeAll(() => {
    admin = new Redis(url);
  });
  afterAll(async () => {
    for (const l of limiters) await l.close();
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length) await admin.del(...keys);
    admin.disconnect();
  });

  it('counts one window across two instances', async () => {
    const [a, b] = [limiter(), limiter()];
    const decisions = [];
    for (let i = 0; i < 5; i++) decisions.push(await (i % 2 ? b : a).hit('k1', 3, 60_000));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false, false]);
    for (const d of decisions) expect(d.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    for (const d of decisions) expect(d.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect((await a.hit('k2', 3, 60_000)).allowed).toBe(true);
    const ttl = await admin.pttl(`${prefix}k1`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('opens a new window once the old one expires', async () => {
    const a = limiter();
    expect((await a.hit('k3', 1, 200)).allowed).toBe(true);
    expect((await a.hit('k3', 1, 200)).allowed).toBe(false);
    // Wait for Redis itself to drop the counter (no fixed sleep: poll, bounded).
    for (let i = 0; i < 100 && (await admin.exists(`${prefix}k3`)); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect((await a.hit('k3', 1, 200)).allowed).toBe(true);
  });

  it('falls back to counting in-process while Redis cannot be reached', async () => {
    const states: string[] = [];
    const a = limiter({ url: 'redis://127.0.0.1:1', onStateChange: (s) => states.push(s) });
    const decisions = [];
    for (let i = 0; i < 3; i++) decisions.push((await a.hit('k4', 2, 60_000)).allowed);
    expect(decisions).toEqual([true, true, false]);
    expect(states).toEqual(['down']);
  });

  describeRateLimiter('Redis', async () => ({
    limiter: limiter(),
    elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  }));

  describeWithRedisApps(url);
});

function describeWithRedisApps(url: string) {
  let one: TestApp;
  let two: TestApp;
  const key = 'sfa:rl:anonymous:ip:demo:127.0.0.1';
  beforeAll(async () => {
    const admin = new Redis(url);
    await admin.del(key);
    admin.disconnect();
    const env = { REDIS_URL: url, ANONYMOUS_RATE_LIMIT: '3' };
    one = await makeTestApp(env);
    two = await makeTestApp(env);
  });
  afterAll(async () => {
    await one?.close();
    await two?.close();
    const admin = new Redis(url);
    await admin.del(key);
    admin.disconnect();
  });

  it('two apps with REDIS_URL share the anonymous-session limit of one client address', async () => {
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await anonymous((i % 2 ? two : one).app)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const refused = await anonymous(one.app);
    expect(refused.body.code).toBe('RATE_LIMITED');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });
}
