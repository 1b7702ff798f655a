import { describe, expect, it } from 'vitest';
import { OTP_BACKOFF } from '../../src/accounts/backoff.js';
import { LIMITS } from '../../src/ratelimit/limits.js';
import { appPerTest, BASE, type TestApp } from '../helpers/app.js';
import { registerCustomer } from '../helpers/customers.js';

const DAY_S = 86_400;
/**
 * The documented figure (docs/customers.md): with 10 free verifications per email or phone, then
 * waits of 1, 2, 4, ... minutes up to OTP_BACKOFF_MAX (1 h), the first day allows 11 guesses at
 * once, 6 more over the next 63 minutes, then one an hour: 39.
 */
const GUESSES_FIRST_DAY = 39;

async function post(t: TestApp, path: string, payload: object, ip: string) {
  const res = await t.app.inject({
    method: 'POST',
    url: `${BASE}${path}`,
    payload,
    remoteAddress: ip,
    headers: { 'x-debug-mode': 'true' },
  });
  return { status: res.statusCode, body: res.json(), retryAfter: Number(res.headers['retry-after'] ?? 0) };
}

describe('OTP guessing is bounded per window, not over time (regression)', () => {
  let t: TestApp;
  appPerTest((app) => (t = app), { OTP_DEBUG: 'true' });

  it('a flooder from many addresses guessing for a simulated day gets at most the documented guesses; the owner still gets in', async () => {
    const owner = await registerCustomer(t.app, 'owner@example.com');
    const start = t.clock.now();
    const flooders = Array.from({ length: 8 }, (_, i) => `203.0.113.${i + 10}`);
    let turn = 0;
    let accepted = 0;
    let code: { otp: string; otp_token: string } | null = null;
    let triesOnCode = 0;
    while (t.clock.now() < start + DAY_S * 1000) {
      const ip = flooders[turn++ % flooders.length]!;
      if (!code || triesOnCode >= 5) {
        const sent = await post(t, '/auth/login/email', { email: 'owner@example.com' }, ip);
        if (sent.status === 429) {
          t.clock.advance(sent.retryAfter);
          continue;
        }
        expect(sent.status).toBe(200);
        code = sent.body.content;
        triesOnCode = 0;
      }
      const wrong = code!.otp === '000000' ? '111111' : '000000';
      const guess = await post(
        t,
        '/auth/verify-otp',
        { otp: wrong, otp_token: code!.otp_token, otp_action: 'login' },
        ip,
      );
      if (guess.status === 429) {
        expect(guess.body.code).toBe('RATE_LIMITED');
        t.clock.advance(guess.retryAfter);
        continue;
      }
      // Every attempt that got past the back-off counts, even one at a code that had expired meanwhile.
      accepted++;
      triesOnCode++;
      if (guess.body.code === 'OTP_EXPIRED') code = null;
      else expect(guess.body.code).toBe('OTP_INVALID');
    }
    expect(accepted).toBeGreaterThan(OTP_BACKOFF.freeFailuresPerIdentifier);
    expect(accepted).toBeLessThanOrEqual(GUESSES_FIRST_DAY);

    // The flooder stops. After at most OTP_BACKOFF_MAX the owner gets a code and signs in with it.
    t.clock.advance(LIMITS.otpBackoffMax.default);
    const sent = await post(t, '/auth/login/email', { email: 'owner@example.com' }, '198.51.100.1');
    expect(sent.status).toBe(200);
    const login = await post(
      t,
      '/auth/verify-otp',
      { otp: sent.body.content.otp, otp_token: sent.body.content.otp_token, otp_action: 'login' },
      '198.51.100.1',
    );
    expect(login.status).toBe(200);
    expect(login.body.content.user.id).toBe(owner.user.id);
  });

  it('a right code resets the back-off; a typo from the owner is free', async () => {
    await registerCustomer(t.app, 'owner@example.com');
    const ip = '198.51.100.2';
    for (let round = 0; round < 3; round++) {
      const sent = await post(t, '/auth/login/email', { email: 'owner@example.com' }, ip);
      const c = sent.body.content;
      const wrong = c.otp === '000000' ? '111111' : '000000';
      for (let i = 0; i < 4; i++) {
        const typo = await post(
          t,
          '/auth/verify-otp',
          { otp: wrong, otp_token: c.otp_token, otp_action: 'login' },
          ip,
        );
        expect(typo.body.code).toBe('OTP_INVALID');
      }
      const ok = await post(
        t,
        '/auth/verify-otp',
        { otp: c.otp, otp_token: c.otp_token, otp_action: 'login' },
        ip,
      );
      expect(ok.status).toBe(200);
    }
    // 15 verifications in all, more than the free 10: without the reset the last rounds would wait.
    expect(await t.db.getBackoff('demo', 'to:owner@example.com')).toEqual({ failures: 0, nextAttemptAt: 0 });
  });

  it('guesses from one address over many accounts are counted against that address too', async () => {
    const ip = '203.0.113.99';
    let limited = 0;
    for (let i = 0; i < 25; i++) {
      const sent = await post(
        t,
        '/auth/login/email',
        { email: `v${i}@example.com`, register_if_not_exists: true },
        ip,
      );
      if (sent.status !== 200) break;
      const c = sent.body.content;
      const wrong = c.otp === '000000' ? '111111' : '000000';
      const guess = await post(
        t,
        '/auth/verify-otp',
        { otp: wrong, otp_token: c.otp_token, otp_action: 'login' },
        ip,
      );
      if (guess.status === 429) limited++;
    }
    // Within the address's free allowance (20, as many as its sends per window), nothing waits yet.
    expect(limited).toBe(0);
    const state = await t.db.getBackoff('demo', `ip:${ip}`);
    expect(state.failures).toBe(LIMITS.otpPerAddress.default);
  });
});
