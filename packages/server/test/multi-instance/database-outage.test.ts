import { afterAll, beforeAll, expect, it } from 'vitest';
import { PostgresDatabase } from '../../src/storage/postgres/store.js';
import { randomId } from '../../src/util/ids.js';
import { makeTestApp, type TestApp, UNLIMITED } from '../helpers/app.js';
import { adminQuery, describeWithPostgres, freshSchema } from '../helpers/postgres.js';
import { expectEachRefreshesOnce, refreshUnderChaos, sleep } from '../helpers/refresh-load.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

describeWithPostgres('PostgreSQL connections cut and the server unreachable, under load', (url) => {
  let db: Awaited<ReturnType<typeof freshSchema>>;
  let proxy: TcpProxy;
  let t: TestApp;
  const appName = `sfa-outage-${randomId(4)}`;

  beforeAll(async () => {
    db = await freshSchema(url, 'sfa_outage');
    const target = new URL(url);
    proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    await proxy.up();
    const viaProxy = new URL(db.url);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    const store = new PostgresDatabase({
      url: viaProxy.toString(),
      poolSize: 6,
      connectTimeout: 500,
      applicationName: appName,
    });
    t = await makeTestApp(UNLIMITED, { db: store });
  });
  afterAll(async () => {
    await t?.close();
    await proxy?.down();
    await db?.drop();
  });

  it('answers 503 SERVICE_UNAVAILABLE with Retry-After while down, never a wrong answer, and recovers by itself', async () => {
    const {
      unexpected,
      unavailable,
      servedAfter: servedAfterOutage,
      finals,
    } = await refreshUnderChaos(t.app, 3000, async (phase) => {
      await sleep(400);
      phase('cut');
      // Every connection of the pool, killed from the server side as an administrator would.
      const killed = await adminQuery<{ ok: boolean }>(
        url,
        'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1',
        [appName],
      );
      expect(killed.length).toBeGreaterThan(0);
      await sleep(400);
      phase('down');
      await proxy.down();
      await sleep(800);
      await proxy.up();
      phase('back');
    });

    expect(unexpected).toEqual([]);
    expect(unavailable).toBeGreaterThan(0);
    expect(servedAfterOutage).toBeGreaterThan(0);
    await expectEachRefreshesOnce(t.app, db.url, finals);
  }, 180_000); // a bound for a hung outage, not a speed expectation
});
