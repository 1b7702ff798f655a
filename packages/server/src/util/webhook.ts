import { createHmac } from 'node:crypto';

/**
 * Standard Webhooks: any receiver library of that specification verifies what we send. The
 * signature is `v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`; the id and
 * time are signed with the body, so a receiver can dedupe retries and refuse replays.
 */
export const WEBHOOK_ID_HEADER = 'webhook-id';
export const WEBHOOK_TIMESTAMP_HEADER = 'webhook-timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'webhook-signature';

const SECRET_PREFIX = 'whsec_';

/**
 * The HMAC key of a configured secret: a `whsec_<base64>` secret (the Standard Webhooks form) is
 * its decoded bytes; any other string is its own UTF-8 bytes (receivers pass it with
 * `{ format: 'raw' }`).
 */
function webhookKey(secret: string): Buffer {
  return secret.startsWith(SECRET_PREFIX)
    ? Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64')
    : Buffer.from(secret, 'utf8');
}

/** The three Standard Webhooks headers that sign `body` as message `id` sent at `unixSeconds`. */
export function signWebhook(
  secret: string,
  id: string,
  body: string,
  unixSeconds: number,
): Record<
  typeof WEBHOOK_ID_HEADER | typeof WEBHOOK_TIMESTAMP_HEADER | typeof WEBHOOK_SIGNATURE_HEADER,
  string
> {
  const mac = createHmac('sha256', webhookKey(secret))
    .update(`${id}.${unixSeconds}.${body}`)
    .digest('base64');
  return {
    [WEBHOOK_ID_HEADER]: id,
    [WEBHOOK_TIMESTAMP_HEADER]: String(unixSeconds),
    [WEBHOOK_SIGNATURE_HEADER]: `v1,${mac}`,
  };
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
 * POSTs a JSON body signed as a Standard Webhook. Network failures, timeouts, 429 and 5xx are
 * retried with exponential backoff under the same delivery id (`webhook-id`, so the receiver can
 * dedupe), each attempt signed at its own time; other answers fail at once. Errors never carry
 * the body.
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
          ...signWebhook(options.secret, deliveryId, body, Math.floor(now() / 1000)),
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
