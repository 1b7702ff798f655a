/** Where the auth server is, and how this app's cookies are written: one place for the proxy and the server code. */
export const authUrl = process.env.AUTH_URL ?? 'http://127.0.0.1:8080/api/v1/demo/storefront';
export const apiKey = process.env.API_KEY ?? 'dev-key-change-me-please';
/** Plain http on 127.0.0.1 in development; keep Secure cookies in production. */
export const secure = process.env.NODE_ENV === 'production' && !process.env.INSECURE_COOKIES;
/**
 * A development store started with OTP_DEBUG=true answers the one-time password itself (the
 * `x-debug-mode` header); this app then shows it, as no email is sent. Never in production.
 */
export const debugOtp = process.env.OTP_DEBUG === 'true';
