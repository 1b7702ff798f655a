import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('customer configuration', () => {
  it('defaults: log sender, OTP debug off', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ otpWebhookUrl: undefined, otpWebhookSecret: undefined, otpDebug: false });
  });

  it('refuses OTP_DEBUG=true when NODE_ENV=production, with a clear message', () => {
    expect(() => loadConfig({ OTP_DEBUG: 'true', NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => loadConfig({ OTP_DEBUG: 'true', NODE_ENV: 'production' })).toThrow(
      /OTP_DEBUG.*NODE_ENV=production/,
    );
    expect(loadConfig({ OTP_DEBUG: 'true', NODE_ENV: 'development' }).otpDebug).toBe(true);
    expect(loadConfig({ OTP_DEBUG: 'false', NODE_ENV: 'production' }).otpDebug).toBe(false);
  });

  it('needs OTP_WEBHOOK_SECRET with OTP_WEBHOOK_URL, and a real URL', () => {
    expect(() => loadConfig({ OTP_WEBHOOK_URL: 'https://hooks.example.com/otp' })).toThrow(
      /OTP_WEBHOOK_SECRET/,
    );
    expect(() => loadConfig({ OTP_WEBHOOK_URL: 'ftp://x', OTP_WEBHOOK_SECRET: 'x'.repeat(32) })).toThrow(
      /OTP_WEBHOOK_URL/,
    );
    expect(() =>
      loadConfig({ OTP_WEBHOOK_URL: 'https://h.example.com', OTP_WEBHOOK_SECRET: 'short' }),
    ).toThrow(/OTP_WEBHOOK_SECRET/);
    const ok = loadConfig({
      OTP_WEBHOOK_URL: 'https://h.example.com/otp',
      OTP_WEBHOOK_SECRET: 'x'.repeat(32),
    });
    expect(ok.otpWebhookUrl).toBe('https://h.example.com/otp');
  });
});
