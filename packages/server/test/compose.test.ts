import { afterEach, describe, expect, it } from 'vitest';
import type { OtpMessage } from '../src/accounts/delivery/contract.js';
import { argon2Hasher, type PasswordHasher } from '../src/accounts/passwords.js';
import { BASE, makeTestApp, type TestApp } from './helpers/app.js';

const apps: TestApp[] = [];
afterEach(async () => {
  for (const t of apps.splice(0)) await t.close();
});

async function composed(...args: Parameters<typeof makeTestApp>) {
  const t = await makeTestApp(...args);
  apps.push(t);
  return t;
}

describe('the composition root', () => {
  it('hands the customer routes the OTP sender and the hasher given in its options', async () => {
    const sent: OtpMessage[] = [];
    let hashed = 0;
    const hasher: PasswordHasher = {
      hash: (password) => {
        hashed++;
        return argon2Hasher.hash(password);
      },
      verify: argon2Hasher.verify,
    };
    const { app } = await composed(
      {},
      { replace: { hasher, sender: { name: 'test', send: async (m) => void sent.push(m) } } },
    );
    const password = 'correct horse battery';
    const started = await app.inject({
      method: 'POST',
      url: `${BASE}/auth/register/password`,
      payload: { email: 'ada@example.com', password, confirm_password: password },
    });
    expect(started.statusCode, started.body).toBe(200);
    expect(sent.map((m) => m.to)).toEqual([{ email: 'ada@example.com' }]);
    const verified = await app.inject({
      method: 'POST',
      url: `${BASE}/auth/verify-otp`,
      payload: { otp: sent[0]!.otp, otp_token: started.json().content.otp_token, otp_action: 'register' },
    });
    expect(verified.statusCode, verified.body).toBe(200);
    expect(hashed).toBeGreaterThan(0);
  });

  it('warns that OTPs reach no one only when NODE_ENV=production leaves them to the log sender', async () => {
    const warning = 'OTPs are not delivered to anyone';
    const production = await composed({ NODE_ENV: 'production' });
    expect(production.logs.join('')).toContain(warning);
    const development = await composed({ NODE_ENV: 'development' });
    expect(development.logs.join('')).not.toContain(warning);
    const webhook = await composed({
      NODE_ENV: 'production',
      OTP_WEBHOOK_URL: 'https://hooks.example.com/otp',
      OTP_WEBHOOK_SECRET: 'x'.repeat(32),
    });
    expect(webhook.logs.join('')).not.toContain(warning);
  });
});
