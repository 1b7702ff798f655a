import { afterAll, beforeAll, expect, it } from 'vitest';
import { PostgresDatabase } from '../../src/storage/postgres/store.js';
import { makeTestApp, type TestApp, UNLIMITED } from '../helpers/app.js';
import { describeWithPostgres } from '../helpers/postgres.js';
import { PrivatePostgres, postgresBinDir } from '../helpers/private-postgres.js';
import { expectEachRefreshesOnce, refreshUnderChaos, sleep } from '../helpers/refresh-load.js';

/*
 * Runs wherever the PostgreSQL suites run (TEST_POSTGRES_URL set), on a server of its own built
 * from this machine's PostgreSQL binaries, because it restarts and crashes that server.
 */
describeWithPostgres('PostgreSQL restarted, then crashed, under load', () => {
  let server: PrivatePostgres;
  let t: TestApp;

  beforeAll(async () => {
    const bin = postgresBinDir();
    if (!bin)
      throw new Error('PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql');
    server = await PrivatePostgres.create(bin);
    // The short connect timeout makes the outage quick to see; a freshly started server on a busy
    // machine can miss it too, so setup retries while the database answers "unavailable".
    const db = new PostgresDatabase({ url: server.url, poolSize: 6, connectTimeout: 500 });
    for (let attempt = 1; ; attempt++) {
      try {
        t = await makeTestApp(UNLIMITED, { db });
        break;
      } catch (error) {
        if (attempt >= 30 || (error as { code?: string }).code !== 'SERVICE_UNAVAILABLE') throw error;
        await sleep(500);
      }
    }
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await server?.destroy();
  });

  it('answers 503 with Retry-After while it is down, never a wrong answer, and keeps every pair it answered', async () => {
    const { unexpected, unavailable, servedAfter, finals } = await refreshUnderChaos(
      t.app,
      4000,
      async (phase) => {
        await sleep(500);
        phase('restart');
        await server.restart();
        await sleep(700);
        phase('crash');
        await server.crash(); // committed refreshes must survive crash recovery
        await sleep(500);
        await server.start();
        phase('back');
      },
    );

    expect(unexpected).toEqual([]);
    expect(unavailable).toBeGreaterThan(0);
    expect(servedAfter).toBeGreaterThan(0);
    await expectEachRefreshesOnce(t.app, server.url, finals);
  }, 180_000); // a bound for a hung outage, not a speed expectation
});
