import { afterAll, beforeAll, expect, it } from 'vitest';
import { PostgresSessionStore } from '../../src/storage/postgres/store.js';
import { anonymous, makeTestApp, refresh, type TestApp } from '../helpers/app.js';
import { adminQuery, describeWithPostgres } from '../helpers/postgres.js';
import { PrivatePostgres, postgresBinDir } from '../helpers/private-postgres.js';

const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
    t = await makeTestApp(
      {},
      { store: new PostgresSessionStore({ url: server.url, poolSize: 6, connectTimeout: 500 }) },
    );
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await server?.destroy();
  });

  it('answers 503 with Retry-After while it is down, never a wrong answer, and keeps every pair it answered', async () => {
    const CLIENTS = 12;
    const tokens: string[] = [];
    for (let i = 0; i < CLIENTS; i++) tokens.push((await anonymous(t.app)).body.content.refresh_token);
    const issued = new Map<string, string>();
    const unexpected: string[] = [];
    let unavailable = 0;
    let servedAfter = 0;
    let phase = 'before';
    const deadline = Date.now() + 4000;

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
          if (phase === 'back') servedAfter++;
        } else if (
          res.status === 503 &&
          res.body.code === 'SERVICE_UNAVAILABLE' &&
          res.headers['retry-after'] === '1'
        ) {
          unavailable++;
          await sleep(20);
        } else {
          unexpected.push(`${phase}: ${res.status} ${res.body.code}`);
        }
      }
      return token;
    };

    const chaos = (async () => {
      await sleep(500);
      phase = 'restart';
      await server.restart();
      await sleep(700);
      phase = 'crash';
      await server.crash(); // committed refreshes must survive crash recovery
      await sleep(500);
      await server.start();
      phase = 'back';
    })();
    const finals = await Promise.all(tokens.map((token) => client(token)));
    await chaos;

    expect(unexpected).toEqual([]);
    expect(unavailable).toBeGreaterThan(0);
    expect(servedAfter).toBeGreaterThan(0);
    for (const token of finals) {
      expect((await refresh(t.app, token)).status).toBe(200);
      const [row] = await adminQuery<{ generation: number; revoked_at: number | null }>(
        server.url,
        'SELECT generation, revoked_at FROM sessions WHERE id = $1',
        [claims(token).sid],
      );
      expect(row).toEqual({ generation: claims(token).gen + 1, revoked_at: null });
    }
  });
});
