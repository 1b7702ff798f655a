import { authMiddleware } from '@storefront-auth/sdk/next';
import { apiKey, authUrl, secure } from './lib/config';

// Every request (pages, server actions, route handlers) leaves here with a live pair: one
// refresh at most, cookies rotated, the refresh token in an HttpOnly cookie.
export const proxy = authMiddleware({ baseUrl: authUrl, apiKey, secure });

export const config = { matcher: ['/((?!_next/static|_next/image|favicon.ico).*)'] };
