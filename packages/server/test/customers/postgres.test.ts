import { afterEach, expect, it } from 'vitest';
import { PostgresDatabase } from '../../src/storage/postgres/store.js';
import { makeTestApp, refresh, type TestApp } from '../helpers/app.js';
import { call, DEBUG, PASSWORD, passwordLogin, registerCustomer } from '../helpers/customers.js';
import { describeWithPostgres, freshSchema } from '../helpers/postgres.js';

describeWithPostgres('customers on PostgreSQL, two instances sharing one database', (url) => {
  let apps: TestApp[] = [];
  let drop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    for (const a of apps) await a.close();
    apps = [];
    await drop?.();
  });

  async function twoInstances(): Promise<[TestApp, TestApp]> {
    const db = await freshSchema(url, 'sfa_cust');
    drop = db.drop;
    const a = await makeTestApp(
      { OTP_DEBUG: 'true' },
      { db: new PostgresDatabase({ url: db.url, poolSize: 8 }) },
    );
    const b = await makeTestApp(
      { OTP_DEBUG: 'true' },
      { db: new PostgresDatabase({ url: db.url, poolSize: 8 }) },
    );
    apps = [a, b];
    return [a, b];
  }

  it('register, log in on the other instance, change password there: the first device is out', async () => {
    const [a, b] = await twoInstances();
    const first = await registerCustomer(a.app);
    const second = (await passwordLogin(b.app)).body.content;
    const changed = await call(
      b.app,
      'POST',
      '/auth/change-password',
      { old_password: PASSWORD, new_password: 'new pass phrase', confirm_password: 'new pass phrase' },
      { bearer: second.access_token },
    );
    expect(changed.status).toBe(200);
    expect((await refresh(a.app, first.refresh_token)).body.code).toBe('SESSION_REVOKED');
    expect((await refresh(a.app, changed.body.content.refresh_token)).status).toBe(200);
  });

  it('concurrent verifications of one code across both instances succeed exactly once', async () => {
    const [a, b] = await twoInstances();
    await registerCustomer(a.app);
    const code = (
      await call(a.app, 'POST', '/auth/login/email', { email: 'ada@example.com' }, { headers: DEBUG })
    ).body.content;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call((i % 2 ? a : b).app, 'POST', '/auth/verify-otp', {
          otp: code.otp,
          otp_token: code.otp_token,
          otp_action: 'login',
        }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    // The losers: a spent code, or (past the free allowance) the back-off of this email.
    expect(
      results.every((r) => r.status === 200 || ['OTP_INVALID', 'RATE_LIMITED'].includes(r.body.code)),
    ).toBe(true);
  });

  it('attempts are counted in the database: 5 wrong codes spread over both, then the right one fails', async () => {
    const [a, b] = await twoInstances();
    await registerCustomer(a.app);
    const code = (
      await call(a.app, 'POST', '/auth/login/email', { email: 'ada@example.com' }, { headers: DEBUG })
    ).body.content;
    const wrong = code.otp === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) {
      const res = await call((i % 2 ? a : b).app, 'POST', '/auth/verify-otp', {
        otp: wrong,
        otp_token: code.otp_token,
        otp_action: 'login',
      });
      expect(res.body.code).toBe('OTP_INVALID');
    }
    const last = await call(a.app, 'POST', '/auth/verify-otp', {
      otp: code.otp,
      otp_token: code.otp_token,
      otp_action: 'login',
    });
    expect(last.body.code).toBe('OTP_ATTEMPTS_EXCEEDED');
  });

  it('delete on one instance: the refresh on the other answers SESSION_NOT_FOUND', async () => {
    const [a, b] = await twoInstances();
    const me = await registerCustomer(a.app);
    expect(
      (await call(b.app, 'DELETE', `/auth/user/${me.user.id}`, undefined, { bearer: me.access_token }))
        .status,
    ).toBe(200);
    const res = await refresh(a.app, me.refresh_token);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('SESSION_NOT_FOUND');
  });
});
