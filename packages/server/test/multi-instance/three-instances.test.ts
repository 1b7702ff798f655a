import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES_MIGRATIONS } from '../../src/storage/postgres/migrations.js';
import { UNLIMITED } from '../helpers/app.js';
import { adminQuery, describeWithPostgres, freshSchema } from '../helpers/postgres.js';
import { CLI_ENTRY, killAllServers, type ServerProcess, startServer } from '../helpers/process.js';

const API_KEY = 'multi-instance-key-0123456789';
const PATH = '/api/v1/demo/storefront';

interface Answer {
  status: number;
  code?: string;
  refresh?: string;
  retryAfter?: string | null;
}

async function post(
  server: ServerProcess,
  route: string,
  init: { body?: unknown; apiKey?: boolean } = {},
): Promise<Answer> {
  const res = await fetch(`${server.url}${PATH}${route}`, {
    method: 'POST',
    headers: {
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(init.apiKey ? { 'x-api-key': API_KEY } : {}),
    },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const json = (await res.json()) as { code?: string; content?: { refresh_token?: string } };
  return {
    status: res.status,
    code: json.code,
    refresh: json.content?.refresh_token,
    retryAfter: res.headers.get('retry-after'),
  };
}

const mint = async (s: ServerProcess) => {
  const a = await post(s, '/auth/anonymous', { apiKey: true });
  expect(a.status).toBe(200);
  return a.refresh!;
};
const refreshOn = (s: ServerProcess, token: string) =>
  post(s, '/auth/refresh-token', { body: { refresh_token: token } });
const kidOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid;
const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());

/** How the six racing instances name their connections, so the gate can count them. */
const RACER = 'sfa_migration_race';

/**
 * Holds every migrating instance at the creation of `schema_migrations`: an uncommitted table of
 * that name makes each `CREATE TABLE IF NOT EXISTS` wait on this transaction. Released once
 * all six are waiting, they are known to be racing, however slowly the machine started them; with
 * the migration lock one waits here and the others on the lock, without it all six go at once
 * and all but one fail on the same catalog rows.
 */
async function holdMigrations(url: string) {
  const gate = new pg.Client({ connectionString: url });
  await gate.connect();
  await gate.query('BEGIN');
  await gate.query('CREATE TABLE schema_migrations (gate INTEGER)');
  const pid = (await gate.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  // Another connection: inside the gate's transaction, pg_stat_activity would stay as first read.
  const watcher = new pg.Client({ connectionString: url });
  await watcher.connect();
  const racing = async () =>
    (
      await watcher.query<{ waiting: number; at_gate: number }>(
        `SELECT count(*)::integer AS waiting,
                count(*) FILTER (WHERE $2::integer = ANY (pg_blocking_pids(pid)))::integer AS at_gate
           FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
        [RACER, pid],
      )
    ).rows[0]!;
  return {
    /** Resolves once `count` racers wait and one of them here, or `gaveUp()` says to stop. */
    async untilRacing(count: number, gaveUp: () => boolean) {
      for (;;) {
        const { waiting, at_gate } = await racing();
        if ((waiting >= count && at_gate >= 1) || gaveUp()) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async release() {
      await gate.query('ROLLBACK');
      await Promise.all([gate.end(), watcher.end()]);
    },
  };
}

describeWithPostgres('three server processes on one PostgreSQL database', (url) => {
  let db: Awaited<ReturnType<typeof freshSchema>>;
  let grace: ServerProcess[] = [];
  let noGrace: ServerProcess[] = [];
  const generation = async (sid: string) =>
    (
      await adminQuery<{ generation: number; revoked_reason: string | null }>(
        db.url,
        'SELECT generation, revoked_reason FROM sessions WHERE id = $1',
        [sid],
      )
    )[0];

  /** Why an instance of the six did not start (the output it left), empty when all did. */
  const startFailures: string[] = [];

  beforeAll(async () => {
    db = await freshSchema(url, 'sfa_multi');
    const racer = new URL(db.url);
    racer.searchParams.set('application_name', RACER);
    const env = (g: string) => ({
      DATABASE_URL: racer.toString(),
      API_KEY,
      STORE_ID: 'demo',
      REFRESH_REUSE_GRACE: g,
      DATABASE_POOL_SIZE: '4',
      // 60 concurrent refreshes of one session are the point here, not a client to throttle.
      ...UNLIMITED,
    });
    // All six start at once on an empty schema and are held until all six are migrating: the
    // migrations run once, under the advisory lock; the store and its keys are created by
    // whichever instance gets there first.
    const gate = await holdMigrations(db.url);
    const starts = [
      ...['A', 'B', 'C'].map((n) => startServer(env('30'), n)),
      ...['D', 'E', 'F'].map((n) => startServer(env('0'), n)),
    ];
    let failed = false;
    for (const start of starts) start.catch(() => (failed = true));
    try {
      await gate.untilRacing(starts.length, () => failed);
    } finally {
      await gate.release();
    }
    const servers: ServerProcess[] = [];
    for (const result of await Promise.allSettled(starts)) {
      if (result.status === 'fulfilled') servers.push(result.value);
      else startFailures.push(String(result.reason));
    }
    grace = servers.slice(0, 3);
    noGrace = servers.slice(3);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([...grace, ...noGrace].map((s) => s.stop()));
    await killAllServers();
    await db?.drop();
  });

  it('migrated once despite six simultaneous starts', async () => {
    expect(startFailures).toEqual([]);
    const rows = await adminQuery<{ version: number }>(
      db.url,
      'SELECT version FROM schema_migrations ORDER BY version',
    );
    expect(rows.map((r) => r.version)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
    const stores = await adminQuery(db.url, 'SELECT id FROM stores');
    expect(stores).toHaveLength(1);
  });

  it('a token minted on A refreshes on B, and its successor on C', async () => {
    const [a, b, c] = grace as [ServerProcess, ServerProcess, ServerProcess];
    const first = await refreshOn(b, await mint(a));
    expect(first.status).toBe(200);
    const second = await refreshOn(c, first.refresh!);
    expect(second.status).toBe(200);
    expect(claims(second.refresh!).gen).toBe(2);
  });

  it('grace on: 60 concurrent refreshes of one token over three instances give exactly one successor', async () => {
    const token = await mint(grace[0]!);
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => refreshOn(grace[i % 3]!, token)));
    expect(answers.map((a) => a.status)).toEqual(Array(60).fill(200));
    expect(new Set(answers.map((a) => a.refresh)).size).toBe(1);
    const row = await generation(claims(token).sid);
    expect(row).toEqual({ generation: 1, revoked_reason: null });
  });

  it('grace 0: 60 concurrent refreshes of one token over three instances give exactly one winner', async () => {
    const token = await mint(noGrace[0]!);
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => refreshOn(noGrace[i % 3]!, token)),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    for (const a of answers.filter((x) => x.status !== 200)) {
      expect(a.status).toBe(400);
      expect(['REFRESH_TOKEN_REUSED', 'SESSION_REVOKED']).toContain(a.code);
    }
    expect(await generation(claims(token).sid)).toEqual({ generation: 1, revoked_reason: 'reuse' });
  });

  it('reuse detected on A revokes the family on B and C', async () => {
    const [a, b, c] = grace as [ServerProcess, ServerProcess, ServerProcess];
    const g0 = await mint(b);
    const g1 = (await refreshOn(b, g0)).refresh!;
    const g2 = (await refreshOn(c, g1)).refresh!;
    // g0 is two generations old: no grace applies, whatever its age.
    expect(await refreshOn(a, g0)).toMatchObject({ status: 400, code: 'REFRESH_TOKEN_REUSED' });
    expect(await refreshOn(b, g2)).toMatchObject({ status: 400, code: 'SESSION_REVOKED' });
    expect(await refreshOn(c, g2)).toMatchObject({ status: 400, code: 'SESSION_REVOKED' });
    const events = await adminQuery(
      db.url,
      "SELECT 1 FROM security_events WHERE session_id = $1 AND type = 'refresh_token_reused'",
      [claims(g0).sid],
    );
    expect(events).toHaveLength(1);
  });

  it('keys rotated by the CLI: a token signed with the new key by a new instance refreshes on A, B and C at once', async () => {
    const [a, b, c] = grace as [ServerProcess, ServerProcess, ServerProcess];
    const before = await mint(a); // A, B and C have the old keys cached
    const cli = spawnSync(process.execPath, [CLI_ENTRY, 'keys', 'rotate', 'demo', '--publish-after', '0'], {
      env: { PATH: process.env['PATH'] ?? '', DATABASE_URL: db.url },
      encoding: 'utf8',
    });
    expect(cli.status, cli.stderr).toBe(0);
    const g = await startServer(
      { DATABASE_URL: db.url, API_KEY, STORE_ID: 'demo', REFRESH_REUSE_GRACE: '30' },
      'G',
    );
    grace.push(g); // stopped with the others
    const minted = await mint(g);
    expect(kidOf(minted)).not.toBe(kidOf(before));
    let token = minted;
    for (const server of [a, b, c]) {
      const next = await refreshOn(server, token);
      expect(next.status).toBe(200);
      token = next.refresh!;
    }
    // Tokens signed before the rotation keep working until they expire.
    expect((await refreshOn(b, before)).status).toBe(200);
  });

  describe('an instance killed with SIGKILL under load', () => {
    it('loses no pair answered with 200, forks no session, and the others keep serving', async () => {
      const [a, b, c] = grace as [ServerProcess, ServerProcess, ServerProcess];
      const alive = new Set<ServerProcess>([a, b, c]);
      const CLIENTS = 24;
      const tokens = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => mint(grace[i % 3]!)));
      // Every 200 seen, by session and generation: one session, one token per generation.
      const issued = new Map<string, string>();
      const unexpected: string[] = [];
      let servedAfterKill = 0;
      let killed = false;
      const deadline = Date.now() + 2500;

      // However slow the machine: each client goes on past the kill until one of its refreshes
      // was served after it (or it gave up after many answers, and the assertions below fail).
      const client = async (i: number) => {
        let token = tokens[i]!;
        let turn = i;
        let servedAfter = false;
        let triesAfter = 0;
        while (!(killed && Date.now() >= deadline && (servedAfter || triesAfter >= 1000))) {
          if (killed) triesAfter++;
          const targets = [...alive];
          const server = targets[turn++ % targets.length]!;
          let answer: Answer;
          try {
            answer = await refreshOn(server, token);
          } catch {
            continue; // the connection died with the instance: same token, next instance
          }
          if (answer.status === 200) {
            const { sid, gen } = claims(answer.refresh!);
            const key = `${sid}/${gen}`;
            const seen = issued.get(key);
            if (seen && seen !== answer.refresh) unexpected.push(`fork at ${key}`);
            issued.set(key, answer.refresh!);
            token = answer.refresh!;
            if (killed) {
              servedAfterKill++;
              servedAfter = true;
            }
          } else if (!(answer.status === 503 && answer.retryAfter)) {
            unexpected.push(`${server.name}: ${answer.status} ${answer.code}`);
          }
        }
        return token;
      };

      const killer = (async () => {
        // Killed once the load is one (the count asserted below), not after a fixed time.
        while (issued.size <= CLIENTS * 2 && unexpected.length === 0)
          await new Promise((r) => setTimeout(r, 10));
        alive.delete(b);
        b.child.kill('SIGKILL');
        killed = true;
      })();
      const finals = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
      await killer;

      expect(unexpected).toEqual([]);
      expect(b.child.signalCode ?? (await new Promise((r) => b.child.once('exit', (_c, s) => r(s))))).toBe(
        'SIGKILL',
      );
      expect(servedAfterKill).toBeGreaterThan(0);
      expect(issued.size).toBeGreaterThan(CLIENTS * 2); // it was a load, not a trickle
      // The last pair each client was given still works, on either survivor, and the row agrees.
      for (const [i, token] of finals.entries()) {
        const next = await refreshOn(i % 2 ? a : c, token);
        expect(next.status).toBe(200);
        const row = await generation(claims(token).sid);
        expect(row).toEqual({ generation: claims(token).gen + 1, revoked_reason: null });
      }
    }, 180_000); // a bound for a hung instance, not a speed expectation
  });
});
