import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteDatabase } from '../../src/storage/sqlite/store.js';
import { anonymous, BASE, claims, makeTestApp, refresh, type TestApp } from '../helpers/app.js';
import { expectMatchesSpec } from '../helpers/openapi.js';

let t: TestApp;
afterEach(async () => {
  await t?.close();
});

async function start(env: Record<string, string> = {}) {
  t = await makeTestApp(env);
  const { body } = await anonymous(t.app);
  return body.content as { access_token: string; refresh_token: string; user: { id: string } };
}

const db = () => (t.db as SqliteDatabase).sqlite;

/** `n` refreshes of one token at once, over real HTTP connections. */
async function concurrentRefreshes(token: string, n: number) {
  const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
  return Promise.all(
    Array.from({ length: n }, () =>
      fetch(`${address}${BASE}/auth/refresh-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: token }),
      }).then(async (r) => ({ status: r.status, body: await r.json() })),
    ),
  );
}

describe('POST /auth/refresh-token: the seed contract', () => {
  beforeEach(async () => {
    await start();
  });

  it('answers a new pair in the envelope, as the OpenAPI document says', async () => {
    const first = await anonymous(t.app);
    const res = await refresh(t.app, first.body.content.refresh_token);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, message: expect.any(String) });
    expect(Object.keys(res.body.content).sort()).toEqual(['access_token', 'refresh_token']);
    expectMatchesSpec('refresh-token', 200, res.body);
    expect(res.body.content.refresh_token).not.toBe(first.body.content.refresh_token);
    expect(claims(res.body.content.refresh_token)).toMatchObject({ gen: 1 });
  });

  it('answers BAD_REQUEST with field details for a missing or non-string refresh_token', async () => {
    for (const payload of [{}, { refresh_token: 123 }, { refresh_token: null }, { refresh_token: ['a'] }]) {
      const res = await t.app.inject({ method: 'POST', url: `${BASE}/auth/refresh-token`, payload });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({
        success: false,
        code: 'BAD_REQUEST',
        errors: { refresh_token: expect.any(String) },
      });
      expectMatchesSpec('refresh-token', 400, res.json());
    }
  });

  it('answers INVALID_REFRESH_TOKEN for garbage and for an access token', async () => {
    const { body } = await anonymous(t.app);
    for (const token of ['', 'abc', 'a.b.c', body.content.access_token]) {
      const res = await refresh(t.app, token);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('INVALID_REFRESH_TOKEN');
      expectMatchesSpec('refresh-token', 400, res.body);
    }
  });

  it('ignores a Bearer header, valid or not (the official SDK sends one on manual calls)', async () => {
    const { body } = await anonymous(t.app);
    const res = await refresh(t.app, body.content.refresh_token, { authorization: 'Bearer nonsense' });
    expect(res.status).toBe(200);
  });

  it('answers STORE_NOT_FOUND (404) for an unknown store', async () => {
    const { body } = await anonymous(t.app);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/nope/storefront/auth/refresh-token',
      payload: { refresh_token: body.content.refresh_token },
    });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('STORE_NOT_FOUND');
    expectMatchesSpec('refresh-token', 404, res.json());
  });

  it('answers SESSION_NOT_FOUND (404) for a validly signed token whose session is gone', async () => {
    const { body } = await anonymous(t.app);
    db().prepare('DELETE FROM sessions WHERE id = ?').run(claims(body.content.refresh_token).sid);
    const res = await refresh(t.app, body.content.refresh_token);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('SESSION_NOT_FOUND');
    expectMatchesSpec('refresh-token', 404, res.body);
  });

  it('answers the envelope for unknown routes, 413 and 415', async () => {
    const notFound = await t.app.inject({ method: 'GET', url: `${BASE}/auth/nothing-here` });
    expect(notFound.statusCode).toBe(404);
    expect(notFound.json()).toEqual({ message: expect.any(String), success: false, code: 'NOT_FOUND' });

    const big = await t.app.inject({
      method: 'POST',
      url: `${BASE}/auth/refresh-token`,
      payload: { refresh_token: 'x'.repeat(20_000) },
    });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toEqual({ message: expect.any(String), success: false, code: 'PAYLOAD_TOO_LARGE' });

    const text = await t.app.inject({
      method: 'POST',
      url: `${BASE}/auth/refresh-token`,
      headers: { 'content-type': 'text/plain' },
      payload: 'refresh_token=x',
    });
    expect(text.statusCode).toBe(415);
    expect(text.json()).toEqual({
      message: expect.any(String),
      success: false,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    });

    const broken = await t.app.inject({
      method: 'POST',
      url: `${BASE}/auth/refresh-token`,
      headers: { 'content-type': 'application/json' },
      payload: '{"refresh_token": "eyJ-secret-part',
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().code).toBe('BAD_REQUEST');
    expect(broken.body).not.toContain('eyJ-secret-part');
  });

  it('tolerates a doubled slash from a baseUrl with a trailing slash', async () => {
    const { body } = await anonymous(t.app);
    const res = await t.app.inject({
      method: 'POST',
      url: `${BASE}//auth/refresh-token`,
      payload: { refresh_token: body.content.refresh_token },
    });
    expect(res.statusCode).toBe(200);
  });
});

