/**
 * The receiving side of our webhooks (OTP delivery, security events), which follow Standard
 * Webhooks: `webhook-id`, `webhook-timestamp` (unix seconds) and `webhook-signature`
 * (`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<raw body>">`, space-separated when several).
 * WebCrypto only, so it runs in Node.js and edge runtimes alike.
 */

export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
}

export interface WebhookVerifyOptions {
  /** Largest distance between `webhook-timestamp` and now, seconds (replays). @default 300 */
  toleranceSeconds?: number;
  /** Milliseconds since the epoch. @default Date.now */
  now?: () => number;
}

/** Headers as a Fetch `Headers`, or Node's `IncomingHttpHeaders` (lower-case names). */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

const SECRET_PREFIX = 'whsec_';

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value[0] : value;
}

function base64ToBytes(base64: string): Uint8Array<ArrayBuffer> | null {
  try {
    const binary = atob(base64);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return null;
  }
}

/**
 * Checks a delivery and resolves to its id (dedupe on it: retries of one message share it) and
 * time; rejects with `WebhookVerificationError` when a header is missing, the time is outside
 * the tolerance, or no signature matches. `secret` is the configured one as is: a `whsec_`
 * secret is base64, any other string is used as raw bytes. Verify the raw body, before parsing.
 */
export async function verifyWebhook(
  secret: string,
  body: string | Uint8Array,
  headers: WebhookHeaders,
  options: WebhookVerifyOptions = {},
): Promise<{ id: string; timestamp: number }> {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) throw new WebhookVerificationError('Missing webhook headers.');
  if (!/^\d{1,12}$/.test(timestamp)) throw new WebhookVerificationError('Invalid webhook-timestamp.');
  const seconds = Number(timestamp);
  const now = (options.now ?? Date.now)() / 1000;
  if (Math.abs(now - seconds) > (options.toleranceSeconds ?? 300))
    throw new WebhookVerificationError('webhook-timestamp is too far from now.');

  const keyBytes = secret.startsWith(SECRET_PREFIX)
    ? base64ToBytes(secret.slice(SECRET_PREFIX.length))
    : new TextEncoder().encode(secret);
  if (!keyBytes?.length) throw new WebhookVerificationError('The webhook secret is not valid.');
  const key = await crypto.subtle.importKey('raw', keyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'verify',
  ]);
  const bodyBytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  const prefix = new TextEncoder().encode(`${id}.${timestamp}.`);
  const signed = new Uint8Array(prefix.length + bodyBytes.length);
  signed.set(prefix);
  signed.set(bodyBytes, prefix.length);
  for (const entry of signatures.split(' ')) {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || !value) continue;
    const mac = base64ToBytes(value);
    // subtle.verify compares in constant time.
    if (mac && (await crypto.subtle.verify('HMAC', key, mac, signed))) return { id, timestamp: seconds };
  }
  throw new WebhookVerificationError('No webhook signature matches.');
}
