import { describe, expect, it } from 'vitest';
import { appPerTest, BASE, claims, type TestApp } from '../helpers/app.js';
import { call, DEBUG, PASSWORD, passwordLogin, registerCustomer } from '../helpers/customers.js';
import { DpopKey, INJECT_ORIGIN } from '../helpers/dpop.js';

let t: TestApp;
appPerTest((app) => (t = app), { OTP_DEBUG: 'true' });

const htu = (path: string) => `${INJECT_ORIGIN}${BASE}${path}`;
const jktOf = (token: string) => (claims(token)['cnf'] as { jkt?: string } | undefined)?.jkt;
async function rowJkt(token: string) {
  return (await t.db.getSession(claims(token)['sid'] as string))?.session.jkt;
}

/** The headers of a bound access token's call: the DPoP scheme and a proof with ath. */
const boundCall = (key: DpopKey, path: string, token: string, htm = 'POST') => ({
  authorization: `DPoP ${token}`,
  dpop: key.proof({ htm, htu: htu(path), accessToken: token }),
});

describe('every session-creating route binds the session it opens to the proof key', () => {
  it('register + verify-otp, login/password, change-password, logout and reset-password', async () => {
    const key = DpopKey.create('ES256', t.clock.now);
    // register/password starts a flow (no session); verify-otp opens the session.
    const started = await call(
      t.app,
      'POST',
      '/auth/register/password',
      { email: 'ada@example.com', password: PASSWORD, confirm_password: PASSWORD },
      { headers: { ...DEBUG, dpop: key.proof({ htu: htu('/auth/register/password') }) } },
    );
    expect(started.status).toBe(200);
    const verified = await call(
      t.app,
      'POST',
      '/auth/verify-otp',
      { otp: started.body.content.otp, otp_token: started.body.content.otp_token, otp_action: 'register' },
      { headers: { dpop: key.proof({ htu: htu('/auth/verify-otp') }) } },
    );
    expect(verified.status).toBe(200);
    expect(jktOf(verified.body.content.access_token)).toBe(key.jkt);
    expect(await rowJkt(verified.body.content.access_token)).toBe(key.jkt);

    const other = DpopKey.create('EdDSA', t.clock.now);
    const login = await call(
      t.app,
      'POST',
      '/auth/login/password',
      { email: 'ada@example.com', password: PASSWORD },
      { headers: { dpop: other.proof({ htu: htu('/auth/login/password') }) } },
    );
    expect(login.status).toBe(200);
    const loginToken = login.body.content.access_token as string;
    expect(jktOf(loginToken)).toBe(other.jkt);

    // The bound customer reads their account with the DPoP scheme; Bearer is refused.
    const userPath = `/auth/user/${login.body.content.user.id}`;
    expect((await call(t.app, 'GET', userPath, undefined, { bearer: loginToken })).body.code).toBe(
      'DPOP_PROOF_INVALID',
    );
    const user = await t.app.inject({
      method: 'GET',
      url: `${BASE}${userPath}`,
      headers: boundCall(other, userPath, loginToken, 'GET'),
    });
    expect(user.statusCode).toBe(200);

    const NEW = 'a brand new passphrase';
    const changed = await call(
      t.app,
      'POST',
      '/auth/change-password',
      { old_password: PASSWORD, new_password: NEW, confirm_password: NEW },
      { headers: boundCall(other, '/auth/change-password', loginToken) },
    );
    expect(changed.status).toBe(200);
    expect(jktOf(changed.body.content.access_token)).toBe(other.jkt);

    const logout = await call(t.app, 'POST', '/auth/logout', undefined, {
      headers: boundCall(other, '/auth/logout', changed.body.content.access_token),
    });
    expect(logout.status).toBe(200);
    expect(jktOf(logout.body.content.access_token)).toBe(other.jkt);

    const sent = await call(
      t.app,
      'POST',
      '/auth/forgot-password',
      { email: 'ada@example.com' },
      { headers: DEBUG },
    );
    const third = DpopKey.create('ES256', t.clock.now);
    const reset = await call(
      t.app,
      'POST',
      '/auth/reset-password',
      {
        otp: sent.body.content.otp,
        otp_token: sent.body.content.otp_token,
        new_password: PASSWORD,
        confirm_password: PASSWORD,
      },
      { headers: { dpop: third.proof({ htu: htu('/auth/reset-password') }) } },
    );
    expect(reset.status).toBe(200);
    expect(jktOf(reset.body.content.access_token)).toBe(third.jkt);
  });

  it('opens unbound sessions without a proof, as before', async () => {
    const customer = await registerCustomer(t.app);
    expect(jktOf(customer.access_token)).toBeUndefined();
    const login = await passwordLogin(t.app);
    expect(jktOf(login.body.content.access_token)).toBeUndefined();
    expect(await rowJkt(login.body.content.access_token)).toBeNull();
  });

  it('refuses a session-creating call whose proof is invalid, and opens nothing', async () => {
    await registerCustomer(t.app);
    const key = DpopKey.create('ES256', t.clock.now);
    const before = await t.db.operator().countActiveSessions(t.clock.now());
    const res = await call(
      t.app,
      'POST',
      '/auth/login/password',
      { email: 'ada@example.com', password: PASSWORD },
      { headers: { dpop: key.proof({ htu: htu('/auth/anonymous') }) } },
    );
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('DPOP_PROOF_INVALID');
    expect(await t.db.operator().countActiveSessions(t.clock.now())).toBe(before);
  });
});
