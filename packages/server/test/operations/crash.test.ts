import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { sqliteServerWithSessions } from '../helpers/process.js';

/** A bound for a hung server, not a speed expectation: two starts and a load on a busy machine. */
const SLOW = 180_000;

let cleanup: (() => void) | undefined;
afterAll(() => cleanup?.());

describe('crash safety on SQLite', () => {
  it(
    'after SIGKILL under load, every pair answered 200 still refreshes and the file is intact',
    async () => {
      const opened = await sqliteServerWithSessions(8);
      cleanup = opened.cleanup;
      const { server: first, tokens: chains, post } = opened;
      let answered = 0;
      let stop = false;
      // Each chain refreshes as fast as it can; `chains[i]` always holds its last token answered with 200.
      const load = chains.map(async (_, i) => {
        while (!stop) {
          try {
            const res = await post(first.url, '/auth/refresh-token', { refresh_token: chains[i] });
            if (res.status !== 200) throw new Error(`refresh answered ${res.status} ${res.body.code}`);
            chains[i] = res.body.content.refresh_token;
            answered++;
          } catch (error) {
            if (stop) return;
            // A connection error before the kill is retried with the same token, which stays valid.
            if (error instanceof Error && /refresh answered/.test(error.message)) throw error;
          }
        }
      });
      // However long the machine takes to answer 400: a chain ends early only by failing.
      let chainEnded = false;
      for (const chain of load) chain.then(markEnded, markEnded);
      function markEnded() {
        chainEnded = true;
      }
      while (answered < 400 && !chainEnded) await new Promise((r) => setTimeout(r, 10));
      expect(answered).toBeGreaterThanOrEqual(400);
      stop = true;
      first.child.kill('SIGKILL');
      await Promise.allSettled(load);
      await new Promise((r) =>
        first.child.exitCode !== null || first.child.signalCode ? r(null) : first.child.once('exit', r),
      );

      const second = await opened.restart();
      try {
        // The last answered token of each chain refreshes: it is either current, or the server had
        // rotated past it without answering (the request in flight at the kill) and the grace
        // window replays the successor.
        for (const token of chains) {
          const res = await post(second.url, '/auth/refresh-token', { refresh_token: token });
          expect(res.status, JSON.stringify(res.body)).toBe(200);
        }
      } finally {
        await second.stop();
      }
      const db = new Database(opened.dbFile, { readonly: true });
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      } finally {
        db.close();
      }
    },
    SLOW,
  );
});
