import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNLIMITED } from '../helpers/app.js';
import { describeWithPostgres, freshSchema } from '../helpers/postgres.js';
import { CLI_ENTRY, killAllServers, type ServerProcess, startServer } from '../helpers/process.js';

const API_KEY = 'key-retire-test-key-0123456789';
const PATH = '/api/v1/demo/storefront';
/** Instances re-read the keys this often (seconds), so that the test sees every change soon. */
const RELOAD = 1;

const kidOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid as string;

async function post(server: ServerProcess, route: string, init: { body?: unknown; bearer?: string } = {}) {
  const res = await fetch(`${server.url}${PATH}${route}`, {
    method: 'POST',
    headers: {
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : { 'x-api-key': API_KEY }),
      ...(init.bearer ? { authorization: `Bearer ${init.bearer}` } : {}),
    },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  const json = (await res.json()) as {
    code?: string;
    content?: { access_token: string; refresh_token: string; user: { id: string } };
  };
  return { status: res.status, code: json.code, content: json.content };
}

const mint = async (s: ServerProcess) => {
  const a = await post(s, '/auth/anonymous');
  expect(a.status).toBe(200);
  return a.content!;
};
const refreshOn = (s: ServerProcess, refresh_token: string) =>
  post(s, '/auth/refresh-token', { body: { refresh_token } });
/**
 * Whether a server verifies an access token: POST /auth/anonymous with an anonymous Bearer keeps
 * the token's user when it verifies, and gives a new user when it does not.
 */
const verifiesOn = async (s: ServerProcess, pair: { access_token: string; user: { id: string } }) => {
  const res = await post(s, '/auth/anonymous', { bearer: pair.access_token });
  expect(res.status).toBe(200);
  return res.content!.user.id === pair.user.id;
};
const jwksKids = async (s: ServerProcess) =>
  (
    (await (await fetch(`${s.url}${PATH}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }
  ).keys.map((k) => k.kid);

/**
 * Asks until `check` holds, for changes that instances pick up on their next key reload (every
 * RELOAD seconds); fails with `what` if it never does. Not a timing assertion: the bound is
 * generous, and only "eventually, on every instance" is asserted.
 */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function keySuite(database: () => Promise<{ url: string; done(): Promise<void> }>) {
  let db: { url: string; done(): Promise<void> };
  let servers: ServerProcess[] = [];
  const cli = (...args: string[]) => {
    const run = spawnSync(process.execPath, [CLI_ENTRY, ...args, '--json'], {
      env: { PATH: process.env['PATH'] ?? '', DATABASE_URL: db.url },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status, run.stderr).toBe(0);
    return JSON.parse(run.stdout);
  };

  beforeAll(async () => {
    db = await database();
    const env = {
      DATABASE_URL: db.url,
      API_KEY,
      KEY_RELOAD_INTERVAL: String(RELOAD),
      PURGE_INTERVAL: '0',
      DATABASE_POOL_SIZE: '4',
      ANONYMOUS_RATE_LIMIT: '0',
      ...UNLIMITED,
    };
    // The first creates the store and its keys; the others find them.
    servers = [await startServer(env, 'A')];
    servers.push(...(await Promise.all(['B', 'C'].map((n) => startServer(env, n)))));
  }, 60_000);
  afterAll(async () => {
    await killAllServers();
    await db?.done();
  });

  it('keys rotate twice in a row: the newest request decides, on every instance', {
    timeout: 120_000,
  }, async () => {
    const before = await mint(servers[0]!);
    const [oldAccess, oldRefresh] = [kidOf(before.access_token), kidOf(before.refresh_token)];

    const first = cli('keys', 'rotate', 'demo', '--publish-after', '300');
    expect(first.superseded).toEqual([]);
    const second = cli('keys', 'rotate', 'demo', '--publish-after', '0');
    // The first rotation's keys were still pending: the output says they will never sign.
    expect([...second.superseded].sort()).toEqual([...first.kids].sort());
    const [newAccess, newRefresh] = second.kids as [string, string];

    for (const s of servers) {
      await eventually(`${s.name} signs with the second rotation's keys`, async () => {
        const pair = await mint(s);
        return kidOf(pair.access_token) === newAccess && kidOf(pair.refresh_token) === newRefresh;
      });
      // Once it has switched, it never signs with the original keys again (the bug: five more minutes).
      for (let i = 0; i < 5; i++) {
        const pair = await mint(s);
        expect([kidOf(pair.access_token), kidOf(pair.refresh_token)]).toEqual([newAccess, newRefresh]);
      }
    }
    const keys = cli('keys', 'list', 'demo') as { kid: string; rotated_at: string | null }[];
    expect(
      keys
        .filter((k) => k.rotated_at === null)
        .map((k) => k.kid)
        .sort(),
    ).toEqual([...second.kids].sort());
    // Tokens the original keys signed keep verifying while they can be alive, on every instance.
    let chain = before.refresh_token;
    for (const s of servers) {
      const res = await refreshOn(s, chain);
      expect(res.status, `${s.name}: ${res.code}`).toBe(200);
      expect(kidOf(res.content!.refresh_token)).toBe(newRefresh);
      chain = res.content!.refresh_token;
    }
    expect(kidOf(before.refresh_token)).toBe(oldRefresh);
    expect(await verifiesOn(servers[1]!, before)).toBe(true);
    expect(await jwksKids(servers[2]!)).toContain(oldAccess);
  });

  it('keys retire --now: what the key signed stops verifying on every instance; a successor signs', {
    timeout: 120_000,
  }, async () => {
    const victim = await mint(servers[1]!);
    const access = kidOf(victim.access_token);
    const refresh = kidOf(victim.refresh_token);
    expect(await verifiesOn(servers[0]!, victim)).toBe(true);

    const retiredAccess = cli('keys', 'retire', access, '--now');
    expect(retiredAccess).toMatchObject({ retired: access, store_id: 'demo', use: 'access' });
    expect(retiredAccess.replacement).toEqual(expect.any(String));
    const retiredRefresh = cli('keys', 'retire', refresh, '--now');
    expect(retiredRefresh).toMatchObject({ retired: refresh, use: 'refresh' });

    for (const s of servers) {
      await eventually(`${s.name} refuses the retired access key`, async () => {
        return !(await verifiesOn(s, victim)) && !(await jwksKids(s)).includes(access);
      });
      await eventually(`${s.name} refuses the retired refresh key`, async () => {
        const res = await refreshOn(s, victim.refresh_token);
        return res.status === 400 && res.code === 'INVALID_REFRESH_TOKEN';
      });
      // New sessions are signed by the successors, and they verify everywhere.
      const fresh = await mint(s);
      expect(kidOf(fresh.access_token)).toBe(retiredAccess.replacement);
      expect(kidOf(fresh.refresh_token)).toBe(retiredRefresh.replacement);
      for (const other of servers) expect(await verifiesOn(other, fresh)).toBe(true);
    }
    // Once refused, refused for good: a reload never brings the key back.
    for (const s of servers) expect(await verifiesOn(s, victim)).toBe(false);
    // Retiring it again is an error, with a message.
    const again = spawnSync(process.execPath, [CLI_ENTRY, 'keys', 'retire', access, '--now'], {
      env: { PATH: process.env['PATH'] ?? '', DATABASE_URL: db.url },
      encoding: 'utf8',
    });
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/no key ".+" still verifying/);
  });
}

const dir = mkdtempSync(join(tmpdir(), 'sfa-retire-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('signing keys with three instances on one SQLite file', () => {
  keySuite(async () => ({ url: `sqlite:${join(dir, 'auth.db')}`, done: async () => {} }));
});

describeWithPostgres('signing keys with three instances on one PostgreSQL database', (url) => {
  keySuite(async () => {
    const schema = await freshSchema(url, 'sfa_keys');
    return { url: schema.url, done: () => schema.drop() };
  });
});
