import { authMiddleware } from '@storefront-auth/sdk/next';

// Every page request leaves here with a live pair: one refresh at most, cookies rotated.
export const proxy = authMiddleware({
  baseUrl: process.env.AUTH_URL ?? 'http://127.0.0.1:8080/api/v1/demo/storefront',
  apiKey: process.env.API_KEY ?? 'dev-key-change-me-please',
  // Plain http on 127.0.0.1 in development; keep Secure cookies in production.
  secure: process.env.NODE_ENV === 'production' && !process.env.INSECURE_COOKIES,
});

export const config = { matcher: ['/((?!_next/static|_next/image|favicon.ico).*)'] };
