import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-storefront-auth-signature';
export const DELIVERY_HEADER = 'x-storefront-auth-delivery';

/**
 * The signature header value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. The time is
 * signed with the body so a receiver can refuse replays of an old delivery.
 */
export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * What a receiver runs: true when `header` signs `body` with `secret`, no older than `toleranceSeconds`.
 * Compares in constant time.
 */
export function verifyWebhookSignature(
  secret: string,
  body: string,
  header: string | undefined,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!match) return false;
  const t = Number(match[1]);
  if (Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, body, t).slice(`t=${t},v1=`.length), 'hex');
  return timingSafeEqual(expected, Buffer.from(match[2]!, 'hex'));
}

export interface WebhookOptions {
  url: string;
  secret: string;
  /** Attempts in all, the first included. @default 3 */
  attempts?: number;
  /** Delay before the first retry, doubled after each, ms. @default 250 */
  backoffMs?: number;
  /** Per-attempt timeout, ms. @default 5000 */
  timeoutMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/**
 * POSTs a JSON body signed with an HMAC header. Network failures, timeouts, 429 and 5xx are
 * retried with exponential backoff under the same delivery id (so the receiver can dedupe); other
 * answers fail at once. Errors never carry the body.
 */
export async function postSignedJson(
  options: WebhookOptions,
  body: string,
  deliveryId: string,
): Promise<void> {
  const attempts = options.attempts ?? 3;
  const backoffMs = options.backoffMs ?? 250;
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  let last: DeliveryError | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, backoffMs * 2 ** (attempt - 1)));
    try {
      const response = await doFetch(options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: signWebhook(options.secret, body, Math.floor(now() / 1000)),
          [DELIVERY_HEADER]: deliveryId,
        },
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      });
      await response.body?.cancel();
      if (response.ok) return;
      last = new DeliveryError(
        `webhook answered ${response.status}`,
        response.status === 429 || response.status >= 500,
      );
    } catch (error) {
      last = new DeliveryError(`webhook unreachable: ${(error as Error).name}`, true);
    }
    if (!last.retryable) break;
  }
  throw last ?? new DeliveryError('webhook not attempted', false);
}
