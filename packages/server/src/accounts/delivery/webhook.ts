import { postSignedJson, type WebhookOptions } from '../../util/webhook.js';
import type { OtpMessage, OtpSender } from './contract.js';

// The signing scheme is shared with the security-event webhook (util/webhook.ts).
export { signWebhook, type WebhookOptions } from '../../util/webhook.js';

/** The JSON a receiver gets. */
export function webhookBody(message: OtpMessage): string {
  return JSON.stringify({
    type: 'otp',
    delivery_id: message.deliveryId,
    store_id: message.storeId,
    channel: message.channel,
    otp_action: message.action,
    to:
      'email' in message.to
        ? { email: message.to.email }
        : { phone: message.to.phone, country_code: message.to.countryCode },
    otp: message.otp,
    expires_at: new Date(message.expiresAt).toISOString(),
  });
}

/**
 * Production sender: POSTs the OTP as JSON to the configured URL, signed as a Standard Webhook and
 * retried on network failures, timeouts, 429 and 5xx under one delivery id (util/webhook.ts).
 */
export function webhookSender(options: WebhookOptions): OtpSender {
  return {
    name: 'webhook',
    send: (message: OtpMessage) => postSignedJson(options, webhookBody(message), message.deliveryId),
  };
}
