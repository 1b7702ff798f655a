import { describe, expect, it } from 'vitest';
import { changePassword } from '../../src/accounts/change-password.js';
import type { CustomerContext } from '../../src/accounts/context.js';
import type { OtpMessage } from '../../src/accounts/delivery/contract.js';
import { loginWithPassword } from '../../src/accounts/login-password.js';
import { argon2Hasher, type PasswordHasher } from '../../src/accounts/passwords.js';
import { findAccount } from '../../src/accounts/records.js';
import { limitValuesOf } from '../../src/config.js';
import { AppError } from '../../src/errors/codes.js';
import { MemoryRateLimiter } from '../../src/ratelimit/memory.js';
import { TenantDirectory } from '../../src/tenants/directory.js';
import { appPerTest, claims, refresh, sessionContext, type TestApp } from '../helpers/app.js';
import {
  call,
  customerSignedInTwice,
  DEBUG,
  expectCall,
  PASSWORD,
  passwordLogin,
  registerCustomer,
} from '../helpers/customers.js';

let t: TestApp;
appPerTest((app) => (t = app), { OTP_DEBUG: 'true' });

const NEW = 'a brand new passphrase';

describe('change-password', () => {
  it('checks the old password, revokes every session, answers a new one', async () => {
    const [first, second] = await customerSignedInTwice(t.app);
    const res = await expectCall(
      t.app,
      'change-password',
      200,
      'POST',
      '/auth/change-password',
      { old_password: PASSWORD, new_password: NEW, confirm_password: NEW },
      { bearer: first.access_token },
    );
    const pair = res.body.content;
    expect(claims(pair.refresh_token)['sid']).not.toBe(claims(first.refresh_token)['sid']);
    expect(claims(pair.refresh_token)['gen']).toBe(0);
    // The other device is out, and so is this device's old session; the new pair works.
    expect((await refresh(t.app, second.refresh_token)).body.code).toBe('SESSION_REVOKED');
    expect((await refresh(t.app, first.refresh_token)).body.code).toBe('SESSION_REVOKED');
    expect((await refresh(t.app, pair.refresh_token)).status).toBe(200);
    // Only the new password logs in.
    expect((await passwordLogin(t.app)).status).toBe(401);
    expect(
      (await call(t.app, 'POST', '/auth/login/password', { email: 'ada@example.com', password: NEW })).status,
    ).toBe(200);
  });

  it('refuses a wrong old password, a mismatch and a weak password, changing nothing', async () => {
    const me = await registerCustomer(t.app);
    const cases = [
      [
        { old_password: 'wrong-old-password', new_password: NEW, confirm_password: NEW },
        401,
        'INVALID_CREDENTIALS',
      ],
      [{ old_password: PASSWORD, new_password: NEW, confirm_password: `${NEW}x` }, 400, 'PASSWORD_MISMATCH'],
      [{ old_password: PASSWORD, new_password: 'short', confirm_password: 'short' }, 400, 'WEAK_PASSWORD'],
      [{ old_password: PASSWORD, new_password: NEW }, 400, 'BAD_REQUEST'],
    ] as const;
    for (const [body, status, code] of cases) {
      const res = await expectCall(t.app, 'change-password', status, 'POST', '/auth/change-password', body, {
        bearer: me.access_token,
      });
      expect(res.body.code).toBe(code);
    }
    expect((await refresh(t.app, me.refresh_token)).status).toBe(200);
    expect((await passwordLogin(t.app)).status).toBe(200);
  });

  it('needs a customer Bearer', async () => {
    const anon = (
      await call(t.app, 'POST', '/auth/anonymous', undefined, {
        headers: { 'x-api-key': 'test-api-key-0123456789' },
      })
    ).body.content;
    for (const bearer of [undefined, anon.access_token]) {
      const res = await expectCall(
        t.app,
        'change-password',
        401,
        'POST',
        '/auth/change-password',
        {
          old_password: PASSWORD,
          new_password: NEW,
          confirm_password: NEW,
        },
        bearer ? { bearer } : {},
      );
      expect(res.body.code).toBe('UNAUTHORIZED');
    }
  });
});

