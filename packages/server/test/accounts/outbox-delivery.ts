import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook } from '../../../verify/src/webhook.js';

export const SECRET = 'outbox-webhook-secret-0123456789';

/** A real OTP receiver that can be down (503) or up; it keeps every verified delivery it accepted. */
export async function switchableReceiver() {
  const accepted: Array<{ id: string; email: string }> = [];
  let refused = 0;
  let up = false;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', async () => {
      let id: string;
      try {
        ({ id } = await verifyWebhook(SECRET, body, req.headers));
      } catch {
        res.writeHead(401).end();
        return;
      }
      if (!up) {
        refused++;
        res.writeHead(503).end();
        return;
      }
      const parsed = JSON.parse(body);
      accepted.push({ id, email: parsed.to.email });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/otp`,
    accepted,
    refused: () => refused,
    setUp(value: boolean) {
      up = value;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Polls `check` until it holds; a generous deadline only stops a test that would never end. */
export async function eventually(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Asks `url` for OTP logins to c0..c{n-1}@example.com, 20 per forwarded client address (the per-address limit). */
export async function sendLogins(urls: string[], n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${urls[i % urls.length]}/api/v1/demo/storefront/auth/login/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': `10.0.${Math.floor(i / 20)}.1` },
      body: JSON.stringify({ email: `c${i}@example.com`, register_if_not_exists: true }),
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status !== 200) throw new Error(`login/email answered ${res.status}: ${await res.text()}`);
  }
}

/** Every one of the n addresses got exactly one delivery. */
export function deliveredOncePerAddress(accepted: Array<{ id: string; email: string }>, n: number): boolean {
  const ids = new Set(accepted.map((a) => a.id));
  const emails = new Set(accepted.map((a) => a.email));
  return accepted.length === n && ids.size === n && emails.size === n;
}

/** The environment of a server whose OTPs go to `receiverUrl`, limits per forwarded address. */
export function outboxEnv(databaseUrl: string, receiverUrl: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    API_KEY: 'outbox-api-key-0123456789',
    OTP_WEBHOOK_URL: receiverUrl,
    OTP_WEBHOOK_SECRET: SECRET,
    TRUST_PROXY: '1',
  };
}
