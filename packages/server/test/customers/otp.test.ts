import { afterEach, describe, expect, it } from 'vitest';
import type { SqliteDatabase } from '../../src/storage/sqlite/store.js';
import { claims, makeTestApp, type TestApp } from '../helpers/app.js';
import { call, DEBUG, expectCall, registerCustomer } from '../helpers/customers.js';

let t: TestApp;
afterEach(async () => {
  await t?.close();
});
const db = () => (t.db as SqliteDatabase).sqlite;

async function start(env: Record<string, string> = { OTP_DEBUG: 'true' }) {
  t = await makeTestApp(env);
}

async function loginCode(email = 'ada@example.com', extra: Record<string, unknown> = {}) {
  const res = await expectCall(
    t.app,
    'login-with-email',
    200,
    'POST',
    '/auth/login/email',
    { email, ...extra },
    { headers: DEBUG },
  );
  return res.body.content as { otp_token: string; otp_action: string; otp: string };
}

const verify = (otp_token: string, otp: string, otp_action = 'login') =>
  call(t.app, 'POST', '/auth/verify-otp', { otp, otp_token, otp_action });

describe('OTP login', () => {
  it('sends a code and signs in at verify-otp with otp_action login', async () => {
    await start();
    const customer = await registerCustomer(t.app);
    const code = await loginCode();
    expect(code.otp_action).toBe('login');
    const res = await expectCall(t.app, 'verify-otp', 200, 'POST', '/auth/verify-otp', {
      otp: code.otp,
      otp_token: code.otp_token,
      otp_action: 'login',
    });
    expect(res.body.content.user.id).toBe(customer.user.id);
    expect(claims(res.body.content.access_token)).toMatchObject({
      is_logged_in: true,
      customer_id: customer.user.customer_id,
    });
  });

  it('sends a code to an unknown identifier too; verify-otp answers USER_NOT_FOUND unless register_if_not_exists', async () => {
    await start();
    const unknown = await loginCode('new@example.com');
    const refused = await expectCall(t.app, 'verify-otp', 404, 'POST', '/auth/verify-otp', {
      otp: unknown.otp,
      otp_token: unknown.otp_token,
      otp_action: 'login',
    });
    expect(refused.body.code).toBe('USER_NOT_FOUND');
    const code = await loginCode('new@example.com', { register_if_not_exists: true });
    const res = await expectCall(t.app, 'verify-otp', 200, 'POST', '/auth/verify-otp', {
      otp: code.otp,
      otp_token: code.otp_token,
      otp_action: 'login',
    });
    expect(res.body.content.user).toMatchObject({
      email: 'new@example.com',
      is_email_verified: true,
      login_methods: ['email'],
    });
  });

  it('works by phone and WhatsApp', async () => {
    await start();
    for (const [path, op] of [
      ['/auth/login/phone', 'login-with-phone'],
      ['/auth/login/whatsapp', 'login-with-whatsapp'],
    ] as const) {
      const sent = await expectCall(
        t.app,
        op,
        200,
        'POST',
        path,
        { phone: '9000000001', register_if_not_exists: true },
        { headers: DEBUG },
      );
      const res = await verify(sent.body.content.otp_token, sent.body.content.otp);
      expect(res.status).toBe(200);
      expect(res.body.content.user).toMatchObject({
        phone: '9000000001',
        country_code: '+91',
        is_phone_verified: true,
      });
    }
  });

  it('answers the code only with x-debug-mode: true on a store that allows it', async () => {
    await start({});
    await registerDirect();
    const off = await expectCall(
      t.app,
      'login-with-email',
      200,
      'POST',
      '/auth/login/email',
      { email: 'ada@example.com' },
      { headers: DEBUG },
    );
    expect(off.body.content).not.toHaveProperty('otp');
    await t.db.setStoreSettings('demo', { otpDebug: true, audience: null });
    const on = await call(
      t.app,
      'POST',
      '/auth/login/email',
      { email: 'ada@example.com' },
      { headers: DEBUG },
    );
    expect(on.body.content.otp).toMatch(/^\d{6}$/);
    const noHeader = await call(t.app, 'POST', '/auth/login/email', { email: 'ada@example.com' });
    expect(noHeader.body.content).not.toHaveProperty('otp');
  });

  it('never writes a code, password or token to the log', async () => {
    await start();
    const customer = await registerCustomer(t.app);
    const code = await loginCode();
    await verify(code.otp_token, code.otp);
    const logs = t.logs.join('\n');
    expect(logs).toContain('otp not delivered');
    for (const secret of [
      code.otp,
      code.otp_token,
      customer.access_token,
      customer.refresh_token,
      'correct horse battery',
    ]) {
      expect(logs).not.toContain(secret);
    }
  });
});

/** A customer with a known email, made through the API with debug on, then debug turned off again. */
async function registerDirect() {
  await t.db.setStoreSettings('demo', { otpDebug: true, audience: null });
  await registerCustomer(t.app);
  await t.db.setStoreSettings('demo', { otpDebug: false, audience: null });
}

