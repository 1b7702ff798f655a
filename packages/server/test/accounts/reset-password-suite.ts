/**
 * The two password-reset flows over the app, on any backend: one step (reset-password with `otp`)
 * and two (verify-otp with `reset-password`, then reset-password with the verified otp_token alone).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OTP_TTL_MS } from '../../src/accounts/otp.js';
import { refresh, type TestApp } from '../helpers/app.js';
import { call, DEBUG, expectCall, PASSWORD, registerCustomer } from '../helpers/customers.js';

const NEW = 'a brand new passphrase';

export function describeResetFlows(
  title: string,
  makeApp: (env: Record<string, string>) => Promise<TestApp>,
) {
  describe(title, () => {
    let t: TestApp;
    beforeEach(async () => {
      t = await makeApp({ OTP_DEBUG: 'true' });
    });
    afterEach(async () => {
      await t.close();
    });

    async function forgot(): Promise<{ otp: string; otp_token: string }> {
      const sent = await call(
        t.app,
        'POST',
        '/auth/forgot-password',
        { email: 'ada@example.com' },
        { headers: DEBUG },
      );
      expect(sent.status).toBe(200);
      return sent.body.content;
    }
    const verify = (code: { otp: string; otp_token: string }) =>
      call(t.app, 'POST', '/auth/verify-otp', { ...code, otp_action: 'reset-password' });
    const reset = (body: Record<string, string>) =>
      call(t.app, 'POST', '/auth/reset-password', { new_password: NEW, confirm_password: NEW, ...body });
    const login = (password: string) =>
      call(t.app, 'POST', '/auth/login/password', { email: 'ada@example.com', password });

    it('two steps: verify-otp signs in, reset-password with the otp_token alone sets the password, ends every other session and signs in anew', async () => {
      const before = await registerCustomer(t.app);
      const code = await forgot();
      const verified = await expectCall(t.app, 'verify-otp', 200, 'POST', '/auth/verify-otp', {
        ...code,
        otp_action: 'reset-password',
      });
      expect(verified.body.content.user.id).toBe(before.user.id);
      // Verifying does not change the password: the old one still logs in until the reset.
      expect((await login(PASSWORD)).status).toBe(200);

      const done = await expectCall(t.app, 'reset-password', 200, 'POST', '/auth/reset-password', {
        otp_token: code.otp_token,
        new_password: NEW,
        confirm_password: NEW,
      });
      expect(done.body.content.user.id).toBe(before.user.id);
      expect((await login(NEW)).status).toBe(200);
      expect((await login(PASSWORD)).body.code).toBe('INVALID_CREDENTIALS');
      // The session from before the reset and the one verify-otp opened are both over; the new one lives.
      expect((await refresh(t.app, before.refresh_token)).body.code).toBe('SESSION_REVOKED');
      expect((await refresh(t.app, verified.body.content.refresh_token)).body.code).toBe('SESSION_REVOKED');
      expect((await refresh(t.app, done.body.content.refresh_token)).status).toBe(200);
    });

    it('one step still works, and its token cannot be used again without the code', async () => {
      await registerCustomer(t.app);
      const code = await forgot();
      expect((await reset(code)).status).toBe(200);
      const again = await reset({ otp_token: code.otp_token });
      expect([again.status, again.body.code]).toEqual([400, 'OTP_INVALID']);
      expect((await login(NEW)).status).toBe(200);
    });

    it('refuses an unverified otp_token, a verified one used twice, and one past its lifetime, changing nothing', async () => {
      await registerCustomer(t.app);
      const unverified = await forgot();
      const refused = await reset({ otp_token: unverified.otp_token });
      expect([refused.status, refused.body.code]).toEqual([400, 'OTP_INVALID']);
      expect(refused.body).toEqual({ message: expect.any(String), success: false, code: 'OTP_INVALID' });
      expect((await login(PASSWORD)).status).toBe(200);
      // The refusal spent nothing: the code still verifies and resets.
      expect((await verify(unverified)).status).toBe(200);
      expect((await reset({ otp_token: unverified.otp_token })).status).toBe(200);
      const twice = await reset({
        otp_token: unverified.otp_token,
        new_password: 'third passphrase!',
        confirm_password: 'third passphrase!',
      });
      expect([twice.status, twice.body.code]).toEqual([400, 'OTP_INVALID']);
      expect((await login(NEW)).status).toBe(200);

      const late = await forgot();
      expect((await verify(late)).status).toBe(200);
      t.clock.advance(OTP_TTL_MS / 1000 - 1);
      const lastSecond = await forgot();
      expect((await verify(lastSecond)).status).toBe(200);
      t.clock.advance(2);
      const expired = await reset({
        otp_token: late.otp_token,
        new_password: 'too late, sorry',
        confirm_password: 'too late, sorry',
      });
      expect([expired.status, expired.body.code]).toEqual([400, 'OTP_EXPIRED']);
      expect((await login(NEW)).status).toBe(200);
      // Within its own lifetime the later code still resets.
      expect((await reset({ otp_token: lastSecond.otp_token })).status).toBe(200);
    });

    it('a verified code and its code again: the one-step form refuses a code verify-otp already spent', async () => {
      await registerCustomer(t.app);
      const code = await forgot();
      expect((await verify(code)).status).toBe(200);
      const res = await reset(code);
      expect([res.status, res.body.code]).toEqual([400, 'OTP_INVALID']);
      expect((await verify(code)).body.code).toBe('OTP_INVALID');
    });

    it('a login code cannot stand in for a reset code', async () => {
      await registerCustomer(t.app);
      const loginCode = (
        await call(t.app, 'POST', '/auth/login/email', { email: 'ada@example.com' }, { headers: DEBUG })
      ).body.content;
      expect(
        (await call(t.app, 'POST', '/auth/verify-otp', { ...loginCode, otp_action: 'login' })).status,
      ).toBe(200);
      const res = await reset({ otp_token: loginCode.otp_token });
      expect([res.status, res.body.code]).toEqual([400, 'OTP_INVALID']);
      expect((await login(PASSWORD)).status).toBe(200);
    });
  });
}
