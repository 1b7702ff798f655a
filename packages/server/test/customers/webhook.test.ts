import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../../../verify/src/webhook.js';
import type { OtpMessage } from '../../src/accounts/delivery/contract.js';
import { logSender } from '../../src/accounts/delivery/log.js';
import { signWebhook, webhookSender } from '../../src/accounts/delivery/webhook.js';

const message: OtpMessage = {
  deliveryId: 'd-1',
  storeId: 'demo',
  channel: 'email',
  action: 'login',
  to: { email: 'ada@example.com' },
  otp: '424242',
  expiresAt: Date.UTC(2026, 0, 1),
};

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

/** A receiver answering the given statuses in turn (the last one repeats). */
async function receiver(statuses: number[]) {
  const seen: Array<{ headers: Record<string, unknown>; body: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({ headers: req.headers, body });
      res.writeHead(statuses[Math.min(seen.length - 1, statuses.length - 1)]!).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  close = () => new Promise<void>((r) => server.close(() => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, seen };
}

describe('webhook sender', () => {
  it('signs the body as a Standard Webhook over id, time and body; the exported verifier accepts it', async () => {
    const r = await receiver([200]);
    await webhookSender({ url: r.url, secret: 's'.repeat(32) }).send(message);
    const [{ headers, body }] = r.seen as [{ headers: Record<string, string>; body: string }];
    expect(JSON.parse(body)).toMatchObject({
      otp: '424242',
      to: { email: 'ada@example.com' },
      otp_action: 'login',
    });
    expect(headers['webhook-id']).toBe('d-1');
    const now = () => Number(headers['webhook-timestamp']) * 1000;
    await expect(verifyWebhook('s'.repeat(32), body, headers, { now })).resolves.toMatchObject({ id: 'd-1' });
    const refused = (secret: string, b: string, h: Record<string, string>, at = now) =>
      expect(verifyWebhook(secret, b, h, { now: at })).rejects.toThrow();
    await refused('t'.repeat(32), body, headers);
    await refused('s'.repeat(32), `${body} `, headers);
    // The id is signed: a replay under another id is refused.
    await refused('s'.repeat(32), body, { ...headers, 'webhook-id': 'd-2' });
    // Replay protection: an old delivery is refused.
    await refused('s'.repeat(32), body, headers, () => now() + 301_000);
    await refused('s'.repeat(32), body, { ...headers, 'webhook-signature': 'garbage' });
    expect(signWebhook('k', 'id', 'b', 1)).toEqual({
      'webhook-id': 'id',
      'webhook-timestamp': '1',
      'webhook-signature': expect.stringMatching(/^v1,[A-Za-z0-9+/]{43}=$/),
    });
  });

  it('retries 5xx and 429 with the same delivery id, then succeeds', async () => {
    const r = await receiver([500, 429, 204]);
    await webhookSender({ url: r.url, secret: 'x'.repeat(32), backoffMs: 1 }).send(message);
    expect(r.seen).toHaveLength(3);
    expect(new Set(r.seen.map((s) => s.headers['webhook-id']))).toEqual(new Set(['d-1']));
  });

  it('gives up after its attempts, and does not retry a 4xx', async () => {
    const failing = await receiver([503]);
    await expect(
      webhookSender({ url: failing.url, secret: 'x'.repeat(32), backoffMs: 1, attempts: 3 }).send(message),
    ).rejects.toThrow('503');
    expect(failing.seen).toHaveLength(3);
    await close?.();
    const refusing = await receiver([400]);
    await expect(
      webhookSender({ url: refusing.url, secret: 'x'.repeat(32), backoffMs: 1 }).send(message),
    ).rejects.toThrow('400');
    expect(refusing.seen).toHaveLength(1);
  });
});

describe('log sender', () => {
  it('records the delivery without the code or the full address', async () => {
    const lines: string[] = [];
    await logSender((fields, msg) => lines.push(JSON.stringify({ ...fields, msg }))).send(message);
    await logSender((fields, msg) => lines.push(JSON.stringify({ ...fields, msg }))).send({
      ...message,
      channel: 'sms',
      to: { phone: '9876543210', countryCode: '+91' },
    });
    const text = lines.join('\n');
    expect(lines).toHaveLength(2);
    expect(text).not.toContain('424242');
    expect(text).not.toContain('ada@example.com');
    expect(text).not.toContain('9876543210');
    expect(text).toContain('a***@example.com');
  });
});