describe('forgot-password and reset-password', () => {
  it('resets with the code, ends every session, and signs in', async () => {
    const me = await registerCustomer(t.app);
    const sent = await expectCall(
      t.app,
      'forgot-password',
      200,
      'POST',
      '/auth/forgot-password',
      { email: 'ada@example.com' },
      { headers: DEBUG },
    );
    expect(sent.body.content.otp_action).toBe('reset-password');
    const { otp, otp_token } = sent.body.content;
    const res = await expectCall(t.app, 'reset-password', 200, 'POST', '/auth/reset-password', {
      otp,
      otp_token,
      new_password: NEW,
      confirm_password: NEW,
    });
    expect(res.body.content.user.id).toBe(me.user.id);
    expect((await refresh(t.app, me.refresh_token)).body.code).toBe('SESSION_REVOKED');
    expect((await refresh(t.app, res.body.content.refresh_token)).status).toBe(200);
    expect(
      (await call(t.app, 'POST', '/auth/login/password', { email: 'ada@example.com', password: NEW })).status,
    ).toBe(200);
  });

  it('checks the new password before spending the code', async () => {
    await registerCustomer(t.app);
    const { otp, otp_token } = (
      await call(t.app, 'POST', '/auth/forgot-password', { email: 'ada@example.com' }, { headers: DEBUG })
    ).body.content;
    const mismatch = await expectCall(t.app, 'reset-password', 400, 'POST', '/auth/reset-password', {
      otp,
      otp_token,
      new_password: NEW,
      confirm_password: 'other password!',
    });
    expect(mismatch.body.code).toBe('PASSWORD_MISMATCH');
    const wrong = await expectCall(t.app, 'reset-password', 400, 'POST', '/auth/reset-password', {
      otp: otp === '000000' ? '111111' : '000000',
      otp_token,
      new_password: NEW,
      confirm_password: NEW,
    });
    expect(wrong.body.code).toBe('OTP_INVALID');
    expect(
      (
        await call(t.app, 'POST', '/auth/reset-password', {
          otp,
          otp_token,
          new_password: NEW,
          confirm_password: NEW,
        })
      ).status,
    ).toBe(200);
  });

  it('answers an unknown account like a known one, and its decoy token never verifies', async () => {
    await registerCustomer(t.app);
    const known = await call(t.app, 'POST', '/auth/forgot-password', { email: 'ada@example.com' });
    const unknown = await expectCall(t.app, 'forgot-password', 200, 'POST', '/auth/forgot-password', {
      email: 'ghost@example.com',
    });
    expect(Object.keys(unknown.body.content).sort()).toEqual(Object.keys(known.body.content).sort());
    expect(unknown.body.message).toBe(known.body.message);
    expect(unknown.body.content.otp_token).toHaveLength(known.body.content.otp_token.length);
    const res = await call(t.app, 'POST', '/auth/reset-password', {
      otp: '123456',
      otp_token: unknown.body.content.otp_token,
      new_password: NEW,
      confirm_password: NEW,
    });
    expect(res.body.code).toBe('OTP_INVALID');
  });

  it('generate-otp reset-password works like forgot-password', async () => {
    await registerCustomer(t.app);
    const sent = await expectCall(
      t.app,
      'generate-otp',
      200,
      'POST',
      '/auth/generate-otp',
      {
        channel: 'email',
        email: 'ada@example.com',
        otp_action: 'reset-password',
      },
      { headers: DEBUG },
    );
    const res = await call(t.app, 'POST', '/auth/reset-password', {
      otp: sent.body.content.otp,
      otp_token: sent.body.content.otp_token,
      new_password: NEW,
      confirm_password: NEW,
    });
    expect(res.status).toBe(200);
  });
});

/** A hasher that counts its calls and delegates to argon2. */
function countingHasher() {
  const calls = { hash: 0, verify: 0 };
  const hasher: PasswordHasher = {
    hash: (p) => {
      calls.hash++;
      return argon2Hasher.hash(p);
    },
    verify: (h, p) => {
      calls.verify++;
      return argon2Hasher.verify(h, p);
    },
  };
  return { hasher, calls };
}

async function customerContext(hasher: PasswordHasher): Promise<CustomerContext> {
  const sent: OtpMessage[] = [];
  return {
    ...sessionContext(t),
    hasher,
    sender: { name: 'test', send: async (m) => void sent.push(m) },
    rateLimiter: new MemoryRateLimiter(t.clock),
    otpDebugStoreId: null,
  };
}

describe('no account enumeration through password login', () => {
  it('an unknown user, a wrong password and an OTP-only account each cost exactly one hash check', async () => {
    await registerCustomer(t.app);
    // An account without a password (registered by email code).
    const sent = (
      await call(
        t.app,
        'POST',
        '/auth/login/email',
        { email: 'otp@example.com', register_if_not_exists: true },
        { headers: DEBUG },
      )
    ).body.content;
    await call(t.app, 'POST', '/auth/verify-otp', {
      otp: sent.otp,
      otp_token: sent.otp_token,
      otp_action: 'login',
    });

    const { hasher, calls } = countingHasher();
    const ctx = await customerContext(hasher);
    const tenant = await new TenantDirectory(t.db, t.clock, t.config.issuer, limitValuesOf(t.config)).require(
      'demo',
    );
    const client = {
      caller: { kind: 'address', address: '127.0.0.1' } as const,
      debug: false,
      bearer: undefined,
    };
    const answers: string[] = [];
    for (const email of ['nobody@example.com', 'ada@example.com', 'otp@example.com']) {
      const before = calls.verify;
      const error = await loginWithPassword(ctx, tenant, { email }, 'wrong password!', client).catch(
        (e) => e,
      );
      expect(error).toBeInstanceOf(AppError);
      expect(calls.verify - before, email).toBe(1);
      answers.push(JSON.stringify([error.code, error.message]));
    }
    expect(new Set(answers).size).toBe(1);
    expect(answers[0]).toContain('INVALID_CREDENTIALS');
    expect(await findAccount(ctx, tenant, { email: 'ada@example.com' })).not.toBeNull();
  });

  it('change-password checks the old password once, right or wrong', async () => {
    const me = await registerCustomer(t.app);
    const { hasher, calls } = countingHasher();
    const ctx = await customerContext(hasher);
    const tenant = await new TenantDirectory(t.db, t.clock, t.config.issuer, limitValuesOf(t.config)).require(
      'demo',
    );
    await changePassword(ctx, tenant, me.access_token, {
      oldPassword: 'nope nope',
      newPassword: NEW,
      confirmPassword: NEW,
    }).catch(() => {});
    expect(calls).toEqual({ hash: 0, verify: 1 });
  });
});
