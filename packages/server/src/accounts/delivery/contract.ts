import type { OtpAction } from '../../model.js';

/** One OTP to deliver: the sender turns it into an email, SMS or WhatsApp message. */
export interface OtpMessage {
  /** Unique per OTP: a receiver dedupes retried deliveries on it. */
  deliveryId: string;
  storeId: string;
  channel: 'email' | 'sms' | 'whatsapp';
  action: OtpAction;
  /** Where to send it. */
  to: { email: string } | { phone: string; countryCode: string };
  otp: string;
  expiresAt: number;
}

/** Delivers OTPs. `send` resolves once delivered (or accepted for delivery) and rejects otherwise. */
export interface OtpSender {
  readonly name: string;
  send(message: OtpMessage): Promise<void>;
}
