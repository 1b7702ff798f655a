import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { sqliteServerWithSessions } from '../helpers/process.js';

/** A bound for a hung server, not a speed expectation: two starts and a load on a busy machine. */
const SLOW = 180_000;

let cleanup: (() => void) | undefined;
afterAll(() => cleanup?.());

describe('graceful shutdown on SIGTERM', () => {
  it(
    'answers what it accepted, exits 0 and closes the database cleanly',
    async () => {
      const opened = await sqliteServerWithSessions(10);
      cleanup = opened.cleanup;
      const { server, tokens: chains, post } = opened;
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
      // However long the machine takes to answer 200: a chain ends early only by failing.
      let chainEnded = false;
      for (const chain of load) chain.then(markEnded, markEnded);
      function markEnded() {
        chainEnded = true;
      }
      while (statuses.length < 200 && !chainEnded) await new Promise((r) => setTimeout(r, 5));
      expect(statuses.length).toBeGreaterThanOrEqual(200);
      stopping = true;
      const code = await server.stop('SIGTERM');
      await Promise.all(load);

      expect(code).toBe(0);
      expect(statuses.every((s) => s === 200)).toBe(true);
      // Closing the last connection checkpoints the WAL and removes it.
      expect(existsSync(`${opened.dbFile}-wal`)).toBe(false);

      const again = await opened.restart();
      try {
        for (const token of chains)
          expect((await post(again.url, '/auth/refresh-token', { refresh_token: token })).status).toBe(200);
      } finally {
        await again.stop();
      }
    },
    SLOW,
  );
});
