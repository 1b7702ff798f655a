import { expect } from 'vitest';
import type { StorefrontSDK } from '../../src/index.js';

export const PASSWORD = 'correct horse battery';
/** Asks a development store (OTP_DEBUG) for the code in `data.otp`. */
export const DEBUG = { 'x-debug-mode': true } as const;
export const isCode = (otp: unknown) => typeof otp === 'string' && /^\d{6}$/.test(otp);

/** registerWithPassword with debug mode, then verifyOtp: a signed-in customer in this SDK. */
export async function signUp(sdk: StorefrontSDK, email: string) {
  const started = await sdk.auth.registerWithPassword(
    { email, password: PASSWORD, confirm_password: PASSWORD, first_name: 'Ada', last_name: 'Lovelace' },
    DEBUG,
  );
  expect(started.error).toBeNull();
  expect(isCode(started.data!.otp)).toBe(true);
  const verified = await sdk.auth.verifyOtp({
    otp: started.data!.otp!,
    otp_token: started.data!.otp_token,
    otp_action: 'register',
  });
  expect(verified.error).toBeNull();
  return verified.data!;
}
