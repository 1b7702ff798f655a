import { describe, expect, it } from 'vitest';
import { appPerTest, claims, refresh, sqliteDb, type TestApp } from '../helpers/app.js';
import {
  anonymousPair,
  call,
  customerSignedInTwice,
  DEBUG,
  expectCall,
  passwordLogin,
  registerCustomer,
} from '../helpers/customers.js';

let t: TestApp;
appPerTest((app) => (t = app), { OTP_DEBUG: 'true' });
const db = () => sqliteDb(t);

describe('GET and PUT /auth/user/{id}', () => {
  it("answers the caller's own user, and USER_NOT_FOUND for any other id", async () => {
    const ada = await registerCustomer(t.app);
    const bob = await registerCustomer(t.app, 'bob@example.com');
    const res = await expectCall(
      t.app,
      'get-user-detail',
      200,
      'GET',
      `/auth/user/${ada.user.id}`,
      undefined,
      { bearer: ada.access_token },
    );
    expect(res.body.content.user).toMatchObject({
      id: ada.user.id,
      email: 'ada@example.com',
      customer_group: null,
      business: null,
    });
    for (const id of [bob.user.id, 'no-such-user']) {
      const other = await expectCall(t.app, 'get-user-detail', 404, 'GET', `/auth/user/${id}`, undefined, {
        bearer: ada.access_token,
      });
      expect(other.body.code).toBe('USER_NOT_FOUND');
    }
    const none = await expectCall(t.app, 'get-user-detail', 401, 'GET', `/auth/user/${ada.user.id}`);
    expect(none.body.code).toBe('UNAUTHORIZED');
  });

  it('updates the writable fields; a new email becomes unverified; read-only fields are ignored', async () => {
    const ada = await registerCustomer(t.app);
    const res = await expectCall(
      t.app,
      'update-user',
      200,
      'PUT',
      `/auth/user/${ada.user.id}`,
      {
        first_name: 'Augusta',
        email: 'augusta@example.com',
        notification_preferences: {
          transactional: { email: true, sms: false, whatsapp: false },
          promotional: { email: true, sms: false, whatsapp: false },
          newsletter: { email: false, sms: false, whatsapp: false },
        },
        id: 'hijack',
        is_email_verified: true,
        customer_group_id: 'vip',
      },
      { bearer: ada.access_token },
    );
    expect(res.body.content.user).toMatchObject({
      id: ada.user.id,
      first_name: 'Augusta',
      last_name: 'Lovelace',
      email: 'augusta@example.com',
      is_email_verified: false,
      notification_preferences: { promotional: { email: true } },
    });
    expect(db().prepare('SELECT customer_group_id FROM users WHERE id = ?').get(ada.user.id)).toEqual({
      customer_group_id: null,
    });
  });

  it('refuses bad values, changing nothing', async () => {
    const ada = await registerCustomer(t.app);
    for (const body of [
      { email: 'nope' },
      { first_name: 7 },
      { email: null },
      { login_methods: ['carrier-pigeon'] },
    ]) {
      const res = await expectCall(t.app, 'update-user', 400, 'PUT', `/auth/user/${ada.user.id}`, body, {
        bearer: ada.access_token,
      });
      expect(res.body.code).toBe('BAD_REQUEST');
    }
    const after = await call(t.app, 'GET', `/auth/user/${ada.user.id}`, undefined, {
      bearer: ada.access_token,
    });
    expect(after.body.content.user).toMatchObject({ email: 'ada@example.com', first_name: 'Ada' });
  });
});

describe('deactivate and delete', () => {
  it('deactivate ends every session (SESSION_REVOKED) and refuses later logins', async () => {
    const [ada, other] = await customerSignedInTwice(t.app);
    const res = await expectCall(
      t.app,
      'deactivate-user',
      200,
      'PUT',
      `/auth/user/${ada.user.id}/deactivate`,
      undefined,
      { bearer: ada.access_token },
    );
    expect(res.body).toEqual({ message: expect.any(String), success: true });
    for (const token of [ada.refresh_token, other.refresh_token]) {
      const r = await refresh(t.app, token);
      expect(r.status).toBe(400);
      expect(r.body.code).toBe('SESSION_REVOKED');
    }
    expect((await passwordLogin(t.app)).body.code).toBe('INVALID_CREDENTIALS');
    const code = (
      await call(t.app, 'POST', '/auth/login/email', { email: 'ada@example.com' }, { headers: DEBUG })
    ).body.content;
    const login = await call(t.app, 'POST', '/auth/verify-otp', { ...code, otp_action: 'login' });
    expect(login.body.code).toBe('USER_NOT_FOUND');
  });

  it('delete removes the user: refresh answers 404 SESSION_NOT_FOUND, and the email is free again', async () => {
    const ada = await registerCustomer(t.app);
    const bob = await registerCustomer(t.app, 'bob@example.com');
    const notMine = await expectCall(
      t.app,
      'delete-user',
      404,
      'DELETE',
      `/auth/user/${bob.user.id}`,
      undefined,
      { bearer: ada.access_token },
    );
    expect(notMine.body.code).toBe('USER_NOT_FOUND');
    await expectCall(t.app, 'delete-user', 200, 'DELETE', `/auth/user/${ada.user.id}`, undefined, {
      bearer: ada.access_token,
    });
    const r = await refresh(t.app, ada.refresh_token);
    expect(r.status).toBe(404);
    expect(r.body.code).toBe('SESSION_NOT_FOUND');
    expect((await refresh(t.app, bob.refresh_token)).status).toBe(200);
    const again = await registerCustomer(t.app);
    expect(again.user.id).not.toBe(ada.user.id);
  });

  it('needs a Bearer', async () => {
    const ada = await registerCustomer(t.app);
    const res = await expectCall(
      t.app,
      'deactivate-user',
      401,
      'PUT',
      `/auth/user/${ada.user.id}/deactivate`,
    );
    expect(res.body.code).toBe('UNAUTHORIZED');
    expect((await refresh(t.app, ada.refresh_token)).status).toBe(200);
  });
});

