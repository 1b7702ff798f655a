import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BASE, makeTestApp, type TestApp } from '../helpers/app.js';
import { expectMatchesSpec } from '../helpers/openapi.js';

const SECRET = 'enumeration-webhook-secret-0123';

/** A real webhook on 127.0.0.1 that answers slowly (150 ms) or always fails. */
async function webhook(mode: 'slow' | 'failing'): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () =>
      mode === 'slow' ? setTimeout(() => res.writeHead(204).end(), 150) : res.writeHead(503).end(),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/otp`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Everything of an answer but the random token: what an observer could compare. */
function shape(res: { statusCode: number; json(): any }) {
  const body = res.json();
  return {
    status: res.statusCode,
    keys: Object.keys(body).sort(),
    message: body.message,
    code: body.code,
    contentKeys: Object.keys(body.content ?? {}).sort(),
    action: body.content?.otp_action,
    tokenLength: body.content?.otp_token?.length,
  };
}

describe('account enumeration through OTP delivery (regression)', () => {
  let t: TestApp | undefined;
  let hook: Awaited<ReturnType<typeof webhook>> | undefined;
  afterEach(async () => {
    await t?.close();
    await hook?.close();
  });

  for (const mode of ['slow', 'failing'] as const) {
    it(`forgot-password and login-by-OTP answer alike for existing and unknown identifiers, ${mode} webhook`, async () => {
      hook = await webhook(mode);
      t = await makeTestApp({ OTP_WEBHOOK_URL: hook.url, OTP_WEBHOOK_SECRET: SECRET, TRUST_PROXY: '1' });
      // A customer, made directly: with this webhook no code could be read back.
      await t.db.createAccount({
        user: {
          id: 'known-user',
          storeId: 'demo',
          isAnonymous: false,
          email: 'known@example.com',
          phone: '9876500002',
          countryCode: '+91',
          firstName: null,
          lastName: null,
          customerId: 'cus-known',
          customerGroupId: null,
          isEmailVerified: true,
          isPhoneVerified: true,
          createdAt: t.clock.now(),
          modifiedAt: t.clock.now(),
        },
        passwordHash: null,
        status: 'active',
        loginMethods: ['email'],
        notificationPreferences: null,
        profileImageEtag: null,
      });
      let ip = 0;
      const send = (path: string, payload: object) =>
        t!.app.inject({
          method: 'POST',
          url: `${BASE}${path}`,
          payload,
          headers: { 'x-forwarded-for': `10.1.0.${++ip}` },
        });
      const requests: Array<[string, string, object, object]> = [
        [
          'forgot-password',
          '/auth/forgot-password',
          { email: 'known@example.com' },
          { email: 'nobody@example.com' },
        ],
        [
          'login-with-email',
          '/auth/login/email',
          { email: 'known@example.com' },
          { email: 'nobody@example.com' },
        ],
        [
          'login-with-phone',
          '/auth/login/phone',
          { phone: '9876500002', country_code: '+91' },
          { phone: '9876500003', country_code: '+91' },
        ],
      ];
      for (const [operationId, path, known, unknown] of requests) {
        const a = await send(path, known);
        const b = await send(path, unknown);
        expect(a.statusCode, a.body).toBe(200);
        expectMatchesSpec(operationId, 200, a.json());
        expect(shape(b)).toEqual(shape(a));
      }
    });
  }
});
