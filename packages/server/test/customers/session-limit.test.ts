import { describe, expect, it } from 'vitest';
import { appPerTest, refresh, sqliteDb, type TestApp } from '../helpers/app.js';
import { passwordLogin, registerCustomer } from '../helpers/customers.js';

let t: TestApp;
appPerTest((app) => (t = app), { OTP_DEBUG: 'true', MAX_SESSIONS_PER_USER: '2' });

// One account cannot pile up sessions: each write of the account rewrites the copy of it on every
// session it holds (SQLite, migration 13), so the number it holds must be bounded.
describe('MAX_SESSIONS_PER_USER', () => {
  it("a sign-in past the limit revokes the account's oldest session, and only that one", async () => {
    const first = await registerCustomer(t.app);
    t.clock.advance(60);
    const second = (await passwordLogin(t.app)).body.content;
    t.clock.advance(60);
    // The oldest goes by when it was opened, not by when it was last refreshed.
    const firstRefreshed = await refresh(t.app, first.refresh_token);
    expect(firstRefreshed.status).toBe(200);
    const third = await passwordLogin(t.app);
    expect(third.status, JSON.stringify(third.body)).toBe(200);

    const gone = await refresh(t.app, firstRefreshed.body.content.refresh_token);
    expect(gone.status, JSON.stringify(gone.body)).toBe(400);
    expect(gone.body).toMatchObject({ success: false, code: 'SESSION_REVOKED' });
    expect((await refresh(t.app, second.refresh_token)).status).toBe(200);
    expect((await refresh(t.app, third.body.content.refresh_token)).status).toBe(200);

    const reasons = sqliteDb(t)
      .prepare(
        'SELECT revoked_reason AS reason FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.is_anonymous = 0 ORDER BY s.created_at',
      )
      .all() as Array<{ reason: string | null }>;
    expect(reasons.map((r) => r.reason)).toEqual(['session_limit', null, null]);
  });
});
