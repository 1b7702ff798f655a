import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { API_KEY, BASE, claims, type TestApp } from '../helpers/app.js';
import { DpopKey } from '../helpers/dpop.js';

/** Where both instances say they are reached (a load balancer in front): proofs name this URL. */
export const PUBLIC_URL = 'https://auth.shop.example';
const url = (path: string) => `${PUBLIC_URL}${BASE}${path}`;

/** Two app instances on one database, each listening on a real port, and what the suite inspects. */
export interface TwoInstances {
  a: TestApp;
  b: TestApp;
  /** Security events stored so far. */
  events(): Promise<number>;
  /** Rows of the jti replay table. */
  storedProofs(): Promise<number>;
  /** Where the instances keep accepted proofs' jti. */
  replayStore: 'database' | 'redis';
  close(): Promise<void>;
}

interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

/**
 * The DPoP behaviour of bound sessions, written once and run on each backend (SQLite and
 * PostgreSQL, and with Redis as the replay store): real HTTP to two instances sharing the database.
 */
export function describeBoundSessions(
  name: string,
  make: (env: Record<string, string>) => Promise<TwoInstances>,
): void {
  describe(`DPoP-bound sessions on two instances: ${name}`, () => {
    let pair: TwoInstances;
    let origins: { a: string; b: string };
    const env = { PUBLIC_URL, REFRESH_RATE_LIMIT: '0', REFRESH_IP_RATE_LIMIT: '0' };

    async function start(extra: Record<string, string> = {}) {
      pair = await make({ ...env, ...extra });
      origins = {
        a: await pair.a.app.listen({ port: 0, host: '127.0.0.1' }),
        b: await pair.b.app.listen({ port: 0, host: '127.0.0.1' }),
      };
    }
    afterEach(async () => {
      await pair?.close();
    });

    /** Moves both instances' clocks (the same wall clock, seen by two processes). */
    const advance = (seconds: number) => {
      pair.a.clock.advance(seconds);
      pair.b.clock.advance(seconds);
    };
    const now = () => pair.a.clock.now();

    async function post(on: 'a' | 'b', path: string, headers: Record<string, string>, body?: unknown) {
      const res = await fetch(`${origins[on]}${BASE}${path}`, {
        method: 'POST',
        headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: await res.json(), headers: res.headers } as Answer;
    }
    const refresh = (on: 'a' | 'b', token: string, headers: Record<string, string> = {}) =>
      post(on, '/auth/refresh-token', headers, { refresh_token: token });
    const refreshProof = (key: DpopKey, extra: Parameters<DpopKey['proof']>[0] | object = {}) =>
      key.proof({ htu: url('/auth/refresh-token'), ...extra });

    async function boundSession(key: DpopKey, on: 'a' | 'b' = 'a') {
      const res = await post(on, '/auth/anonymous', {
        'x-api-key': API_KEY,
        dpop: key.proof({ htu: url('/auth/anonymous') }),
      });
      expect(res.status).toBe(200);
      const content = res.body.content as { access_token: string; refresh_token: string };
      return { ...content, sid: claims(content.access_token)['sid'] as string };
    }

    async function row(sid: string) {
      const found = await pair.a.db.getSession(sid);
      return found?.session;
    }

    /** Asserts the answer is a DPoP refusal and that the session is exactly as it was. */
    async function expectRefusedUnchanged(res: Answer, sid: string, generation: number) {
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ success: false, code: 'DPOP_PROOF_INVALID' });
      expect(res.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_dpop_proof"/);
      expect(await row(sid)).toMatchObject({ generation, revokedAt: null });
      expect(await pair.events()).toBe(0);
    }

    describe('refusals', () => {
      beforeEach(async () => {
        await start();
      });

      it('refuses every refresh without a valid proof of the bound key, and none changes the session', async () => {
        const key = DpopKey.create('ES256', now);
        const s = await boundSession(key);
        expect((await row(s.sid))?.jkt).toBe(key.jkt);
        const thief = DpopKey.create('ES256', now);
        const nowSeconds = Math.floor(now() / 1000);
        const cases: Array<[string, Record<string, string>]> = [
          ['no proof', {}],
          ["another key's proof", { dpop: refreshProof(thief) }],
          ['a proof for another URL', { dpop: key.proof({ htu: url('/auth/anonymous') }) }],
          [
            'a proof for another host',
            { dpop: key.proof({ htu: `https://evil.example${BASE}/auth/refresh-token` }) },
          ],
          ['a proof for another method', { dpop: refreshProof(key, { htm: 'PUT' }) }],
          ['a stale iat', { dpop: refreshProof(key, { iat: nowSeconds - 61 }) }],
          ['an iat in the future', { dpop: refreshProof(key, { iat: nowSeconds + 60 }) }],
          ['a private jwk', { dpop: refreshProof(key, { header: { jwk: key.privateJwk } }) }],
          ['typ JWT', { dpop: refreshProof(key, { header: { typ: 'JWT' } }) }],
          ['alg none', { dpop: refreshProof(key, { header: { alg: 'none' } }) }],
        ];
        for (const [why, headers] of cases) {
          const res = await refresh(why.length % 2 ? 'a' : 'b', s.refresh_token, headers);
          await expectRefusedUnchanged(res, s.sid, 0);
        }
        const ok = await refresh('b', s.refresh_token, { dpop: refreshProof(key) });
        expect(ok.status).toBe(200);
        expect(claims(ok.body.content.access_token)['cnf']).toEqual({ jkt: key.jkt });
        expect(await row(s.sid)).toMatchObject({ generation: 1, revokedAt: null, jkt: key.jkt });
      });

      it('accepts a proof once: its replay (same jti) is refused on the same and on the other instance', async () => {
        const key = DpopKey.create('EdDSA', now);
        const s = await boundSession(key);
        const proof = refreshProof(key);
        const first = await refresh('a', s.refresh_token, { dpop: proof });
        expect(first.status).toBe(200);
        const next = first.body.content.refresh_token as string;
        // Replayed with the successor token (what a thief who copied request and token would try).
        await expectRefusedUnchanged(await refresh('b', next, { dpop: proof }), s.sid, 1);
        await expectRefusedUnchanged(await refresh('a', next, { dpop: proof }), s.sid, 1);
        expect((await refresh('b', s.refresh_token, { dpop: proof })).body.message).toMatch(/jti/);
        const fresh = await refresh('b', next, { dpop: refreshProof(key) });
        expect(fresh.status).toBe(200);
      });

      it('refuses a bound access token sent with the Bearer scheme, or with a proof without ath or of another key', async () => {
        const key = DpopKey.create('ES256', now);
        const s = await boundSession(key);
        const logout = url('/auth/logout');
        const thief = DpopKey.create('ES256', now);
        for (const headers of <Record<string, string>[]>[
          { authorization: `Bearer ${s.access_token}` },
          {
            authorization: `Bearer ${s.access_token}`,
            dpop: key.proof({ htu: logout, accessToken: s.access_token }),
          },
          { authorization: `DPoP ${s.access_token}` },
          { authorization: `DPoP ${s.access_token}`, dpop: key.proof({ htu: logout }) },
          {
            authorization: `DPoP ${s.access_token}`,
            dpop: key.proof({ htu: logout, accessToken: 'another token' }),
          },
          {
            authorization: `DPoP ${s.access_token}`,
            dpop: thief.proof({ htu: logout, accessToken: s.access_token }),
          },
        ]) {
          await expectRefusedUnchanged(await post('b', '/auth/logout', headers), s.sid, 0);
        }
        const ok = await post('a', '/auth/logout', {
          authorization: `DPoP ${s.access_token}`,
          dpop: key.proof({ htu: logout, accessToken: s.access_token }),
        });
        expect(ok.status).toBe(200);
        expect((await row(s.sid))?.revokedReason).toBe('logout');
        // Logout's new anonymous session is bound to the key that asked for it.
        expect(claims(ok.body.content.access_token)['cnf']).toEqual({ jkt: key.jkt });
      });
    });

    describe('lost answers', () => {
      beforeEach(async () => {
        await start();
      });

      for (const [label, offline] of [
        ['inside the grace window', 5],
        ['60 s offline', 60],
        ['10 minutes offline', 600],
      ] as const) {
        it(`answers the same successor to the bound key only, ${label}`, async () => {
          const key = DpopKey.create('ES256', now);
          const s = await boundSession(key);
          const lost = await refresh('a', s.refresh_token, { dpop: refreshProof(key) });
          expect(lost.status).toBe(200);
          advance(offline);
          // The copied token without the key: refused, and it ends nothing.
          await expectRefusedUnchanged(await refresh('b', s.refresh_token), s.sid, 1);
          const thief = DpopKey.create('ES256', now);
          await expectRefusedUnchanged(
            await refresh('b', s.refresh_token, { dpop: refreshProof(thief) }),
            s.sid,
            1,
          );
          // The shopper retries with the key: the same successor, on either instance.
          const again = await refresh('b', s.refresh_token, { dpop: refreshProof(key) });
          expect(again.status).toBe(200);
          expect(again.body.content.refresh_token).toBe(lost.body.content.refresh_token);
          expect(claims(again.body.content.access_token)).toEqual(claims(lost.body.content.access_token));
          expect(await row(s.sid)).toMatchObject({ generation: 1, revokedAt: null });
          // And the session goes on from that successor.
          const on = await refresh('a', again.body.content.refresh_token, { dpop: refreshProof(key) });
          expect(on.status).toBe(200);
          expect(await row(s.sid)).toMatchObject({ generation: 2, revokedAt: null });
          expect(await pair.events()).toBe(0);
        });
      }

      it('still counts an older generation presented with the key as reuse, as for unbound sessions', async () => {
        const key = DpopKey.create('ES256', now);
        const s = await boundSession(key);
        const g1 = await refresh('a', s.refresh_token, { dpop: refreshProof(key) });
        await refresh('a', g1.body.content.refresh_token, { dpop: refreshProof(key) });
        const reuse = await refresh('b', s.refresh_token, { dpop: refreshProof(key) });
        expect(reuse.body.code).toBe('REFRESH_TOKEN_REUSED');
        expect((await row(s.sid))?.revokedReason).toBe('reuse');
        expect(await pair.events()).toBe(1);
      });

      it('leaves an unbound session as today: the grace window only, never bound by a refresh', async () => {
        const res = await post('a', '/auth/anonymous', { 'x-api-key': API_KEY });
        const token = res.body.content.refresh_token as string;
        const sid = claims(res.body.content.access_token)['sid'] as string;
        const key = DpopKey.create('ES256', now);
        const next = await refresh('a', token, { dpop: refreshProof(key) });
        expect(claims(next.body.content.access_token)['cnf']).toBeUndefined();
        expect((await row(sid))?.jkt).toBeNull();
        advance(60);
        const late = await refresh('b', token, { dpop: refreshProof(key) });
        expect(late.body.code).toBe('REFRESH_TOKEN_REUSED');
      });
    });

    describe('server nonces (DPOP_NONCE=true)', () => {
      beforeEach(async () => {
        await start({ DPOP_NONCE: 'true' });
      });

      it('asks for a nonce, and accepts one instance’s nonce on the other', async () => {
        const key = DpopKey.create('ES256', now);
        const first = await post('a', '/auth/anonymous', {
          'x-api-key': API_KEY,
          dpop: key.proof({ htu: url('/auth/anonymous') }),
        });
        expect(first.status).toBe(400);
        expect(first.body.code).toBe('DPOP_NONCE_REQUIRED');
        expect(first.headers.get('www-authenticate')).toMatch(/^DPoP error="use_dpop_nonce"/);
        const nonce = first.headers.get('dpop-nonce');
        expect(nonce).toBeTruthy();
        const created = await post('b', '/auth/anonymous', {
          'x-api-key': API_KEY,
          dpop: key.proof({ htu: url('/auth/anonymous'), nonce: nonce! }),
        });
        expect(created.status).toBe(200);
        const refreshNonce = created.headers.get('dpop-nonce')!;
        expect(refreshNonce).toBeTruthy();
        const token = created.body.content.refresh_token as string;
        const sid = claims(created.body.content.access_token)['sid'] as string;
        const wrong = await refresh('a', token, { dpop: refreshProof(key, { nonce: 'made-up' }) });
        expect(wrong.body.code).toBe('DPOP_NONCE_REQUIRED');
        expect(await row(sid)).toMatchObject({ generation: 0, revokedAt: null });
        const ok = await refresh('a', token, { dpop: refreshProof(key, { nonce: refreshNonce }) });
        expect(ok.status).toBe(200);
        // Nonces age out: far later, a new one is asked for.
        advance(3600);
        const stale = await refresh('b', ok.body.content.refresh_token, {
          dpop: refreshProof(key, { nonce: refreshNonce }),
        });
        expect(stale.body.code).toBe('DPOP_NONCE_REQUIRED');
      });
    });

    describe('store require-dpop', () => {
      beforeEach(async () => {
        await start();
      });

      it('refuses a session-creating call without a proof once the store requires binding', async () => {
        const settings = await pair.a.db.getStoreSettings(pair.a.config.storeId);
        await pair.a.db.setStoreSettings(pair.a.config.storeId, { ...settings, requireDpop: true });
        advance(pair.a.config.keyReloadInterval + 1); // instances re-read the store
        const refused = await post('b', '/auth/anonymous', { 'x-api-key': API_KEY });
        expect(refused.status).toBe(400);
        expect(refused.body.code).toBe('DPOP_PROOF_REQUIRED');
        const key = DpopKey.create('ES256', now);
        const s = await boundSession(key, 'b');
        expect((await row(s.sid))?.jkt).toBe(key.jkt);
      });
    });

    it('keeps the jti of accepted proofs in the replay store it is configured with', async () => {
      await start();
      const key = DpopKey.create('ES256', now);
      await boundSession(key);
      expect(await pair.storedProofs()).toBe(pair.replayStore === 'database' ? 1 : 0);
    });
  });
}
