import { afterEach, describe, expect, it } from 'vitest';
import type { SqliteDatabase } from '../../src/storage/sqlite/store.js';
import { API_KEY, BASE, claims, makeTestApp, refresh, type TestApp } from '../helpers/app.js';
import { DpopKey, INJECT_ORIGIN } from '../helpers/dpop.js';

let t: TestApp;
afterEach(async () => {
  await t?.close();
});

const REFRESH_URL = `${INJECT_ORIGIN}${BASE}/auth/refresh-token`;

async function boundSession(key: DpopKey) {
  const res = await t.app.inject({
    method: 'POST',
    url: `${BASE}/auth/anonymous`,
    headers: { 'x-api-key': API_KEY, dpop: key.proof({ htu: `${INJECT_ORIGIN}${BASE}/auth/anonymous` }) },
  });
  expect(res.statusCode).toBe(200);
  return res.json().content as { access_token: string; refresh_token: string; user: { id: string } };
}

function row(sessionId: string) {
  return (t.db as SqliteDatabase).sqlite
    .prepare('SELECT generation, revoked_at, jkt FROM sessions WHERE id = ?')
    .get(sessionId) as { generation: number; revoked_at: number | null; jkt: string | null };
}
const events = () =>
  (
    (t.db as SqliteDatabase).sqlite.prepare('SELECT count(*) AS n FROM security_events').get() as {
      n: number;
    }
  ).n;

describe('DPoP-bound refresh (SQLite, inject)', () => {
  it('binds at creation, carries cnf.jkt, and refuses a refresh without the key', async () => {
    t = await makeTestApp();
    const key = DpopKey.create('ES256', t.clock.now);
    const pair = await boundSession(key);
    const sid = claims(pair.access_token)['sid'] as string;
    expect(row(sid)).toMatchObject({ generation: 0, revoked_at: null, jkt: key.jkt });
    expect(claims(pair.access_token)['cnf']).toEqual({ jkt: key.jkt });

    const other = DpopKey.create('ES256', t.clock.now);
    const refusals: Record<string, string>[] = [
      {},
      { dpop: other.proof({ htu: REFRESH_URL }) },
      { dpop: key.proof({ htu: `${INJECT_ORIGIN}${BASE}/auth/anonymous` }) },
      { dpop: key.proof({ htu: REFRESH_URL, htm: 'GET' }) },
      { dpop: key.proof({ htu: REFRESH_URL, iat: Math.floor(t.clock.now() / 1000) - 3600 }) },
      { dpop: key.proof({ htu: REFRESH_URL, header: { typ: 'JWT' } }) },
      { dpop: key.proof({ htu: REFRESH_URL, header: { jwk: key.privateJwk } }) },
      { dpop: 'garbage' },
    ];
    for (const headers of refusals) {
      const res = await refresh(t.app, pair.refresh_token, headers);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ success: false, code: 'DPOP_PROOF_INVALID' });
      expect(res.headers['www-authenticate']).toMatch(/^DPoP error="invalid_dpop_proof"/);
    }
    expect(row(sid)).toMatchObject({ generation: 0, revoked_at: null });
    expect(events()).toBe(0);

    const proof = key.proof({ htu: REFRESH_URL });
    const ok = await refresh(t.app, pair.refresh_token, { dpop: proof });
    expect(ok.status).toBe(200);
    expect(claims(ok.body.content.access_token)['cnf']).toEqual({ jkt: key.jkt });
    expect(row(sid)).toMatchObject({ generation: 1 });

    // The same proof again (same jti) is refused, even with the successor token.
    const replay = await refresh(t.app, ok.body.content.refresh_token, { dpop: proof });
    expect(replay.body.code).toBe('DPOP_PROOF_INVALID');
    expect(replay.body.message).toMatch(/jti/);
    expect(row(sid)).toMatchObject({ generation: 1, revoked_at: null });
    // Neither a proof, nor its signature, nor the key's thumbprint is ever logged.
    const logs = t.logs.join('');
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [proof, proof.split('.')[2]!, key.jkt]) expect(logs).not.toContain(secret);
  });

  it('replays the same successor to the right key after a lost answer, 60 s and 10 min later', async () => {
    t = await makeTestApp();
    const key = DpopKey.create('EdDSA', t.clock.now);
    const pair = await boundSession(key);
    const sid = claims(pair.access_token)['sid'] as string;
    const first = await refresh(t.app, pair.refresh_token, { dpop: key.proof({ htu: REFRESH_URL }) });
    expect(first.status).toBe(200);
    for (const seconds of [60, 540]) {
      t.clock.advance(seconds);
      const thief = await refresh(t.app, pair.refresh_token);
      expect(thief.body.code).toBe('DPOP_PROOF_INVALID');
      const again = await refresh(t.app, pair.refresh_token, { dpop: key.proof({ htu: REFRESH_URL }) });
      expect(again.status).toBe(200);
      // The same successor: byte-identical refresh token, same access claims (ES256 signatures vary).
      expect(again.body.content.refresh_token).toBe(first.body.content.refresh_token);
      expect(claims(again.body.content.access_token)).toEqual(claims(first.body.content.access_token));
    }
    expect(row(sid)).toMatchObject({ generation: 1, revoked_at: null });
    expect(events()).toBe(0);
  });

  it('leaves unbound sessions as they are: no proof needed, a refresh never binds', async () => {
    t = await makeTestApp();
    const res = await t.app.inject({
      method: 'POST',
      url: `${BASE}/auth/anonymous`,
      headers: { 'x-api-key': API_KEY },
    });
    const pair = res.json().content;
    expect(claims(pair.access_token)['cnf']).toBeUndefined();
    const key = DpopKey.create('ES256', t.clock.now);
    const next = await refresh(t.app, pair.refresh_token, { dpop: key.proof({ htu: REFRESH_URL }) });
    expect(next.status).toBe(200);
    expect(claims(next.body.content.access_token)['cnf']).toBeUndefined();
    expect(row(claims(pair.access_token)['sid'] as string).jkt).toBeNull();
  });

  it('refuses a bound access token with the Bearer scheme, accepts it with DPoP and ath', async () => {
    t = await makeTestApp();
    const key = DpopKey.create('ES256', t.clock.now);
    const pair = await boundSession(key);
    const url = `${BASE}/auth/logout`;
    const bearer = await t.app.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${pair.access_token}` },
    });
    expect(bearer.statusCode).toBe(401);
    expect(bearer.json().code).toBe('DPOP_PROOF_INVALID');
    const noAth = await t.app.inject({
      method: 'POST',
      url,
      headers: {
        authorization: `DPoP ${pair.access_token}`,
        dpop: key.proof({ htu: `${INJECT_ORIGIN}${url}` }),
      },
    });
    expect(noAth.json().code).toBe('DPOP_PROOF_INVALID');
    const sid = claims(pair.access_token)['sid'] as string;
    expect(row(sid)).toMatchObject({ revoked_at: null });
    const good = await t.app.inject({
      method: 'POST',
      url,
      headers: {
        authorization: `DPoP ${pair.access_token}`,
        dpop: key.proof({ htu: `${INJECT_ORIGIN}${url}`, accessToken: pair.access_token }),
      },
    });
    expect(good.statusCode).toBe(200);
    expect(row(sid).revoked_at).not.toBeNull();
    // logout's new session is bound to the same key.
    expect(claims(good.json().content.access_token)['cnf']).toEqual({ jkt: key.jkt });
  });
});
