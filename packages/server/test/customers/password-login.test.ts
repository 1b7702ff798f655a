import { describe, expect, it } from 'vitest';
import { appPerTest, claims, customerPair, refresh, sqliteDb, type TestApp } from '../helpers/app.js';
import { anonymousPair, call, DEBUG, expectCall, PASSWORD, registerCustomer } from '../helpers/customers.js';

let t: TestApp;
appPerTest((app) => (t = app), { OTP_DEBUG: 'true' });
const db = () => sqliteDb(t);
const count = (table: string) =>
  (db().prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

describe('register with password, verify, log in', () => {
  it('creates the account only at verify-otp, and signs the customer in', async () => {
    const started = await expectCall(
      t.app,
      'register-with-password',
      200,
      'POST',
      '/auth/register/password',
      {
        email: 'Ada@Example.com',
        password: PASSWORD,
        confirm_password: PASSWORD,
      },
      { headers: DEBUG },
    );
    expect(started.body.content).toMatchObject({
      otp_action: 'register',
      otp: expect.stringMatching(/^\d{6}$/),
    });
    expect(count('users WHERE is_anonymous = 0')).toBe(0);

    const { otp_token, otp } = started.body.content;
    const res = await expectCall(t.app, 'verify-otp', 200, 'POST', '/auth/verify-otp', {
      otp,
      otp_token,
      otp_action: 'register',
    });
    const { user, access_token, refresh_token } = res.body.content;
    expect(user).toMatchObject({
      email: 'ada@example.com',
      is_email_verified: true,
      is_anonymous: false,
      is_logged_in: true,
      login_methods: expect.arrayContaining(['password', 'email']),
    });
    expect(claims(access_token)).toMatchObject({
      is_logged_in: true,
      is_anonymous: false,
      customer_id: user.customer_id,
      email: 'ada@example.com',
      ulid: user.id,
    });
    expect(claims(refresh_token).sub).toBe(user.id);
    // The password is stored as an argon2id hash, never in clear.
    const row = db().prepare('SELECT password_hash FROM users WHERE id = ?').get(user.id) as {
      password_hash: string;
    };
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('registers by phone (default country code +91), and logs in by phone', async () => {
    const started = await expectCall(
      t.app,
      'register-with-password',
      200,
      'POST',
      '/auth/register/password',
      {
        phone: '9876543210',
        password: PASSWORD,
        confirm_password: PASSWORD,
      },
      { headers: DEBUG },
    );
    const { otp_token, otp } = started.body.content;
    const verified = await expectCall(t.app, 'verify-otp', 200, 'POST', '/auth/verify-otp', {
      otp,
      otp_token,
      otp_action: 'register',
    });
    expect(verified.body.content.user).toMatchObject({
      phone: '9876543210',
      country_code: '+91',
      is_phone_verified: true,
    });
    const login = await expectCall(t.app, 'login-with-password', 200, 'POST', '/auth/login/password', {
      phone: '9876543210',
      country_code: '+91',
      password: PASSWORD,
    });
    expect(login.body.content.user.id).toBe(verified.body.content.user.id);
  });

  it('refuses mismatched and weak passwords, and writes nothing', async () => {
    const mismatch = await expectCall(
      t.app,
      'register-with-password',
      400,
      'POST',
      '/auth/register/password',
      {
        email: 'a@example.com',
        password: PASSWORD,
        confirm_password: `${PASSWORD}!`,
      },
    );
    expect(mismatch.body.code).toBe('PASSWORD_MISMATCH');
    const weak = await expectCall(t.app, 'register-with-password', 400, 'POST', '/auth/register/password', {
      email: 'a@example.com',
      password: 'short',
      confirm_password: 'short',
    });
    expect(weak.body.code).toBe('WEAK_PASSWORD');
    expect(count('otps')).toBe(0);
    expect(count('users')).toBe(0);
  });

  it('refuses a body without email or phone, with a bad email, or with wrong types', async () => {
    for (const payload of [
      { password: PASSWORD, confirm_password: PASSWORD },
      { email: 'not-an-email', password: PASSWORD, confirm_password: PASSWORD },
      { email: 42, password: PASSWORD, confirm_password: PASSWORD },
      { email: 'a@example.com', password: PASSWORD },
    ]) {
      const res = await expectCall(
        t.app,
        'register-with-password',
        400,
        'POST',
        '/auth/register/password',
        payload,
      );
      expect(res.body.code).toBe('BAD_REQUEST');
    }
    expect(count('otps')).toBe(0);
  });

  it('answers USER_EXISTS (400, as the contract declares) for a registered email, at start and at verification', async () => {
    const start = () =>
      call(
        t.app,
        'POST',
        '/auth/register/password',
        { email: 'dup@example.com', password: PASSWORD, confirm_password: PASSWORD },
        { headers: DEBUG },
      );
    const first = await start();
    const second = await start();
    // Both pending: whichever verifies first wins, the other gets USER_EXISTS.
    const a = first.body.content;
    const b = second.body.content;
    await expectCall(t.app, 'verify-otp', 200, 'POST', '/auth/verify-otp', {
      otp: a.otp,
      otp_token: a.otp_token,
      otp_action: 'register',
    });
    const late = await expectCall(t.app, 'verify-otp', 400, 'POST', '/auth/verify-otp', {
      otp: b.otp,
      otp_token: b.otp_token,
      otp_action: 'register',
    });
    expect(late.body.code).toBe('USER_EXISTS');
    const again = await expectCall(t.app, 'register-with-password', 400, 'POST', '/auth/register/password', {
      email: 'DUP@example.com',
      password: PASSWORD,
      confirm_password: PASSWORD,
    });
    expect(again.body.code).toBe('USER_EXISTS');
    expect(count('users WHERE is_anonymous = 0')).toBe(1);
  });

  it('logs in with the password; unknown user and wrong password get the identical answer', async () => {
    const customer = await registerCustomer(t.app);
    const ok = await expectCall(t.app, 'login-with-password', 200, 'POST', '/auth/login/password', {
      email: 'ADA@example.com',
      password: PASSWORD,
    });
    expect(ok.body.content.user.id).toBe(customer.user.id);
    expect(claims(ok.body.content.access_token)).toMatchObject({
      first_name: 'Ada',
      last_name: 'Lovelace',
      is_logged_in: true,
    });

    const wrong = await expectCall(t.app, 'login-with-password', 401, 'POST', '/auth/login/password', {
      email: 'ada@example.com',
      password: 'not the password',
    });
    const unknown = await expectCall(t.app, 'login-with-password', 401, 'POST', '/auth/login/password', {
      email: 'nobody@example.com',
      password: 'not the password',
    });
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body.code).toBe('INVALID_CREDENTIALS');
  });

  it('refuses both email and phone at once, and neither', async () => {
    for (const payload of [
      { email: 'a@example.com', phone: '9876543210', password: PASSWORD },
      { password: PASSWORD },
    ]) {
      const res = await expectCall(
        t.app,
        'login-with-password',
        400,
        'POST',
        '/auth/login/password',
        payload,
      );
      expect(res.body.code).toBe('BAD_REQUEST');
    }
  });

  it('rate limits password attempts per account (429 with Retry-After)', async () => {
    await registerCustomer(t.app);
    let last = await call(t.app, 'POST', '/auth/login/password', {
      email: 'ada@example.com',
      password: 'wrong-password',
    });
    for (let i = 0; i < 10; i++) {
      last = await call(t.app, 'POST', '/auth/login/password', {
        email: 'ada@example.com',
        password: 'wrong-password',
      });
    }
    expect(last.status).toBe(429);
    expect(last.body.code).toBe('RATE_LIMITED');
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
    expect(last.body).toMatchObject({ success: false, message: expect.any(String) });
  });
});

describe('logging in from an anonymous session', () => {
  /** The registered customer's password login, sent with `bearer` as the Authorization header. */
  const loginWithBearer = (bearer: string) =>
    expectCall(
      t.app,
      'login-with-password',
      200,
      'POST',
      '/auth/login/password',
      { email: 'ada@example.com', password: PASSWORD },
      { bearer },
    );

  it('carries the anonymous id, revokes the anonymous session, and mints a customer token', async () => {
    await registerCustomer(t.app);
    const anon = await anonymousPair(t.app);
    const res = await loginWithBearer(anon.access_token);
    const c = claims(res.body.content.access_token);
    expect(c).toMatchObject({ anonymous_id: anon.user.id, is_logged_in: true, is_anonymous: false });
    expect(c['sid']).not.toBe(claims(anon.access_token)['sid']);
    const old = await refresh(t.app, anon.refresh_token);
    expect(old.body.code).toBe('SESSION_REVOKED');
  });

  it('also at verify-otp of a registration', async () => {
    const anon = await anonymousPair(t.app);
    const customer = await registerCustomer(t.app, 'grace@example.com', { bearer: anon.access_token });
    expect(claims(customer.access_token)['anonymous_id']).toBe(anon.user.id);
    expect((await refresh(t.app, anon.refresh_token)).body.code).toBe('SESSION_REVOKED');
  });

  it('ignores a Bearer that is not a valid anonymous token: the session starts a lineage of its own', async () => {
    const customer = await registerCustomer(t.app);
    const res = await loginWithBearer('garbage.token.here');
    const lineage = claims(res.body.content.access_token)['anonymous_id'];
    // The Commerce Engine SDK types anonymous_id as a string: a fresh id, no one else's.
    expect(lineage).toEqual(expect.any(String));
    expect(lineage).not.toBe(customer.user.id);
    expect(lineage).not.toBe(claims(customer.access_token)['anonymous_id']);
    // Derived from the session row, so a refresh keeps it.
    const refreshed = await refresh(t.app, res.body.content.refresh_token);
    expect(claims(refreshed.body.content.access_token)['anonymous_id']).toBe(lineage);
  });

  it('a customer session whose row has no lineage (opened before sign-ins minted one) names its own id', async () => {
    const pair = await customerPair(t);
    const c = claims(pair.access_token);
    expect(c['anonymous_id']).toBe(c['sid']);
    const refreshed = await refresh(t.app, pair.refresh_token);
    expect(claims(refreshed.body.content.access_token)['anonymous_id']).toBe(c['sid']);
  });
});

describe('logout', () => {
  it('revokes the session and answers a fresh anonymous pair with user', async () => {
    const customer = await registerCustomer(t.app);
    const res = await expectCall(t.app, 'logout', 200, 'POST', '/auth/logout', undefined, {
      bearer: customer.access_token,
    });
    const { user, access_token, refresh_token } = res.body.content;
    expect(user).toMatchObject({ is_anonymous: true, is_logged_in: false });
    expect(user.id).not.toBe(customer.user.id);
    expect(claims(access_token)).toMatchObject({ is_anonymous: true, is_logged_in: false });
    expect((await refresh(t.app, customer.refresh_token)).body.code).toBe('SESSION_REVOKED');
    expect((await refresh(t.app, refresh_token)).status).toBe(200);
    // The revoked session's access token no longer logs out (or does anything else).
    const again = await expectCall(t.app, 'logout', 401, 'POST', '/auth/logout', undefined, {
      bearer: customer.access_token,
    });
    expect(again.body.code).toBe('UNAUTHORIZED');
  });

  it("accepts the SDK's empty JSON body, and refuses a missing Bearer", async () => {
    const customer = await registerCustomer(t.app);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/demo/storefront/auth/logout',
      headers: { authorization: `Bearer ${customer.access_token}`, 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(200);
    const none = await expectCall(t.app, 'logout', 401, 'POST', '/auth/logout');
    expect(none.body.code).toBe('UNAUTHORIZED');
  });
});
