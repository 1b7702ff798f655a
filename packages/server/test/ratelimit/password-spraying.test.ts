import { afterEach, describe, expect, it } from 'vitest';
import { argon2Hasher, type PasswordHasher } from '../../src/accounts/passwords.js';
import { BASE, makeTestApp, type TestApp } from '../helpers/app.js';
import { PASSWORD, registerCustomer } from '../helpers/customers.js';

function countingHasher() {
  const calls = { verify: 0 };
  const hasher: PasswordHasher = {
    hash: (p) => argon2Hasher.hash(p),
    verify: (h, p) => {
      calls.verify++;
      return argon2Hasher.verify(h, p);
    },
  };
  return { hasher, calls };
}

function login(t: TestApp, email: string, password: string, remoteAddress = '203.0.113.7') {
  return t.app.inject({
    method: 'POST',
    url: `${BASE}/auth/login/password`,
    payload: { email, password },
    remoteAddress,
  });
}

describe('password spraying is unlimited per address (regression)', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
  });

  it('one address trying 40 emails: 30 answers 401, then 429, and refused attempts verify no hash', async () => {
    const { hasher, calls } = countingHasher();
    t = await makeTestApp({ OTP_DEBUG: 'true' }, { replace: { hasher } });
    await registerCustomer(t.app, 'victim@example.com');
    calls.verify = 0;
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await login(t, i === 35 ? 'victim@example.com' : `user${i}@example.com`, 'Summer2026!');
      statuses.push(res.statusCode);
      if (res.statusCode === 429) {
        expect(res.json().code).toBe('RATE_LIMITED');
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      }
    }
    expect(statuses.slice(0, 30).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(30).every((s) => s === 429)).toBe(true);
    expect(calls.verify).toBe(30);
    // The victim named after the sprayer's cut-off was not charged: its owner logs in from home.
    expect((await login(t, 'victim@example.com', PASSWORD, '198.51.100.20')).statusCode).toBe(200);
    // The window passes: the address may try again.
    t.clock.advance(600);
    expect((await login(t, 'user99@example.com', 'Summer2026!')).statusCode).toBe(401);
  });

  it('LOGIN_IP_RATE_LIMIT configures it, and 0 turns it off', async () => {
    t = await makeTestApp({ LOGIN_IP_RATE_LIMIT: '3' });
    const first = [];
    for (let i = 0; i < 4; i++) first.push((await login(t, `a${i}@example.com`, 'x-password')).statusCode);
    expect(first).toEqual([401, 401, 401, 429]);
    await t.close();
    t = await makeTestApp({ LOGIN_IP_RATE_LIMIT: '0' });
    for (let i = 0; i < 35; i++)
      expect((await login(t, `b${i}@example.com`, 'x-password')).statusCode).toBe(401);
  });
});
