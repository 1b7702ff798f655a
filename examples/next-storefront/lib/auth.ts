import { createStorefrontSDK, type StorefrontSDK } from '@storefront-auth/sdk';
import { nextCookieStorage } from '@storefront-auth/sdk/next';
import { type AccessTokenClaims, verifyAccessToken } from '@storefront-auth/verify';
import { cookies } from 'next/headers';
import { cache } from 'react';
import { apiKey, authUrl, debugOtp, secure } from './config';

/**
 * An SDK over this request's cookies (`cookies()` from next/headers). In a server action or a
 * route handler, a pair an auth call answers (login, logout) is written back as cookies on the
 * response, the refresh token HttpOnly. The proxy already made the pair live: no lock, no timer.
 */
export async function serverSdk(): Promise<StorefrontSDK> {
  return createStorefrontSDK({
    baseUrl: authUrl,
    apiKey,
    tokenStorage: nextCookieStorage(await cookies(), { secure }),
    lock: false,
  });
}

/** The per-call header that asks a development store for the code in the answer. */
export const debugHeaders = debugOtp ? ({ 'x-debug-mode': true } as const) : undefined;

export interface Shopper {
  userId: string;
  isCustomer: boolean;
  /** The anonymous shopper this customer's session was carried over from. */
  anonymousId: string | null;
  email: string | null;
}

/** Verified claims of an access token (signature against the store's JWKS, iss, aud, exp), or null. */
export async function shopperOf(accessToken: string | undefined): Promise<Shopper | null> {
  if (!accessToken) return null;
  let claims: AccessTokenClaims;
  try {
    claims = await verifyAccessToken(accessToken, { store: authUrl, audience: 'storefront' });
  } catch {
    return null;
  }
  return {
    userId: claims.sub,
    isCustomer: claims.is_logged_in === true,
    anonymousId: claims.anonymous_id,
    email: claims.email,
  };
}

/** Who this request's cookies say the shopper is, verified: the cart is kept under this id. */
export const currentShopper = cache(async (): Promise<Shopper | null> => {
  const tokens = await nextCookieStorage(await cookies(), { secure }).getTokens();
  return shopperOf(tokens?.access_token);
});
