import { afterEach, describe, expect, it } from 'vitest';
import { purge } from '../../src/operations/purge.js';
import type { Database } from '../../src/storage/contract.js';
import { PostgresDatabase } from '../../src/storage/postgres/store.js';
import { anonymous, claims, makeTestApp, refresh, type TestApp } from '../helpers/app.js';
import { describeWithPostgres, freshSchema } from '../helpers/postgres.js';

const HOUR = 3600;

/** Purge against a backend: exactly the dead rows go, under concurrent refreshes of the live ones. */
function purgeSuite(makeStore: () => Promise<{ db?: Database; cleanup(): Promise<void> }>) {
  let t: TestApp;
  let cleanup: () => Promise<void>;
  afterEach(async () => {
    await t?.close();
    await cleanup?.();
  });

  it('removes expired sessions, dead anonymous users, and nothing alive', async () => {
    const made = await makeStore();
    cleanup = made.cleanup;
    t = await makeTestApp(
      { REFRESH_TOKEN_TTL: String(HOUR), SESSION_MAX_AGE: String(3 * HOUR) },
      made.db ? { db: made.db } : {},
    );
    const start = t.clock.now();
    // Will idle out: created now, never refreshed.
    const idle = await Promise.all(
      Array.from({ length: 5 }, async () => (await anonymous(t.app)).body.content),
    );
    // Revoked, token still unexpired: kept (its refresh must keep saying SESSION_REVOKED).
    const revoked = (await anonymous(t.app)).body.content;
    await t.db.revokeSession(claims(revoked.refresh_token)['sid'] as string, 'admin', t.clock.now());
    // Kept alive by refreshing.
    let live = await Promise.all(
      Array.from({ length: 6 }, async () => (await anonymous(t.app)).body.content.refresh_token as string),
    );
    t.clock.advance(HOUR - 60);
    live = await Promise.all(
      live.map(async (token) => (await refresh(t.app, token)).body.content.refresh_token as string),
    );
    t.clock.advance(120); // `idle` and the revoked one are past their idle expiry now; `live` are not

    const operator = t.db.operator();
    // Purge in batches of 2 while the live sessions refresh.
    const [counts, refreshed] = await Promise.all([
      purge(operator, { now: t.clock.now(), anonymousIdleMs: HOUR * 1000, batchSize: 2 }),
      Promise.all(live.map((token) => refresh(t.app, token))),
    ]);
    expect(refreshed.every((r) => r.status === 200)).toBe(true);
    expect(counts.sessions).toBe(6); // 5 idle + the revoked one, now expired too
    expect(counts.anonymous_users).toBe(6); // their users: no session left, older than the idle lifetime
    for (const pair of idle)
      expect((await refresh(t.app, pair.refresh_token)).status).toBeGreaterThanOrEqual(400);
    for (const r of refreshed) expect((await refresh(t.app, r.body.content.refresh_token)).status).toBe(200);
    expect(await operator.countActiveSessions(t.clock.now())).toBe(6);

    // A second run finds nothing more.
    const again = await purge(operator, { now: t.clock.now(), anonymousIdleMs: HOUR * 1000 });
    expect(again).toEqual({
      sessions: 0,
      anonymous_users: 0,
      otps: 0,
      security_events: 0,
      dpop_proofs: 0,
      outbox: 0,
      otp_backoff: 0,
    });
    expect(t.clock.now() - start).toBeGreaterThan(HOUR * 1000);
  });

  it('keeps a revoked session until its tokens have expired', async () => {
    const made = await makeStore();
    cleanup = made.cleanup;
    t = await makeTestApp({ REFRESH_TOKEN_TTL: String(HOUR) }, made.db ? { db: made.db } : {});
    const pair = (await anonymous(t.app)).body.content;
    await t.db.revokeSession(claims(pair.refresh_token)['sid'] as string, 'logout', t.clock.now());
    const counts = await purge(t.db.operator(), { now: t.clock.now(), anonymousIdleMs: HOUR * 1000 });
    expect(counts.sessions).toBe(0);
    expect((await refresh(t.app, pair.refresh_token)).body.code).toBe('SESSION_REVOKED');
  });
}

describe('purge on SQLite', () => {
  purgeSuite(async () => ({ cleanup: async () => {} }));
});

describeWithPostgres('purge on PostgreSQL', (url) => {
  purgeSuite(async () => {
    const schema = await freshSchema(url, 'sfa_purge');
    const store = new PostgresDatabase({ url: schema.url });
    return { db: store, cleanup: () => schema.drop() };
  });
});
