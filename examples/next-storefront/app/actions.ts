'use server';

import { revalidatePath } from 'next/cache';
import { currentShopper, debugHeaders, serverSdk, shopperOf } from '../lib/auth';
import { addToCart, isSku, mergeCart } from '../lib/carts';

export type CodeSent = { otpToken: string; debugOtp: string | null } | { error: string };

/** Adds one of a product to this shopper's cart (anonymous or customer). */
export async function addItem(formData: FormData): Promise<void> {
  const shopper = await currentShopper();
  const sku = formData.get('sku');
  if (!shopper || !isSku(sku)) return;
  addToCart(shopper.userId, sku);
  revalidatePath('/');
}

const text = (formData: FormData, name: string) => String(formData.get(name) ?? '').trim();

/** Sends a registration code to the email; the account exists once verifyCode spends it. */
export async function startRegister(formData: FormData): Promise<CodeSent> {
  const sdk = await serverSdk();
  try {
    const sent = await sdk.auth.registerWithEmail(
      { email: text(formData, 'email'), first_name: text(formData, 'first_name') },
      debugHeaders,
    );
    if (sent.error) return { error: sent.error.message };
    return { otpToken: sent.data.otp_token, debugOtp: sent.data.otp ?? null };
  } finally {
    sdk.dispose();
  }
}

/** Sends a login code to the email of an existing account. */
export async function startLogin(formData: FormData): Promise<CodeSent> {
  const sdk = await serverSdk();
  try {
    const sent = await sdk.auth.loginWithEmail({ email: text(formData, 'email') }, debugHeaders);
    if (sent.error) return { error: sent.error.message };
    return { otpToken: sent.data.otp_token, debugOtp: sent.data.otp ?? null };
  } finally {
    sdk.dispose();
  }
}

/**
 * Spends the code. The SDK presents the anonymous shopper's access token, so the server carries
 * that shopper's id into the customer session (`anonymous_id`), and writes the customer's pair as
 * this action's cookies (the refresh token HttpOnly) through `cookies()`. The cart follows.
 */
export async function verifyCode(
  otpToken: string,
  otp: string,
  action: 'register' | 'login',
): Promise<{ ok: true } | { error: string }> {
  const sdk = await serverSdk();
  try {
    const verified = await sdk.auth.verifyOtp({ otp_token: otpToken, otp, otp_action: action });
    if (verified.error) return { error: verified.error.message };
    const customer = await shopperOf(verified.data.access_token);
    if (customer?.anonymousId) mergeCart(customer.anonymousId, customer.userId);
    revalidatePath('/');
    return { ok: true };
  } finally {
    sdk.dispose();
  }
}
