import type { OtpMessage, OtpSender } from './contract.js';

type LogFn = (fields: Record<string, unknown>, message: string) => void;

/**
 * For development: records that an OTP would have been sent, and to which channel, but never the
 * code nor the full address. Use `x-debug-mode: true` on a store with OTP debug on to see codes.
 */
export function logSender(log: LogFn): OtpSender {
  return {
    name: 'log',
    async send(message: OtpMessage) {
      log(
        {
          otp_delivery: message.deliveryId,
          store_id: message.storeId,
          channel: message.channel,
          action: message.action,
          to: 'email' in message.to ? maskEmail(message.to.email) : maskPhone(message.to.phone),
        },
        'otp not delivered (log sender: set OTP_WEBHOOK_URL to deliver)',
      );
    },
  };
}

function maskEmail(email: string): string {
  const at = email.indexOf('@');
  return `${email.slice(0, 1)}***${email.slice(at)}`;
}

function maskPhone(phone: string): string {
  return `***${phone.slice(-2)}`;
}
