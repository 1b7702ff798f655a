import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAIN, startServer } from '../helpers/process.js';

const dir = mkdtempSync(join(tmpdir(), 'sfa-proc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A bound for a hung start, not a speed expectation (see START_LIMIT in the helper).
describe('the server process (dist/main.js)', { timeout: 180_000 }, () => {
  it('creates the store on first start, prints a generated API key once, and it works', async () => {
    const env = { DATABASE_URL: `sqlite:${join(dir, 'nested', 'auth.db')}` };
    const first = await startServer(env);
    const key = /\b(pk_[A-Za-z0-9_-]{20,})\b/.exec(first.output())?.[1];
    expect(key).toBeDefined();
    const base = `${first.url}/api/v1/demo/storefront`;
    const anon = await fetch(`${base}/auth/anonymous`, { method: 'POST', headers: { 'x-api-key': key! } });
    expect(anon.status).toBe(200);
    expect(anon.headers.get('x-request-id')).toBeTruthy();
    const { refresh_token } = (await anon.json()).content;
    expect(await first.stop('SIGTERM')).toBe(0);

    const second = await startServer(env);
    try {
      expect(second.output()).not.toContain(key!);
      const res = await fetch(`${second.url}/api/v1/demo/storefront/auth/refresh-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token }),
      });
      expect(res.status).toBe(200);
      expect((await fetch(`${second.url}/healthz`)).status).toBe(200);
    } finally {
      await second.stop();
    }
  });

  it('accepts API_KEY from the environment', async () => {
    const server = await startServer({
      DATABASE_URL: `sqlite:${join(dir, 'k.db')}`,
      API_KEY: 'a-key-from-the-env-123',
      STORE_ID: 'shop-1',
    });
    try {
      expect(server.output()).not.toContain('a-key-from-the-env-123');
      const res = await fetch(`${server.url}/api/v1/shop-1/storefront/auth/anonymous`, {
        method: 'POST',
        headers: { 'x-api-key': 'a-key-from-the-env-123' },
      });
      expect(res.status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('refuses to start on invalid configuration, naming the variable', () => {
    const run = spawnSync(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH, PORT: 'not-a-port', REFRESH_REUSE_GRACE: '-1' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/PORT/);
    expect(run.stderr).toMatch(/REFRESH_REUSE_GRACE/);
  });
});
