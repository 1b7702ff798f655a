import { afterEach, describe, expect, it } from 'vitest';
import { anonymous, makeTestApp, refresh, type TestApp } from '../helpers/app.js';
import { call, DEBUG, passwordLogin, registerCustomer } from '../helpers/customers.js';
import { freePort } from '../helpers/process.js';

let t: TestApp;
afterEach(async () => {
  await t?.close();
});

const scrape = async () => (await t.app.inject({ url: '/metrics' })).body;
const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
};

describe('/metrics', () => {
  it('counts refresh outcomes and reuse detections, and times routes', async () => {
    t = await makeTestApp();
    const pair = (await anonymous(t.app)).body.content;
    await refresh(t.app, pair.refresh_token);
    await refresh(t.app, pair.refresh_token); // replayed within grace
    const before = await scrape();
    expect(value(before, 'storefront_auth_refresh_total{outcome="rotated"}')).toBe(1);
    expect(value(before, 'storefront_auth_refresh_total{outcome="replayed"}')).toBe(1);
    expect(value(before, 'storefront_auth_reuse_detected_total{store="demo"}')).toBe(0);

    t.clock.advance(60);
    expect((await refresh(t.app, pair.refresh_token)).body.code).toBe('REFRESH_TOKEN_REUSED');
    const after = await scrape();
    expect(value(after, 'storefront_auth_reuse_detected_total{store="demo"}')).toBe(1);
    expect(value(after, 'storefront_auth_refresh_total{outcome="REFRESH_TOKEN_REUSED"}')).toBe(1);
    expect(after).toMatch(
      /storefront_auth_http_request_duration_seconds_count\{route="\/api\/v1\/:store_id\/storefront\/auth\/refresh-token",method="POST",status="200"\} 2/,
    );
  });

  it('estimates active sessions when given the operator side of the store', async () => {
    t = await makeTestApp();
    await t.app.close();
    const { buildApp } = await import('../../src/app.js');
    const app = await buildApp({
      config: t.config,
      db: t.db,
      clock: t.clock,
      operator: t.db.operator(),
    });
    t.app = app;
    for (let i = 0; i < 3; i++) await anonymous(app);
    expect(value(await scrape(), 'storefront_auth_active_sessions')).toBe(3);
  });

  it('counts logins by method and outcome, OTPs sent and verified, by channel and action', async () => {
    t = await makeTestApp({ OTP_DEBUG: 'true' });
    await registerCustomer(t.app); // one register OTP sent by email, verified
    expect((await passwordLogin(t.app)).status).toBe(200);
    expect((await passwordLogin(t.app, 'ada@example.com', 'wrong password!!')).status).toBe(401);
    const started = await call(
      t.app,
      'POST',
      '/auth/login/email',
      { email: 'ada@example.com' },
      { headers: DEBUG },
    );
    const { otp_token, otp } = started.body.content;
    const wrong = otp === '000000' ? '111111' : '000000';
    await call(t.app, 'POST', '/auth/verify-otp', { otp: wrong, otp_token, otp_action: 'login' });
    expect(
      (await call(t.app, 'POST', '/auth/verify-otp', { otp, otp_token, otp_action: 'login' })).status,
    ).toBe(200);

    const text = await scrape();
    const failed = (await passwordLogin(t.app, 'ada@example.com', 'wrong password!!')).body.code as string;
    expect(value(text, 'storefront_auth_login_total{method="password",outcome="success"}')).toBe(1);
    expect(value(text, `storefront_auth_login_total{method="password",outcome="${failed}"}`)).toBe(1);
    expect(value(text, 'storefront_auth_login_total{method="otp",outcome="success"}')).toBe(1);
    expect(value(text, 'storefront_auth_login_total{method="otp",outcome="OTP_INVALID"}')).toBe(1);
    expect(
      value(text, 'storefront_auth_otp_sent_total{channel="email",action="register",outcome="sent"}'),
    ).toBe(1);
    expect(value(text, 'storefront_auth_otp_sent_total{channel="email",action="login",outcome="sent"}')).toBe(
      1,
    );
    expect(value(text, 'storefront_auth_otp_verification_total{action="register",outcome="verified"}')).toBe(
      1,
    );
    expect(value(text, 'storefront_auth_otp_verification_total{action="login",outcome="verified"}')).toBe(1);
    expect(value(text, 'storefront_auth_otp_verification_total{action="login",outcome="OTP_INVALID"}')).toBe(
      1,
    );
  });

  it('counts webhook deliveries that failed after their retries, OTP and security alike', async () => {
    // A port nothing listens on: every attempt is refused at once.
    const nowhere = `http://127.0.0.1:${await freePort()}/hook`;
    const secret = 'webhook-secret-0123456789';
    t = await makeTestApp({
      OTP_WEBHOOK_URL: nowhere,
      OTP_WEBHOOK_SECRET: secret,
      SECURITY_WEBHOOK_URL: nowhere,
      SECURITY_WEBHOOK_SECRET: secret,
    });
    const register = await call(t.app, 'POST', '/auth/register/password', {
      email: 'ada@example.com',
      password: 'correct horse battery',
      confirm_password: 'correct horse battery',
      first_name: 'Ada',
    });
    // The code is queued in the outbox: the answer does not wait on (or tell of) its delivery.
    expect(register.status).toBe(200);
    let text = await scrape();
    for (let i = 0; i < 200; i++) {
      text = await scrape();
      if (value(text, 'storefront_auth_webhook_delivery_failures_total{webhook="otp"}') > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    // The outbox's first try failed (its retry waits on the test's clock, which stands still).
    expect(value(text, 'storefront_auth_webhook_delivery_failures_total{webhook="otp"}')).toBe(1);
    expect(
      value(text, 'storefront_auth_otp_sent_total{channel="email",action="register",outcome="failed"}'),
    ).toBe(1);

    // Reuse detection posts a security event after the answer; its failure is counted when the retries end.
    const pair = (await anonymous(t.app)).body.content;
    await refresh(t.app, pair.refresh_token);
    t.clock.advance(60);
    expect((await refresh(t.app, pair.refresh_token)).body.code).toBe('REFRESH_TOKEN_REUSED');
    for (let i = 0; i < 200; i++) {
      text = await scrape();
      if (value(text, 'storefront_auth_webhook_delivery_failures_total{webhook="security"}') > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(value(text, 'storefront_auth_webhook_delivery_failures_total{webhook="security"}')).toBe(1);
  });
});