describe('verify and update email or phone', () => {
  it('update-email: generate-otp to the new address, verify-otp switches it and re-mints the session', async () => {
    const ada = await registerCustomer(t.app);
    const sent = await expectCall(
      t.app,
      'generate-otp',
      200,
      'POST',
      '/auth/generate-otp',
      {
        channel: 'email',
        email: 'new-ada@example.com',
        otp_action: 'update-email',
      },
      { bearer: ada.access_token, headers: DEBUG },
    );
    const res = await expectCall(
      t.app,
      'verify-otp',
      200,
      'POST',
      '/auth/verify-otp',
      {
        otp: sent.body.content.otp,
        otp_token: sent.body.content.otp_token,
        otp_action: 'update-email',
      },
      { bearer: ada.access_token },
    );
    expect(res.body.content.user).toMatchObject({ email: 'new-ada@example.com', is_email_verified: true });
    expect(claims(res.body.content.access_token)['email']).toBe('new-ada@example.com');
    expect((await refresh(t.app, ada.refresh_token)).body.code).toBe('SESSION_REVOKED');
  });

  it('verify-phone: a phone set by PUT is verified with a code; verified-email-phone reports only own values', async () => {
    const ada = await registerCustomer(t.app);
    await call(
      t.app,
      'PUT',
      `/auth/user/${ada.user.id}`,
      { phone: '9123456789' },
      { bearer: ada.access_token },
    );
    const notMine = await call(
      t.app,
      'POST',
      '/auth/generate-otp',
      { channel: 'sms', phone: '9000000000', otp_action: 'verify-phone' },
      { bearer: ada.access_token },
    );
    expect(notMine.body.code).toBe('BAD_REQUEST');
    const sent = (
      await call(
        t.app,
        'POST',
        '/auth/generate-otp',
        { channel: 'sms', phone: '9123456789', otp_action: 'verify-phone' },
        { bearer: ada.access_token, headers: DEBUG },
      )
    ).body.content;
    const verified = await call(
      t.app,
      'POST',
      '/auth/verify-otp',
      { otp: sent.otp, otp_token: sent.otp_token, otp_action: 'verify-phone' },
      { bearer: ada.access_token },
    );
    expect(verified.body.content.user.is_phone_verified).toBe(true);
    const bob = await registerCustomer(t.app, 'bob@example.com');
    const status = await expectCall(
      t.app,
      'check-verification-status',
      200,
      'POST',
      '/auth/verified-email-phone',
      {
        email: ['ada@example.com', 'bob@example.com'],
        phone: ['9123456789', '9000000000'],
      },
      { bearer: verified.body.content.access_token },
    );
    expect(status.body.content).toEqual({
      verified_email: ['ada@example.com'],
      verified_phone: ['9123456789'],
    });
    expect(bob.user.is_email_verified).toBe(true);
  });

  it("refuses account-change codes without the customer's Bearer, before spending them", async () => {
    const ada = await registerCustomer(t.app);
    const sent = (
      await call(
        t.app,
        'POST',
        '/auth/generate-otp',
        { channel: 'email', email: 'x@example.com', otp_action: 'update-email' },
        { bearer: ada.access_token, headers: DEBUG },
      )
    ).body.content;
    const anon = await anonymousPair(t.app);
    const res = await call(
      t.app,
      'POST',
      '/auth/verify-otp',
      { otp: sent.otp, otp_token: sent.otp_token, otp_action: 'update-email' },
      { bearer: anon.access_token },
    );
    expect(res.status).toBe(401);
    const ok = await call(
      t.app,
      'POST',
      '/auth/verify-otp',
      { otp: sent.otp, otp_token: sent.otp_token, otp_action: 'update-email' },
      { bearer: ada.access_token },
    );
    expect(ok.status).toBe(200);
    const generateNoBearer = await expectCall(t.app, 'generate-otp', 401, 'POST', '/auth/generate-otp', {
      channel: 'email',
      email: 'y@example.com',
      otp_action: 'verify-email',
    });
    expect(generateNoBearer.body.code).toBe('UNAUTHORIZED');
    const mixed = await expectCall(t.app, 'generate-otp', 400, 'POST', '/auth/generate-otp', {
      channel: 'email',
      phone: '9123456789',
      otp_action: 'verify-phone',
    });
    expect(mixed.body.code).toBe('BAD_REQUEST');
  });
});