describe('rotation', () => {
  it('is single use: a rotated token past the grace window is reuse, and revokes the family', async () => {
    const pair = await start();
    const next = await refresh(t.app, pair.refresh_token);
    expect(next.status).toBe(200);
    t.clock.advance(31);
    const reused = await refresh(t.app, pair.refresh_token);
    expect(reused.status).toBe(400);
    expect(reused.body.code).toBe('REFRESH_TOKEN_REUSED');
    // The successor, held by the honest user or the thief, is dead too.
    const after = await refresh(t.app, next.body.content.refresh_token);
    expect(after.body.code).toBe('SESSION_REVOKED');
    const events = db().prepare("SELECT * FROM security_events WHERE type = 'refresh_token_reused'").all();
    expect(events).toHaveLength(1);
  });

  it('replays the identical successor within the grace window, minting no new branch', async () => {
    const pair = await start();
    const first = await refresh(t.app, pair.refresh_token);
    t.clock.advance(29);
    const again = await refresh(t.app, pair.refresh_token);
    expect(again.status).toBe(200);
    expect(again.body.content.refresh_token).toBe(first.body.content.refresh_token);
    expect(claims(again.body.content.access_token)).toEqual(claims(first.body.content.access_token));
    const gen = db()
      .prepare('SELECT generation FROM sessions WHERE id = ?')
      .get(claims(pair.refresh_token).sid);
    expect(gen).toEqual({ generation: 1 });
    // The replayed successor is a normal, current token.
    const next = await refresh(t.app, again.body.content.refresh_token);
    expect(next.status).toBe(200);
    expect(claims(next.body.content.refresh_token).gen).toBe(2);
  });

  it('treats a token two generations old as reuse even inside the grace window', async () => {
    const pair = await start();
    const g1 = await refresh(t.app, pair.refresh_token);
    await refresh(t.app, g1.body.content.refresh_token);
    const res = await refresh(t.app, pair.refresh_token);
    expect(res.body.code).toBe('REFRESH_TOKEN_REUSED');
  });

  it('with REFRESH_REUSE_GRACE=0 any second use is reuse', async () => {
    const pair = await start({ REFRESH_REUSE_GRACE: '0' });
    expect((await refresh(t.app, pair.refresh_token)).status).toBe(200);
    const res = await refresh(t.app, pair.refresh_token);
    expect(res.body.code).toBe('REFRESH_TOKEN_REUSED');
  });

  it('keeps the user identity and claims across rotations', async () => {
    const pair = await start();
    const res = await refresh(t.app, pair.refresh_token);
    const c = claims(res.body.content.access_token);
    expect(c).toMatchObject({
      ulid: pair.user.id,
      sub: pair.user.id,
      is_anonymous: true,
      is_logged_in: false,
      store_id: 'demo',
    });
    expect(c['sid']).toBe(claims(pair.refresh_token)['sid']);
  });

  it('50 concurrent refreshes of one token over HTTP give exactly one successor', async () => {
    const pair = await start();
    const answers = await concurrentRefreshes(pair.refresh_token, 50);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(new Set(answers.map((a) => a.body.content.refresh_token)).size).toBe(1);
    const row = db()
      .prepare('SELECT generation, revoked_at FROM sessions WHERE id = ?')
      .get(claims(pair.refresh_token).sid);
    expect(row).toEqual({ generation: 1, revoked_at: null });
  });

  it('50 concurrent refreshes with grace 0 have exactly one winner', async () => {
    const pair = await start({ REFRESH_REUSE_GRACE: '0' });
    const answers = await concurrentRefreshes(pair.refresh_token, 50);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    // The first loser detects reuse and revokes the family; later losers find it revoked.
    const losers = answers.filter((a) => a.status !== 200);
    expect(
      losers.every(
        (a) => a.status === 400 && ['REFRESH_TOKEN_REUSED', 'SESSION_REVOKED'].includes(a.body.code),
      ),
    ).toBe(true);
    expect(losers.some((a) => a.body.code === 'REFRESH_TOKEN_REUSED')).toBe(true);
  });
});

