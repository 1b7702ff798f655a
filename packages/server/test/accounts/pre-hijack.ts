import { expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { refresh } from '../helpers/app.js';
import { call, DEBUG, PASSWORD, registerCustomer, resetPasswordByCode } from '../helpers/customers.js';

export const VICTIM_EMAIL = 'owner@example.com';
export const VICTIM_PHONE = { phone: '9876500001', country_code: '+91' };
const SQUATTER_PASSWORD = 'squatter knows this one';

/** A customer who registered with a password, then put the victim's email on their account with PUT. */
export async function emailSquatter(t: TestApp) {
  const squatter = await registerCustomer(t.app, 'squatter@example.com', { password: SQUATTER_PASSWORD });
  const put = await call(
    t.app,
    'PUT',
    `/auth/user/${squatter.user.id}`,
    { email: VICTIM_EMAIL },
    { bearer: squatter.access_token },
  );
  expect(put.status).toBe(200);
  return { squatter, put };
}

async function verify(t: TestApp, code: { otp: string; otp_token: string }, action: string, bearer?: string) {
  return call(
    t.app,
    'POST',
    '/auth/verify-otp',
    { otp: code.otp, otp_token: code.otp_token, otp_action: action },
    bearer ? { bearer } : {},
  );
}

async function otpLogin(t: TestApp, path: string, body: object) {
  const sent = await call(t.app, 'POST', path, { ...body, register_if_not_exists: true }, { headers: DEBUG });
  expect(sent.status, JSON.stringify(sent.body)).toBe(200);
  const res = await verify(t, sent.body.content, 'login');
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.content as { user: any; access_token: string; refresh_token: string };
}

/** What the squatter still holds must no longer reach the owner's account. */
async function expectSquatterLocksOut(
  t: TestApp,
  squatter: { user: any; access_token: string; refresh_token: string },
  owner: { user: any },
  login: object,
) {
  expect(owner.user.id).not.toBe(squatter.user.id);
  const byPassword = await call(t.app, 'POST', '/auth/login/password', {
    ...login,
    password: SQUATTER_PASSWORD,
  });
  expect(byPassword.status).toBe(401);
  expect(byPassword.body.code).toBe('INVALID_CREDENTIALS');
  const peek = await call(t.app, 'GET', `/auth/user/${owner.user.id}`, undefined, {
    bearer: squatter.access_token,
  });
  expect(peek.body.code).toBe('USER_NOT_FOUND');
  // The squatter's session still refreshes, into the squatter's own account and nothing else.
  const refreshed = await refresh(t.app, squatter.refresh_token);
  expect(refreshed.status).toBe(200);
  const payload = JSON.parse(
    Buffer.from(refreshed.body.content.access_token.split('.')[1], 'base64url').toString(),
  );
  expect(payload.sub).toBe(squatter.user.id);
  expect(payload.email).not.toBe(VICTIM_EMAIL);
}

/**
 * Finding 1 of issue 18 (pre-account hijacking), over HTTP, on whatever database `app()` opens:
 * the regression tests are named after the attack.
 */
export function preHijackScenarios(app: () => TestApp): void {
  it('pre-account hijacking: an email squatted through PUT /auth/user neither blocks nor captures its owner', async () => {
    const t = app();
    const { squatter, put } = await emailSquatter(t);
    expect(put.body.content.user).toMatchObject({ email: VICTIM_EMAIL, is_email_verified: false });
    // Pending: no password login through it.
    const early = await call(t.app, 'POST', '/auth/login/password', {
      email: VICTIM_EMAIL,
      password: SQUATTER_PASSWORD,
    });
    expect(early.body.code).toBe('INVALID_CREDENTIALS');

    // The owner registers: not USER_EXISTS; a clean account of their own.
    const owner = await registerCustomer(t.app, VICTIM_EMAIL);
    expect(owner.user).toMatchObject({ email: VICTIM_EMAIL, is_email_verified: true });
    const squatterNow = await call(t.app, 'GET', `/auth/user/${squatter.user.id}`, undefined, {
      bearer: squatter.access_token,
    });
    expect(squatterNow.body.content.user.email).toBeNull();

    // And by OTP they land in that account, not the squatter's.
    const byCode = await otpLogin(t, '/auth/login/email', { email: VICTIM_EMAIL });
    expect(byCode.user.id).toBe(owner.user.id);
    await expectSquatterLocksOut(t, squatter, owner, { email: VICTIM_EMAIL });
    // The owner's own password works.
    expect(
      (await call(t.app, 'POST', '/auth/login/password', { email: VICTIM_EMAIL, password: PASSWORD })).status,
    ).toBe(200);
  });

  it('pre-account hijacking: an OTP login of the owner never lands in the squatter’s account', async () => {
    const t = app();
    const { squatter } = await emailSquatter(t);
    const owner = await otpLogin(t, '/auth/login/email', { email: VICTIM_EMAIL });
    expect(owner.user).toMatchObject({
      email: VICTIM_EMAIL,
      is_email_verified: true,
      login_methods: ['email'],
    });
    await expectSquatterLocksOut(t, squatter, owner, { email: VICTIM_EMAIL });
  });

  it('pre-account hijacking: a phone squatted at registration neither blocks nor captures its owner', async () => {
    const t = app();
    // register/email attaches a phone the squatter never proves.
    const attach = await call(
      t.app,
      'POST',
      '/auth/register/email',
      { email: 'squatter2@example.com', first_name: 'Sq', ...VICTIM_PHONE },
      { headers: DEBUG },
    );
    expect(attach.status, JSON.stringify(attach.body)).toBe(200);
    const squatter = (await verify(t, attach.body.content, 'register')).body.content;
    expect(squatter.user).toMatchObject({ phone: VICTIM_PHONE.phone, is_phone_verified: false });
    // Give the squatter a password too, so a password login through the phone would be possible.
    const withPassword = await resetPasswordByCode(
      t.app,
      { email: 'squatter2@example.com' },
      SQUATTER_PASSWORD,
    );
    expect(withPassword.status).toBe(200);
    const held = withPassword.body.content;
    expect(
      (await call(t.app, 'POST', '/auth/login/password', { ...VICTIM_PHONE, password: SQUATTER_PASSWORD }))
        .body.code,
    ).toBe('INVALID_CREDENTIALS');

    // The owner registers by phone: not USER_EXISTS.
    const ownerStart = await call(
      t.app,
      'POST',
      '/auth/register/phone',
      { ...VICTIM_PHONE, first_name: 'Owner' },
      { headers: DEBUG },
    );
    expect(ownerStart.status, JSON.stringify(ownerStart.body)).toBe(200);
    const owner = (await verify(t, ownerStart.body.content, 'register')).body.content;
    expect(owner.user).toMatchObject({ phone: VICTIM_PHONE.phone, is_phone_verified: true });
    const squatterNow = await call(t.app, 'GET', `/auth/user/${squatter.user.id}`, undefined, {
      bearer: held.access_token,
    });
    expect(squatterNow.body.content.user).toMatchObject({ phone: null, country_code: null });
    const byCode = await otpLogin(t, '/auth/login/phone', VICTIM_PHONE);
    expect(byCode.user.id).toBe(owner.user.id);
    await expectSquatterLocksOut(t, held, owner, VICTIM_PHONE);
  });

  it('an account holder who proves a pending email on their own account simply gains it', async () => {
    const t = app();
    const me = await registerCustomer(t.app, 'me@example.com');
    await call(
      t.app,
      'PUT',
      `/auth/user/${me.user.id}`,
      { email: 'new@example.com' },
      { bearer: me.access_token },
    );
    const sent = await call(
      t.app,
      'POST',
      '/auth/generate-otp',
      { channel: 'email', email: 'new@example.com', otp_action: 'update-email' },
      { bearer: me.access_token, headers: DEBUG },
    );
    expect(sent.status, JSON.stringify(sent.body)).toBe(200);
    const done = await verify(t, sent.body.content, 'update-email', me.access_token);
    expect(done.status).toBe(200);
    expect(done.body.content.user).toMatchObject({
      id: me.user.id,
      email: 'new@example.com',
      is_email_verified: true,
    });
    expect(
      (await call(t.app, 'POST', '/auth/login/password', { email: 'new@example.com', password: PASSWORD }))
        .status,
    ).toBe(200);
  });

  it('the squatter who proves the email later than its owner gets USER_EXISTS, and gains nothing', async () => {
    const t = app();
    const squatter = await registerCustomer(t.app, 'squatter@example.com');
    const sent = await call(
      t.app,
      'POST',
      '/auth/generate-otp',
      { channel: 'email', email: VICTIM_EMAIL, otp_action: 'update-email' },
      { bearer: squatter.access_token, headers: DEBUG },
    );
    const owner = await registerCustomer(t.app, VICTIM_EMAIL);
    // (The code went to the owner's inbox: only a squatter who reads it could even try this.)
    const late = await verify(t, sent.body.content, 'update-email', squatter.access_token);
    expect(late.body.code).toBe('USER_EXISTS');
    const stillOwner = await call(t.app, 'GET', `/auth/user/${owner.user.id}`, undefined, {
      bearer: owner.access_token,
    });
    expect(stillOwner.body.content.user).toMatchObject({ email: VICTIM_EMAIL, is_email_verified: true });
  });
}
