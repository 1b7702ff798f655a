import type { FastifyBaseLogger } from 'fastify';
import type { SecurityEvent } from '../model.js';
import { randomId } from '../util/ids.js';
import { postSignedJson, type WebhookOptions } from '../util/webhook.js';

/**
 * Where security events go once stored: always a structured log line (warn), and, when
 * SECURITY_WEBHOOK_URL is set, a signed POST. Delivery never delays or fails the request that
 * caused the event; a delivery that fails after its retries is logged.
 */
export function securityEventSink(
  log: FastifyBaseLogger,
  webhook: WebhookOptions | undefined,
  onEvent?: (event: SecurityEvent) => void,
  onDeliveryFailed?: () => void,
): (event: SecurityEvent) => void {
  return (event) => {
    log.warn({ security_event: event }, `security event: ${event.type}`);
    onEvent?.(event);
    if (!webhook) return;
    const deliveryId = randomId(12);
    const body = JSON.stringify({
      type: event.type,
      delivery_id: deliveryId,
      store_id: event.storeId,
      session_id: event.sessionId,
      user_id: event.userId,
      detail: event.detail,
      created_at: new Date(event.createdAt).toISOString(),
    });
    postSignedJson(webhook, body, deliveryId).catch((error: Error) => {
      onDeliveryFailed?.();
      log.error(
        { delivery_id: deliveryId, type: event.type, reason: error.message },
        'security webhook failed',
      );
    });
  };
}