describe('expiry, with an injected clock', () => {
  it('idle expiry: refreshable at exp - 1 s, REFRESH_TOKEN_EXPIRED at exp + 1 s', async () => {
    const pair = await start({ REFRESH_TOKEN_TTL: '100' });
    const exp = claims(pair.refresh_token)['exp'] as number;
    expect(exp * 1000 - t.clock.now()).toBe(100_000);
    t.clock.ms = (exp - 1) * 1000;
    const ok = await refresh(t.app, pair.refresh_token);
    expect(ok.status).toBe(200);
    // Rotation slid the idle expiry.
    const next = ok.body.content.refresh_token;
    expect(claims(next)['exp']).toBe(exp - 1 + 100);
    t.clock.ms = (exp - 1 + 100 + 1) * 1000;
    const dead = await refresh(t.app, next);
    expect(dead.body.code).toBe('REFRESH_TOKEN_EXPIRED');
  });

  it('the sliding idle expiry never passes the absolute lifetime', async () => {
    const pair = await start({ REFRESH_TOKEN_TTL: '100', SESSION_MAX_AGE: '250' });
    const created = t.clock.now();
    let token = pair.refresh_token;
    for (let i = 0; i < 2; i++) {
      t.clock.advance(90);
      const res = await refresh(t.app, token);
      expect(res.status).toBe(200);
      token = res.body.content.refresh_token;
      expect((claims(token)['exp'] as number) * 1000).toBeLessThanOrEqual(created + 250_000);
    }
    expect((claims(token)['exp'] as number) * 1000).toBe(created + 250_000);
    t.clock.ms = created + 250_000 - 1000;
    const last = await refresh(t.app, token);
    expect(last.status).toBe(200);
    t.clock.ms = created + 250_000 + 1000;
    expect((await refresh(t.app, last.body.content.refresh_token)).body.code).toBe('REFRESH_TOKEN_EXPIRED');
  });

  it('answers SESSION_EXPIRED when the session row ended before the token did', async () => {
    const pair = await start();
    db()
      .prepare('UPDATE sessions SET absolute_expires_at = ? WHERE id = ?')
      .run(t.clock.now() - 1, claims(pair.refresh_token).sid);
    expect((await refresh(t.app, pair.refresh_token)).body.code).toBe('SESSION_EXPIRED');
  });

  it('answers SESSION_REVOKED for a revoked session', async () => {
    const pair = await start();
    await t.db.revokeSession(claims(pair.refresh_token).sid as string, 'admin', t.clock.now());
    expect((await refresh(t.app, pair.refresh_token)).body.code).toBe('SESSION_REVOKED');
  });

  it('access tokens live ACCESS_TOKEN_TTL, never past the session', async () => {
    const pair = await start({ ACCESS_TOKEN_TTL: '600', REFRESH_TOKEN_TTL: '300' });
    const c = claims(pair.access_token);
    expect((c['exp'] as number) - (c['iat'] as number)).toBe(300);
  });
});

describe('POST /auth/refresh-token: the grace window is advertised', () => {
  it('says the grace window in x-refresh-grace-seconds, on a success and on an error', async () => {
    const { refresh_token } = await start({ REFRESH_REUSE_GRACE: '45' });
    const ok = await t.app.inject({
      method: 'POST',
      url: `${BASE}/auth/refresh-token`,
      payload: { refresh_token },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['x-refresh-grace-seconds']).toBe('45');
    const bad = await t.app.inject({
      method: 'POST',
      url: `${BASE}/auth/refresh-token`,
      payload: { refresh_token: 'a.b.c' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['x-refresh-grace-seconds']).toBe('45');
  });

  it('says 0 when the grace window is off', async () => {
    const { refresh_token } = await start({ REFRESH_REUSE_GRACE: '0' });
    const res = await t.app.inject({
      method: 'POST',
      url: `${BASE}/auth/refresh-token`,
      payload: { refresh_token },
    });
    expect(res.headers['x-refresh-grace-seconds']).toBe('0');
  });
});
