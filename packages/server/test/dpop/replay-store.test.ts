import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SqliteDatabase } from '../../src/storage/sqlite/store.js';
import { databaseReplayStore, redisReplayStore } from '../../src/tokens/dpop-replay.js';
import { randomId } from '../../src/util/ids.js';
import { describeWithRedis } from '../helpers/redis.js';

describeWithRedis('DPoP proof replay store on Redis, with the database behind it', (url) => {
  let dir: string;
  let db: SqliteDatabase;
  let redis: Redis;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sfa-replay-'));
    db = new SqliteDatabase({ path: join(dir, 'auth.db') });
    await db.migrate();
    redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
  });
  afterAll(async () => {
    redis.disconnect();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses, once Redis is back, a proof first accepted on the database while Redis was away', async () => {
    let down = false;
    // Redis itself, but failing every call while `down`, as an unreachable server does.
    const flaky = {
      set: (...args: Parameters<Redis['set']>) =>
        down ? Promise.reject(new Error('connect ECONNREFUSED')) : redis.set(...args),
    } as Pick<Redis, 'set'>;
    let now = Date.now();
    const store = redisReplayStore(flaky, databaseReplayStore(db), () => now);
    const jkt = randomId(16);
    const window = now + 300_000;

    expect(await store.accept(jkt, 'before', window)).toBe(true);
    expect(await store.accept(jkt, 'before', window)).toBe(false);

    down = true;
    expect(await store.accept(jkt, 'during', window)).toBe(true);
    expect(await store.accept(jkt, 'during', window)).toBe(false);

    down = false;
    // Not in Redis, but still inside the window of what the database accepted alone.
    expect(await store.accept(jkt, 'during', window)).toBe(false);
    expect(await store.accept(jkt, 'after', window)).toBe(true);
    expect(await store.accept(jkt, 'after', window)).toBe(false);

    // Once those windows have closed, Redis alone answers again.
    now = window + 1;
    expect(await store.accept(jkt, 'later', now + 300_000)).toBe(true);
    expect(await store.accept(jkt, 'later', now + 300_000)).toBe(false);
  });
});
