import { existsSync } from 'node:fs';
import { Client, type Dispatcher } from 'undici';
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

  it(
    'drains first: a request sent on an open connection after the signal is answered (Connection: close) while /readyz fails',
    async () => {
      // A long drain, so the steps below fit in it however slow the machine; it ends early once
      // the last connection has closed.
      const opened = await sqliteServerWithSessions(0, { SHUTDOWN_DRAIN: '60000' });
      const { server } = opened;
      const cleanupFirst = cleanup;
      cleanup = () => {
        cleanupFirst?.();
        opened.cleanup();
      };
      // Every request of this test goes over these two connections, so the drain ends as soon as
      // both have closed.
      const keptOpen = new Client(server.url);
      const prober = new Client(server.url);
      const call = (path: string, body?: object) =>
        keptOpen.request({
          method: 'POST',
          path: `/api/v1/demo/storefront${path}`,
          headers: body ? { 'content-type': 'application/json' } : { 'x-api-key': opened.apiKey },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
      const tokenOf = async (res: Dispatcher.ResponseData) =>
        ((await res.body.json()) as { content: { refresh_token: string } }).content.refresh_token;
      try {
        const anonymous = await call('/auth/anonymous');
        expect(anonymous.statusCode).toBe(200);
        const first = await call('/auth/refresh-token', { refresh_token: await tokenOf(anonymous) });
        expect(first.statusCode).toBe(200);
        const next = await tokenOf(first);
        expect(first.headers['connection']).not.toBe('close');
        // keptOpen's connection is idle now; the signal arrives while it is.
        const stopped = server.stop('SIGTERM');
        for (;;) {
          const probe = await prober.request({ method: 'GET', path: '/readyz' });
          await probe.body.dump();
          if (probe.statusCode === 503) break;
          expect(probe.statusCode).toBe(200);
          await new Promise((r) => setTimeout(r, 10));
        }
        const late = await call('/auth/refresh-token', { refresh_token: next });
        expect(late.statusCode).toBe(200);
        expect(late.headers['connection']).toBe('close');
        await late.body.dump();
        await prober.close();
        expect(await stopped).toBe(0);
        // The rotation it answered is durable.
        const again = await opened.restart();
        const check = new Client(again.url);
        try {
          const res = await check.request({
            method: 'POST',
            path: '/api/v1/demo/storefront/auth/refresh-token',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ refresh_token: next }),
          });
          await res.body.dump();
          expect(res.statusCode).toBe(200);
        } finally {
          await check.close();
          // No connection left open: the drain ends at once, and the exit is clean.
          expect(await again.stop()).toBe(0);
        }
      } finally {
        await keptOpen.close().catch(() => {});
        await prober.close().catch(() => {});
      }
    },
    SLOW,
  );
});
