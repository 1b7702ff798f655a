import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LIMIT_NAMES, LIMITS } from '../../src/ratelimit/limits.js';
import { anonymous, makeTestApp, STORE, type TestApp } from '../helpers/app.js';
import { CLI_ENTRY } from '../helpers/process.js';

let t: TestApp;
beforeEach(async () => {
  t = await makeTestApp();
});
afterEach(async () => {
  await t.close();
});

function cli(...args: string[]) {
  const run = spawnSync(process.execPath, [CLI_ENTRY, ...args], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: `sqlite:${join(t.dir, 'auth.db')}`,
      ANONYMOUS_RATE_LIMIT: '7',
    },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

async function statuses(n: number) {
  const out = [];
  for (let i = 0; i < n; i++) out.push((await anonymous(t.app)).status);
  return out;
}

describe('per-store limits', () => {
  it("`limits set` gives a store its own value; the server uses it, and `default` goes back to the config's", async () => {
    expect(cli('limits', 'set', STORE, 'anonymous', '2').code).toBe(0);
    expect(await statuses(3)).toEqual([200, 200, 429]);

    expect(cli('limits', 'set', STORE, 'anonymous', 'default').code).toBe(0);
    // A minute later the store is read again (its cache) and a new window has opened.
    t.clock.advance(61);
    expect(await statuses(61)).toEqual([...Array(60).fill(200), 429]);
  });

  it('`limits show` lists every limit of the table with its value and where it comes from', () => {
    cli('limits', 'set', STORE, 'otpAttempts', '3');
    const shown = cli('limits', 'show', STORE, '--json');
    expect(shown.code).toBe(0);
    const rows = JSON.parse(shown.stdout) as { name: string; value: number; source: string }[];
    expect(rows.map((r) => r.name)).toEqual(LIMIT_NAMES);
    expect(rows.find((r) => r.name === 'otpAttempts')).toEqual({
      name: 'otpAttempts',
      value: 3,
      source: 'store',
    });
    // The CLI reads the same variables as the server.
    expect(rows.find((r) => r.name === 'anonymous')).toEqual({
      name: 'anonymous',
      value: 7,
      source: 'config',
    });
    expect(rows.find((r) => r.name === 'loginPerIdentifier')?.value).toBe(LIMITS.loginPerIdentifier.default);
  });

  it('refuses an unknown limit, a bad value and an unknown store, writing nothing', async () => {
    const unknown = cli('limits', 'set', STORE, 'nope', '3');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('no limit "nope"');
    for (const bad of ['1.5', 'many', '1000000001']) {
      const r = cli('limits', 'set', STORE, 'anonymous', bad);
      expect(r.code, bad).not.toBe(0);
      expect(r.stderr, bad).toMatch(/anonymous takes a whole number from 0 to/);
    }
    expect(cli('limits', 'set', STORE, 'otpAttempts', '0').stderr).toMatch(/from 1 to/);
    expect(cli('limits', 'set', 'no-such-store', 'anonymous', '3').stderr).toContain(
      'no store "no-such-store"',
    );
    expect(await t.db.getStoreLimits(STORE)).toEqual({});
  });

  it('a store can turn a limit off with 0', async () => {
    await t.db.setStoreLimit(STORE, 'anonymous', 0);
    expect(await statuses(70)).toEqual(Array(70).fill(200));
  });
});
