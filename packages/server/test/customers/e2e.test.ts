import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../../../verify/src/webhook.js';
import type { SqliteDatabase } from '../../src/storage/sqlite/store.js';
import { API_KEY, claims, makeTestApp, type TestApp } from '../helpers/app.js';
import { PASSWORD } from '../helpers/customers.js';
import { expectMatchesSpec } from '../helpers/openapi.js';

const SECRET = 'webhook-secret-for-tests-0123456789';

/** A real OTP receiver: checks each delivery's HMAC and keeps the verified ones. */
async function startReceiver() {
  const deliveries: Array<Record<string, any>> = [];
  const refused: string[] = [];
  const waiters: Array<() => void> = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', async () => {
      try {
        await verifyWebhook(SECRET, body, req.headers);
      } catch {
        refused.push(body);
        res.writeHead(401).end();
        return;
      }
      deliveries.push(JSON.parse(body));
      res.writeHead(204).end();
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/otp`,
    deliveries,
    refused,
    /** The code last delivered to `email`, once it is (the outbox delivers after the answer). */
    async codeFor(email: string): Promise<string> {
      for (;;) {
        const found = deliveries.filter((d) => d['to']?.email === email).at(-1);
        if (found) return found['otp'];
        await new Promise<void>((r) => waiters.push(r));
      }
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

let t: TestApp | undefined;
let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;
afterEach(async () => {
  await t?.close();
  await receiver?.close();
});

describe('customer lifecycle over real HTTP, OTP through a real webhook', () => {
  it('anonymous -> register -> verify -> refresh -> change password ends device 2 -> logout', async () => {
    receiver = await startReceiver();
    t = await makeTestApp({ OTP_WEBHOOK_URL: receiver.url, OTP_WEBHOOK_SECRET: SECRET });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = t.app.server.address() as AddressInfo;
    const base = `http://127.0.0.1:${port}/api/v1/demo/storefront`;
    const post = async (path: string, body?: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

    // 1. An anonymous shopper.
    const anon = await post('/auth/anonymous', undefined, { 'x-api-key': API_KEY });
    expect(anon.status).toBe(200);
    const anonUser = anon.body.content.user.id;

    // 2. Registers with a password; the code arrives at the webhook, signed.
    const email = 'e2e@example.com';
    const started = await post(
      '/auth/register/password',
      { email, password: PASSWORD, confirm_password: PASSWORD, first_name: 'Eve' },
      { ...bearer(anon.body.content.access_token), 'x-debug-mode': 'true' },
    );
    expect(started.status).toBe(200);
    expectMatchesSpec('register-with-password', 200, started.body);
    expect(started.body.content).not.toHaveProperty('otp'); // debug mode is off for this store
    expect(receiver.refused).toEqual([]);
    const code = await receiver.codeFor(email);
    expect(code).toMatch(/^\d{6}$/);
    expect(receiver.deliveries.at(-1)).toMatchObject({
      type: 'otp',
      store_id: 'demo',
      channel: 'email',
      otp_action: 'register',
    });

    // 3. Verifies: a customer session that grew from the anonymous one.
    const verified = await post(
      '/auth/verify-otp',
      { otp: code, otp_token: started.body.content.otp_token, otp_action: 'register' },
      bearer(anon.body.content.access_token),
    );
    expect(verified.status).toBe(200);
    expectMatchesSpec('verify-otp', 200, verified.body);
    const customer = verified.body.content;
    expect(claims(customer.access_token)).toMatchObject({
      is_logged_in: true,
      is_anonymous: false,
      anonymous_id: anonUser,
      customer_id: customer.user.customer_id,
      email,
      first_name: 'Eve',
    });
    // The anonymous session is over (no fixation).
    expect(
      (await post('/auth/refresh-token', { refresh_token: anon.body.content.refresh_token })).body.code,
    ).toBe('SESSION_REVOKED');

    // 4. Refresh keeps the customer identity.
    const refreshed = await post('/auth/refresh-token', { refresh_token: customer.refresh_token });
    expect(refreshed.status).toBe(200);
    const device1 = refreshed.body.content;
    expect(claims(device1.access_token)).toMatchObject({
      ulid: customer.user.id,
      customer_id: customer.user.customer_id,
      is_logged_in: true,
      anonymous_id: anonUser,
    });

    // 5. A second device logs in; changing the password on the first ends it.
    const device2 = (await post('/auth/login/password', { email, password: PASSWORD })).body.content;
    const changed = await post(
      '/auth/change-password',
      {
        old_password: PASSWORD,
        new_password: 'a whole new passphrase',
        confirm_password: 'a whole new passphrase',
      },
      bearer(device1.access_token),
    );
    expect(changed.status).toBe(200);
    expectMatchesSpec('change-password', 200, changed.body);
    const d2 = await post('/auth/refresh-token', { refresh_token: device2.refresh_token });
    expect(d2.status).toBe(400);
    expect(d2.body.code).toBe('SESSION_REVOKED');

    // 6. Logout: the old refresh token is refused, the fresh anonymous pair works.
    const out = await post('/auth/logout', undefined, bearer(changed.body.content.access_token));
    expect(out.status).toBe(200);
    expectMatchesSpec('logout', 200, out.body);
    expect(out.body.content.user.is_anonymous).toBe(true);
    const old = await post('/auth/refresh-token', { refresh_token: changed.body.content.refresh_token });
    expect(old.status).toBe(400);
    expect(old.body.code).toBe('SESSION_REVOKED');
    const fresh = await post('/auth/refresh-token', { refresh_token: out.body.content.refresh_token });
    expect(fresh.status).toBe(200);
    expect(claims(fresh.body.content.access_token)).toMatchObject({
      is_anonymous: true,
      is_logged_in: false,
    });

    // Nothing secret reached the log.
    const logs = t.logs.join('\n');
    expect(logs).not.toContain(code);
    expect(logs).not.toContain(PASSWORD);
  });

  it('a failing webhook does not change the answer: the outbox keeps retrying, then gives up with a metric, a log line and a security event', async () => {
    t = await makeTestApp({
      OTP_WEBHOOK_URL: 'http://127.0.0.1:1/nothing-listens',
      OTP_WEBHOOK_SECRET: SECRET,
    });
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/demo/storefront/auth/register/email',
      payload: { email: 'x@example.com', first_name: 'X' },
    });
    expect(res.statusCode).toBe(200);
    expectMatchesSpec('register-with-email', 200, res.json());
    const outcomes = async () => {
      const metrics = await t!.app.inject({ method: 'GET', url: '/metrics' });
      return metrics.body;
    };
    // Tries until the code expires (10 minutes on the test clock), then gives up.
    while (!(await outcomes()).includes('storefront_auth_otp_deliveries_total{outcome="retrying"}')) {
      await new Promise((r) => setTimeout(r, 20));
    }
    t.clock.advance(601);
    while (!(await outcomes()).includes('storefront_auth_otp_deliveries_total{outcome="failed"} 1')) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const events = (t.db as SqliteDatabase).sqlite
      .prepare("SELECT type FROM security_events WHERE type = 'otp_delivery_failed'")
      .all();
    expect(events).toHaveLength(1);
    const row = (t.db as SqliteDatabase).sqlite.prepare('SELECT outcome, payload FROM outbox').get();
    expect(row).toEqual({ outcome: 'failed', payload: '{}' });
    expect(t.logs.join('\n')).toContain('otp delivery given up');
  });
});
