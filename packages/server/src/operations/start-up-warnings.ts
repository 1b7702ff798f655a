import type { Config } from '../config.js';

/**
 * What an operator must hear about at start-up: settings that are fine on a laptop and dangerous
 * in production. Each is one line, logged as a warning by main.
 */
export function startUpWarnings(config: Config, keys: { unwrapped: number; notCurrent: number }): string[] {
  const warnings: string[] = [];
  if (!config.keyEncryptionKey && config.nodeEnv === 'production') {
    warnings.push(
      'KEY_ENCRYPTION_KEY is not set: every private signing key is stored in the database in plain text, ' +
        'and anyone who can read the database (a backup, a copied file) can mint valid tokens for every store. ' +
        'Set KEY_ENCRYPTION_KEY (openssl rand -base64 32), then run "storefront-auth keys rewrap" ' +
        'with KEY_ENCRYPTION_KEY_PREVIOUS=unencrypted. See docs/production.md.',
    );
  }
  if (config.keyEncryptionKey && keys.notCurrent > 0) {
    warnings.push(
      `${keys.notCurrent} signing key(s) are not yet under KEY_ENCRYPTION_KEY (${keys.unwrapped} stored unencrypted): ` +
        'run "storefront-auth keys rewrap", then drop KEY_ENCRYPTION_KEY_PREVIOUS.',
    );
  }
  if (config.otpDebug) {
    warnings.push(
      `OTP_DEBUG is on: requests with "x-debug-mode: true" get one-time passwords of store "${config.storeId}" in their responses. Development only.`,
    );
  }
  return warnings;
}
