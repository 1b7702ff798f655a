import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqliteDatabase } from '../../src/storage/sqlite/store.js';
import { BASE, makeTestApp, type TestApp } from '../helpers/app.js';
import { registerCustomer } from '../helpers/customers.js';

let t: TestApp;
let bearer: string;
let userId: string;
const snapshot = () => {
  const db = (t.db as SqliteDatabase).sqlite;
  return JSON.stringify([
    db.prepare('SELECT * FROM sessions ORDER BY id').all(),
    db.prepare('SELECT * FROM users ORDER BY id').all(),
    db.prepare('SELECT * FROM otps ORDER BY id').all(),
  ]);
};

beforeAll(async () => {
  t = await makeTestApp({ OTP_DEBUG: 'true' });
  const me = await registerCustomer(t.app);
  bearer = me.access_token;
  userId = me.user.id;
});
afterAll(async () => {
  await t.close();
});

const routes = [
  ['POST', '/auth/register/password'],
  ['POST', '/auth/register/email'],
  ['POST', '/auth/register/phone'],
  ['POST', '/auth/login/password'],
  ['POST', '/auth/login/email'],
  ['POST', '/auth/login/phone'],
  ['POST', '/auth/verify-otp'],
  ['POST', '/auth/generate-otp'],
  ['POST', '/auth/forgot-password'],
  ['POST', '/auth/reset-password'],
  ['POST', '/auth/change-password'],
  ['POST', '/auth/verified-email-phone'],
  ['PUT', '/auth/user/:me'],
] as const;

/** Field names the routes know, with hostile values: wrong types, huge, odd unicode, near-valid. */
const fieldValue = fc.oneof(
  fc.string(),
  fc.constantFrom(
    '',
    ' ',
    'a@b.c',
    'ADA@example.com',
    '9876543210',
    '+91',
    '123456',
    'x'.repeat(5000),
    '\u0000',
    '😀'.repeat(70),
  ),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.object({ maxDepth: 1 }),
);
const body = fc.dictionary(
  fc.constantFrom(
    'email',
    'phone',
    'country_code',
    'password',
    'confirm_password',
    'old_password',
    'new_password',
    'otp',
    'otp_token',
    'otp_action',
    'channel',
    'first_name',
    'register_if_not_exists',
    'notification_preferences',
    'login_methods',
    '__proto__',
    'constructor',
  ),
  fieldValue,
  { maxKeys: 6 },
);

describe('hostile bodies on the customer routes', () => {
  it('never answer 5xx, always the envelope, and a refusal writes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        body,
        fc.boolean(),
        async ([method, path], payload, withBearer) => {
          const before = snapshot();
          const res = await t.app.inject({
            method,
            url: `${BASE}${path.replace(':me', userId)}`,
            payload: JSON.stringify(payload),
            headers: {
              'content-type': 'application/json',
              ...(withBearer ? { authorization: `Bearer ${bearer}` } : {}),
            },
          });
          expect(res.statusCode).toBeLessThan(500);
          const json = res.json();
          expect(typeof json.success).toBe('boolean');
          if (res.statusCode >= 400) {
            expect(json).toMatchObject({ success: false, code: expect.stringMatching(/^[A-Z_]+$/) });
            expect(snapshot()).toBe(before);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