describe('OTP rules', () => {
  it('is single use', async () => {
    await start();
    await registerCustomer(t.app);
    const code = await loginCode();
    expect((await verify(code.otp_token, code.otp)).status).toBe(200);
    const again = await verify(code.otp_token, code.otp);
    expect(again.status).toBe(400);
    expect(again.body.code).toBe('OTP_INVALID');
  });

  it('brute force: after 5 wrong codes the 6th attempt fails even with the right code', async () => {
    await start();
    await registerCustomer(t.app);
    const code = await loginCode();
    const wrong = code.otp === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) {
      const res = await expectCall(t.app, 'verify-otp', 400, 'POST', '/auth/verify-otp', {
        otp: wrong,
        otp_token: code.otp_token,
        otp_action: 'login',
      });
      expect(res.body.code).toBe('OTP_INVALID');
    }
    const sixth = await verify(code.otp_token, code.otp);
    expect(sixth.status).toBe(400);
    expect(sixth.body.code).toBe('OTP_ATTEMPTS_EXCEEDED');
  });

  it('concurrent verifications of one code succeed at most once', async () => {
    await start();
    await registerCustomer(t.app);
    const code = await loginCode();
    const results = await Promise.all(Array.from({ length: 10 }, () => verify(code.otp_token, code.otp)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 400 && r.body.code === 'OTP_INVALID')).toHaveLength(9);
  });

  it('expires after 10 minutes', async () => {
    await start();
    await registerCustomer(t.app);
    const code = await loginCode();
    t.clock.advance(600);
    const res = await verify(code.otp_token, code.otp);
    expect(res.body.code).toBe('OTP_EXPIRED');
  });

  it('is still good just before 10 minutes', async () => {
    await start();
    await registerCustomer(t.app);
    const code = await loginCode();
    t.clock.advance(599);
    expect((await verify(code.otp_token, code.otp)).status).toBe(200);
  });

  it('is hashed at rest: neither the code nor the token is in the database', async () => {
    await start();
    await registerCustomer(t.app);
    const code = await loginCode();
    const dump = JSON.stringify(db().prepare('SELECT * FROM otps').all());
    expect(dump).not.toContain(code.otp_token);
    expect(dump).not.toMatch(new RegExp(`"${code.otp}"`));
  });

  it('a code for one action does not verify another, and does not spend its attempts', async () => {
    await start();
    await registerCustomer(t.app);
    const code = await loginCode();
    for (let i = 0; i < 6; i++) {
      expect((await verify(code.otp_token, code.otp, 'register')).body.code).toBe('OTP_INVALID');
    }
    expect((await verify(code.otp_token, code.otp)).status).toBe(200);
  });

  it('rate limits sends per identifier (429, Retry-After, envelope) and per address', async () => {
    await start();
    await registerCustomer(t.app);
    // Registration sent the first of the 5 codes this address may get per 10 minutes.
    for (let i = 0; i < 4; i++) await loginCode();
    const limited = await expectCall(t.app, 'login-with-email', 429, 'POST', '/auth/login/email', {
      email: 'ada@example.com',
    });
    expect(limited.body.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Another identifier from the same address still works, until the address limit.
    let status = 200;
    for (let i = 0; i < 20 && status === 200; i++) {
      status = (
        await call(t.app, 'POST', '/auth/login/email', {
          email: `x${i}@example.com`,
          register_if_not_exists: true,
        })
      ).status;
    }
    expect(status).toBe(429);
    t.clock.advance(601);
    const after = await call(t.app, 'POST', '/auth/login/email', { email: 'ada@example.com' });
    expect(after.status).toBe(200);
  });

  it('answers 400 for malformed verify-otp bodies', async () => {
    await start();
    for (const payload of [
      {},
      { otp: '123456', otp_token: 'x' },
      { otp: 1, otp_token: 'x', otp_action: 'login' },
      { otp: '1', otp_token: 'x', otp_action: 'nope' },
    ]) {
      const res = await expectCall(t.app, 'verify-otp', 400, 'POST', '/auth/verify-otp', payload);
      expect(res.body.code).toBe('BAD_REQUEST');
    }
    const unknown = await expectCall(t.app, 'verify-otp', 400, 'POST', '/auth/verify-otp', {
      otp: '123456',
      otp_token: 'nope',
      otp_action: 'login',
    });
    expect(unknown.body.code).toBe('OTP_INVALID');
  });
});

describe('register with email, phone, WhatsApp', () => {
  it('each answers OtpContent, and verify-otp register creates the account', async () => {
    await start();
    const cases = [
      ['register-with-email', '/auth/register/email', { email: 'e@example.com', first_name: 'E' }],
      [
        'register-with-phone',
        '/auth/register/phone',
        { phone: '9000000002', first_name: 'P', country_code: '+44' },
      ],
      ['register-with-whatsapp', '/auth/register/whatsapp', { phone: '9000000003', first_name: 'W' }],
    ] as const;
    for (const [op, path, body] of cases) {
      const sent = await expectCall(t.app, op, 200, 'POST', path, body, { headers: DEBUG });
      const res = await expectCall(t.app, 'verify-otp', 200, 'POST', '/auth/verify-otp', {
        otp: sent.body.content.otp,
        otp_token: sent.body.content.otp_token,
        otp_action: 'register',
      });
      expect(res.body.content.user.first_name).toBe(body.first_name);
    }
    const dup = await expectCall(t.app, 'register-with-phone', 400, 'POST', '/auth/register/phone', {
      phone: '9000000002',
      country_code: '+44',
      first_name: 'X',
    });
    expect(dup.body.code).toBe('USER_EXISTS');
    const missing = await expectCall(t.app, 'register-with-email', 400, 'POST', '/auth/register/email', {
      email: 'a@example.com',
    });
    expect(missing.body.code).toBe('BAD_REQUEST');
  });
});
