import { afterAll, beforeAll, expect, it } from 'vitest';
import { PostgresSessionStore } from '../../src/storage/postgres/store.js';
import { randomId } from '../../src/util/ids.js';
import { anonymous, makeTestApp, refresh, type TestApp } from '../helpers/app.js';
import { adminQuery, describeWithPostgres, freshSchema } from '../helpers/postgres.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
    const store = new PostgresSessionStore({
      url: viaProxy.toString(),
      poolSize: 6,
      connectTimeout: 500,
      applicationName: appName,
    });
    t = await makeTestApp({}, { store });
  });
  afterAll(async () => {
    await t?.close();
    await proxy?.down();
    await db?.drop();
  });

  it('answers 503 SERVICE_UNAVAILABLE with Retry-After while down, never a wrong answer, and recovers by itself', async () => {
    const CLIENTS = 12;
    const tokens: string[] = [];
    for (let i = 0; i < CLIENTS; i++) tokens.push((await anonymous(t.app)).body.content.refresh_token);

    const issued = new Map<string, string>();
    const unexpected: string[] = [];
    let unavailable = 0;
    let servedAfterOutage = 0;
    let phase: 'before' | 'cut' | 'down' | 'back' = 'before';
    const deadline = Date.now() + 3000;

    const client = async (start: string) => {
      let token = start;
      while (Date.now() < deadline) {
        const res = await refresh(t.app, token);
        if (res.status === 200) {
          const next = res.body.content.refresh_token as string;
          const { sid, gen } = claims(next);
          const seen = issued.get(`${sid}/${gen}`);
          if (seen && seen !== next) unexpected.push(`fork at ${sid}/${gen}`);
          issued.set(`${sid}/${gen}`, next);
          token = next;
          if (phase === 'back') servedAfterOutage++;
        } else if (
          res.status === 503 &&
          res.body.code === 'SERVICE_UNAVAILABLE' &&
          res.headers['retry-after'] === '1'
        ) {
          unavailable++;
          await sleep(20); // what Retry-After asks, shortened: retry the same token
        } else {
          unexpected.push(`${phase}: ${res.status} ${res.body.code}`);
        }
      }
      return token;
    };

    const chaos = (async () => {
      await sleep(400);
      phase = 'cut';
      // Every connection of the pool, killed from the server side as an administrator would.
      const killed = await adminQuery<{ ok: boolean }>(
        url,
        'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1',
        [appName],
      );
      expect(killed.length).toBeGreaterThan(0);
      await sleep(400);
      phase = 'down';
      await proxy.down();
      await sleep(800);
      await proxy.up();
      phase = 'back';
    })();
    const finals = await Promise.all(tokens.map((token) => client(token)));
    await chaos;

    expect(unexpected).toEqual([]);
    expect(unavailable).toBeGreaterThan(0);
    expect(servedAfterOutage).toBeGreaterThan(0);
    for (const token of finals) {
      const next = await refresh(t.app, token);
      expect(next.status).toBe(200);
      const [row] = await adminQuery<{ generation: number; revoked_at: number | null }>(
        db.url,
        'SELECT generation, revoked_at FROM sessions WHERE id = $1',
        [claims(token).sid],
      );
      expect(row).toEqual({ generation: claims(token).gen + 1, revoked_at: null });
    }
  });
});
