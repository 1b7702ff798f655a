import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../../../verify/src/webhook.js';
import { anonymous, makeTestApp, refresh, type TestApp } from '../helpers/app.js';
import { call, PASSWORD } from '../helpers/customers.js';

interface Delivery {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A receiver that keeps every POST as delivered, raw, and lets a test wait for the n-th. */
async function startReceiver() {
  const deliveries: Delivery[] = [];
  let wake: (() => void) | undefined;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      deliveries.push({ path: req.url ?? '', headers: req.headers, body });
      res.writeHead(204).end();
      wake?.();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    deliveries,
    /** Resolves once a delivery to `path` has arrived (delivery may be queued after the answer). */
    async next(path: string): Promise<Delivery> {
      for (;;) {
        const found = deliveries.find((d) => d.path === path);
        if (found) return found;
        await new Promise<void>((r) => {
          wake = r;
        });
      }
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const receivers = new Set<{ close(): Promise<void> }>();
let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  for (const r of receivers) await r.close();
  receivers.clear();
});

const headersOf = (d: Delivery) => ({
  'webhook-id': String(d.headers['webhook-id']),
  'webhook-timestamp': String(d.headers['webhook-timestamp']),
  'webhook-signature': String(d.headers['webhook-signature']),
});

describe('Standard Webhooks: what we deliver verifies with the standardwebhooks package', () => {
  it('an OTP delivery and a security event, with a whsec_ secret and with a raw one', async () => {
    const receiver = await startReceiver();
    receivers.add(receiver);
    const otpSecret = `whsec_${randomBytes(24).toString('base64')}`;
    const eventSecret = 'a-plain-security-webhook-secret-0123';
    t = await makeTestApp({
      OTP_WEBHOOK_URL: `${receiver.url}/otp`,
      OTP_WEBHOOK_SECRET: otpSecret,
      SECURITY_WEBHOOK_URL: `${receiver.url}/events`,
      SECURITY_WEBHOOK_SECRET: eventSecret,
      LOG_LEVEL: 'silent',
    });
    // Receivers refuse deliveries more than five minutes from their own (real) clock.
    t.clock.ms = Date.now();

    const anon = (await anonymous(t.app)).body.content;
    const started = await call(
      t.app,
      'POST',
      '/auth/register/password',
      { email: 'sw@example.com', password: PASSWORD, confirm_password: PASSWORD, first_name: 'Sam' },
      { bearer: anon.access_token },
    );
    expect(started.status).toBe(200);
    const otp = await receiver.next('/otp');

    const receivedOtp = new Webhook(otpSecret).verify(otp.body, headersOf(otp)) as Record<string, unknown>;
    expect(receivedOtp).toMatchObject({ type: 'otp', to: { email: 'sw@example.com' } });
    expect(otp.headers['webhook-id']).toBe(receivedOtp['delivery_id']);
    await expect(verifyWebhook(otpSecret, otp.body, otp.headers)).resolves.toMatchObject({
      id: receivedOtp['delivery_id'],
    });

    // A reuse of a replaced refresh token revokes the session and reports it.
    await refresh(t.app, anon.refresh_token);
    t.clock.advance(60);
    expect((await refresh(t.app, anon.refresh_token)).body.code).toBe('REFRESH_TOKEN_REUSED');
    const event = await receiver.next('/events');
    const receivedEvent = new Webhook(eventSecret, { format: 'raw' }).verify(event.body, headersOf(event));
    expect(receivedEvent).toMatchObject({ type: 'refresh_token_reused', store_id: 'demo' });
    await expect(verifyWebhook(eventSecret, event.body, event.headers)).resolves.toBeTruthy();

    // Tampering, another secret and a replay under another id are all refused, by both verifiers.
    const tampered = event.body.replace('refresh_token_reused', 'session_revoked');
    expect(() => new Webhook(eventSecret, { format: 'raw' }).verify(tampered, headersOf(event))).toThrow();
    await expect(verifyWebhook(eventSecret, tampered, event.headers)).rejects.toThrow();
    expect(() => new Webhook(otpSecret).verify(event.body, headersOf(event))).toThrow();
    await expect(verifyWebhook(otpSecret, event.body, event.headers)).rejects.toThrow();
    const otherId = { ...headersOf(otp), 'webhook-id': 'another-id' };
    expect(() => new Webhook(otpSecret).verify(otp.body, otherId)).toThrow();
    await expect(verifyWebhook(otpSecret, otp.body, otherId)).rejects.toThrow();
  });
});
