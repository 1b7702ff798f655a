import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SqliteDatabase } from '../../src/storage/sqlite/store.js';
import { makeTestApp } from '../helpers/app.js';
import { describeWithRedis } from '../helpers/redis.js';
import { describeBoundSessions, type TwoInstances } from './two-instances-suite.js';

/** Two instances on one SQLite file (each with its own connection), as two processes on one host. */
async function sqlitePair(
  env: Record<string, string>,
  replayStore: TwoInstances['replayStore'],
): Promise<TwoInstances> {
  const dir = mkdtempSync(join(tmpdir(), 'sfa-dpop-'));
  const a = await makeTestApp(env, { dir });
  const b = await makeTestApp(env, { dir });
  const count = (sql: string) => ((a.db as SqliteDatabase).sqlite.prepare(sql).get() as { n: number }).n;
  return {
    a,
    b,
    replayStore,
    events: async () => count('SELECT count(*) AS n FROM security_events'),
    storedProofs: async () => count('SELECT count(*) AS n FROM dpop_proofs'),
    async close() {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describeBoundSessions('SQLite', (env) => sqlitePair(env, 'database'));

describeWithRedis('DPoP replay store in Redis', (redisUrl) => {
  describeBoundSessions('SQLite with REDIS_URL', (env) =>
    sqlitePair({ ...env, REDIS_URL: redisUrl }, 'redis'),
  );
});
