import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UNLIMITED } from '../helpers/app.js';
import { postToStore, startServer } from '../helpers/process.js';

const dir = mkdtempSync(join(tmpdir(), 'sfa-shutdown-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const API_KEY = 'shutdown-test-key-0123456789';
const env = {
  DATABASE_URL: `sqlite:${join(dir, 'auth.db')}`,
  API_KEY,
  ANONYMOUS_RATE_LIMIT: '0',
  ...UNLIMITED,
};

const post = (url: string, path: string, body?: object) => postToStore(url, API_KEY, path, body);

describe('graceful shutdown on SIGTERM', () => {
  it('answers what it accepted, exits 0 and closes the database cleanly', async () => {
    const server = await startServer(env);
    const chains: string[] = [];
    for (let i = 0; i < 10; i++)
      chains.push((await post(server.url, '/auth/anonymous')).body.content.refresh_token);
    const statuses: number[] = [];
    let stopping = false;
    // Each chain sends its next refresh only while the server is not stopping; what is in flight
    // when SIGTERM arrives must still be answered.
    const load = chains.map(async (_, i) => {
      while (!stopping) {
        try {
          const res = await post(server.url, '/auth/refresh-token', { refresh_token: chains[i] });
          statuses.push(res.status);
          if (res.status === 200) chains[i] = res.body.content.refresh_token;
        } catch (error) {
          // A keep-alive connection the server closed as idle just as it was reused: retry the same
          // token (the grace window answers the same successor if the lost request had rotated).
          if (stopping) throw error;
        }
      }
    });
    const deadline = Date.now() + 20_000;
    while (statuses.length < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(statuses.length).toBeGreaterThanOrEqual(200);
    stopping = true;
    const code = await server.stop('SIGTERM');
    await Promise.all(load);

    expect(code).toBe(0);
    expect(statuses.every((s) => s === 200)).toBe(true);
    // Closing the last connection checkpoints the WAL and removes it.
    expect(existsSync(join(dir, 'auth.db-wal'))).toBe(false);

    const again = await startServer(env);
    try {
      for (const token of chains)
        expect((await post(again.url, '/auth/refresh-token', { refresh_token: token })).status).toBe(200);
    } finally {
      await again.stop();
    }
  });
});
